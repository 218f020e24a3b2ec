/**
 * Local embedding servers for tests: plain HTTP servers on 127.0.0.1 (port 0) that speak OpenAI's
 * `POST /v1/embeddings` and Ollama's `POST /api/embed` closely enough for the real `OpenAIEmbeddings`
 * and `OllamaEmbeddings` clients. Vectors are deterministic: a hashed bag of "concepts", where a small
 * table of synonyms maps words to one concept — so "peruse the manuscript" lands next to "read a file"
 * though the two share no word, which is what a ranking by meaning adds over a lexical one.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Dimensions of the fake vectors. */
export const FAKE_DIMENSION = 64;

/** Words that mean the same concept to the fake model. */
const SYNONYMS: Record<string, string> = {
  peruse: 'read',
  reading: 'read',
  reads: 'read',
  manuscript: 'file',
  document: 'file',
  documents: 'file',
  files: 'file',
  folder: 'directory',
  folders: 'directory',
  directories: 'directory',
  catalogue: 'list',
  enumerate: 'list',
  listing: 'list',
};

/** The fake model's vector of `text` (not normalised: the gateway normalises what it receives). */
export function fakeVector(text: string): number[] {
  const vector = new Array<number>(FAKE_DIMENSION).fill(0);
  // A small constant part: no text, however odd, gives a zero vector.
  vector[0] = 0.01;
  for (const word of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (word.length < 3) continue;
    const concept = SYNONYMS[word] ?? word;
    let hash = 2166136261;
    for (let i = 0; i < concept.length; i++) hash = Math.imul(hash ^ concept.charCodeAt(i), 16777619);
    vector[1 + ((hash >>> 0) % (FAKE_DIMENSION - 1))]! += 1;
  }
  return vector;
}

/** One request a fake embedding server received. */
export interface EmbeddingRequest {
  path: string;
  headers: IncomingMessage['headers'];
  model: string;
  /** The texts to embed. */
  inputs: string[];
}

/** How the server answers: vectors, an HTTP error, or nothing until it closes. */
export type EmbeddingAnswer = 'vectors' | { status: number } | 'hang';

/** A running fake embedding server. */
export interface FakeEmbeddingServer {
  /** For `selector.embeddings.baseUrl`: ends in /v1 for the OpenAI protocol, the host for Ollama's. */
  baseUrl: string;
  requests: EmbeddingRequest[];
  /** Decides each answer; replace it between calls. */
  answer: (request: EmbeddingRequest) => EmbeddingAnswer;
  /** Every text embedded so far, in order. */
  inputs(): string[];
  close(): Promise<void>;
}

/** An OpenAI-compatible embeddings server. */
export function startFakeOpenAiEmbeddings(): Promise<FakeEmbeddingServer> {
  return start('openai');
}

/** An Ollama embeddings server. */
export function startFakeOllamaEmbeddings(): Promise<FakeEmbeddingServer> {
  return start('ollama');
}

async function start(protocol: 'openai' | 'ollama'): Promise<FakeEmbeddingServer> {
  const path = protocol === 'openai' ? '/v1/embeddings' : '/api/embed';
  const hanging = new Set<() => void>();
  const fake: FakeEmbeddingServer = {
    baseUrl: '',
    requests: [],
    answer: () => 'vectors',
    inputs: () => fake.requests.flatMap((request) => request.inputs),
    close: async () => {
      for (const end of hanging) end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== path) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      const body = JSON.parse(text) as { model: string; input: string | string[] };
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const request: EmbeddingRequest = { path: req.url, headers: req.headers, model: body.model, inputs };
      fake.requests.push(request);
      const answer = fake.answer(request);
      if (answer === 'hang') {
        const end = () => res.destroy();
        hanging.add(end);
        res.on('close', () => hanging.delete(end));
        return;
      }
      if (answer !== 'vectors') {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end('{"error":{"message":"the model is down"}}');
        return;
      }
      const vectors = inputs.map(fakeVector);
      const reply =
        protocol === 'openai'
          ? {
              object: 'list',
              model: body.model,
              data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
              usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
            }
          : { model: body.model, embeddings: vectors };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  fake.baseUrl = `http://127.0.0.1:${port}${protocol === 'openai' ? '/v1' : ''}`;
  return fake;
}
