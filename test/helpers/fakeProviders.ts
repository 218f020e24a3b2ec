/**
 * Local model servers for integration tests: plain HTTP servers on 127.0.0.1 (port 0) that speak the
 * OpenAI chat-completions protocol, Anthropic's messages API and Ollama's /api/chat closely enough for
 * the real `@langchain/openai`, `@langchain/anthropic` and `@langchain/ollama` clients. Each records what it received (headers, body,
 * the prompt's text and the candidate names listed in it) and answers as the test says: a choice of
 * names (as a forced tool call or as json_schema content, whichever the client asked for), garbage,
 * an HTTP error, or nothing at all.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake model server received. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The system text. */
  system: string;
  /** The user text (task, profile, candidates). */
  user: string;
  /** Names of the candidates listed in the prompt, in order. */
  candidates: string[];
}

/** How the fake model answers one request. */
export type FakeModelAnswer =
  | { choose: string[] }
  /** Text that is not the answer's schema. */
  | { garbage: string }
  | { status: number; message: string }
  /** Never answers (until the server closes). */
  | { hang: true };

/** A running fake model server. */
export interface FakeModelServer {
  /** The base URL to put in `selector.llm.baseUrl`. */
  baseUrl: string;
  requests: ReceivedRequest[];
  /** Decides each answer; replace it between calls. */
  answer: (request: ReceivedRequest) => FakeModelAnswer;
  close(): Promise<void>;
}

/** Token usage every fake answer reports. */
export const FAKE_USAGE = { input: 321, output: 12 };

/** An OpenAI-compatible server (`POST …/chat/completions`); `baseUrl` ends in /v1 like OpenAI's. */
export function startFakeOpenAi(answer: FakeModelServer['answer']): Promise<FakeModelServer> {
  return startServer({ suffix: '/chat/completions', base: '/v1', answer, respond: openAiResponse });
}

/** An Ollama server (`POST /api/chat`, answered as the NDJSON stream the client asks for). */
export function startFakeOllama(answer: FakeModelServer['answer']): Promise<FakeModelServer> {
  return startServer({ suffix: '/api/chat', base: '', answer, respond: ollamaResponse, streams: true });
}

/** An Anthropic-compatible server (`POST /v1/messages`); `baseUrl` is the host, as the SDK appends /v1. */
export function startFakeAnthropic(answer: FakeModelServer['answer']): Promise<FakeModelServer> {
  return startServer({ suffix: '/messages', base: '', answer, respond: anthropicResponse });
}

/** The "reasonable model" of the tests: the listed candidates in reverse order, at most `count`. */
export function reverseCandidates(count: number): FakeModelServer['answer'] {
  return (request) => ({ choose: [...request.candidates].reverse().slice(0, count) });
}

/** A protocol's reply: one JSON body, or (`lines`) a stream of newline-delimited JSON objects. */
type Respond = (
  request: ReceivedRequest,
  answer: Exclude<FakeModelAnswer, { hang: true }>,
) => { status: number; body: unknown; lines?: unknown[] };

async function startServer({
  suffix,
  base,
  answer,
  respond,
  streams = false,
}: {
  suffix: string;
  base: string;
  answer: FakeModelServer['answer'];
  respond: Respond;
  /** The protocol streams its answers (Ollama); the others must not ask for a stream. */
  streams?: boolean;
}): Promise<FakeModelServer> {
  const requests: ReceivedRequest[] = [];
  const fake: FakeModelServer = { baseUrl: '', requests, answer, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || !req.url?.endsWith(suffix)) {
      send(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    if (body.stream === true && !streams) {
      send(res, 400, { error: { message: 'streaming is not supported by this fake' } });
      return;
    }
    const request = describe(req, body);
    requests.push(request);
    const decided = fake.answer(request);
    if ('hang' in decided) return;
    const { status, body: payload, lines } = respond(request, decided);
    if (lines) {
      res.writeHead(status, { 'content-type': 'application/x-ndjson' });
      res.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    } else send(res, status, payload);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.baseUrl = `http://127.0.0.1:${port}${base}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The prompt's parts, whichever protocol carried them. */
function describe(req: IncomingMessage, body: Record<string, unknown>): ReceivedRequest {
  const messages = (body.messages ?? []) as { role: string; content: unknown }[];
  const textOf = (content: unknown): string =>
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content.map((part) => (part as { text?: string }).text ?? '').join('')
        : '';
  const system = [textOf(body.system), ...messages.filter((m) => m.role === 'system').map((m) => textOf(m.content))].join('');
  const user = messages
    .filter((m) => m.role === 'user')
    .map((m) => textOf(m.content))
    .join('\n');
  const candidates = [...user.matchAll(/^\d+\. ([^:\s]+):/gm)].map((match) => match[1]!);
  return { path: req.url ?? '', headers: req.headers, body, system, user, candidates };
}

function choiceArguments(answer: Exclude<FakeModelAnswer, { hang: true }>): string {
  if ('garbage' in answer) return answer.garbage;
  if ('choose' in answer) return JSON.stringify({ tools: answer.choose.map((name) => ({ name, reason: `picked ${name}` })) });
  return '';
}

/** Chat completions: a tool call when the client forced a tool, else the JSON as content (json_schema). */
const openAiResponse: Respond = (request, answer) => {
  if ('status' in answer)
    return { status: answer.status, body: { error: { message: answer.message, type: 'invalid_request_error' } } };
  const tools = request.body.tools as { function: { name: string } }[] | undefined;
  const toolName = tools?.[0]?.function.name;
  const text = choiceArguments(answer);
  const message = toolName
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_fake_1', type: 'function', function: { name: toolName, arguments: text } }],
      }
    : { role: 'assistant', content: text };
  return {
    status: 200,
    body: {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.body.model,
      choices: [{ index: 0, message, finish_reason: toolName ? 'tool_calls' : 'stop', logprobs: null }],
      usage: {
        prompt_tokens: FAKE_USAGE.input,
        completion_tokens: FAKE_USAGE.output,
        total_tokens: FAKE_USAGE.input + FAKE_USAGE.output,
      },
    },
  };
};

/** Messages API: the forced tool's `tool_use` block with the choice as input (garbage goes in as text). */
const anthropicResponse: Respond = (request, answer) => {
  if ('status' in answer)
    return { status: answer.status, body: { type: 'error', error: { type: 'invalid_request_error', message: answer.message } } };
  const tools = request.body.tools as { name: string }[] | undefined;
  const toolName = tools?.[0]?.name ?? 'choose_tools';
  const content =
    'choose' in answer
      ? [{ type: 'tool_use', id: 'toolu_fake_1', name: toolName, input: JSON.parse(choiceArguments(answer)) as unknown }]
      : [{ type: 'text', text: choiceArguments(answer) }];
  return {
    status: 200,
    body: {
      id: 'msg_fake',
      type: 'message',
      role: 'assistant',
      model: request.body.model,
      content,
      stop_reason: 'choose' in answer ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: FAKE_USAGE.input, output_tokens: FAKE_USAGE.output },
    },
  };
};

/** /api/chat: the answer as message content (the client asked for a JSON-schema `format`), then done. */
const ollamaResponse: Respond = (request, answer) => {
  if ('status' in answer) return { status: answer.status, body: { error: answer.message } };
  const base = { model: request.body.model, created_at: new Date().toISOString() };
  return {
    status: 200,
    body: undefined,
    lines: [
      { ...base, message: { role: 'assistant', content: choiceArguments(answer) }, done: false },
      {
        ...base,
        message: { role: 'assistant', content: '' },
        done: true,
        done_reason: 'stop',
        prompt_eval_count: FAKE_USAGE.input,
        eval_count: FAKE_USAGE.output,
      },
    ],
  };
};
