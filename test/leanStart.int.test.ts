/**
 * A gateway loads only what its configuration uses: every MCP client spawns its own `serve`, so what
 * start-up loads is paid once per client window. A preload records every module `serve` loads while it
 * answers tools/list, a selection and a call.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, makeTempDir, REPO_ROOT, writeConfigDir } from './helpers/config.js';
import { spawnServe } from './helpers/rawServe.js';

const RECORDER = join(REPO_ROOT, 'test', 'fixtures', 'preload', 'record-imports.mjs');

let tmp: string;

beforeAll(async () => {
  tmp = await makeTempDir('automcp-lean-');
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Serves `runtime`, runs `body` against it, and returns the URLs of every module the gateway loaded. */
async function loadedBy(
  name: string,
  runtime: Record<string, unknown>,
  body: (serve: ReturnType<typeof spawnServe>) => Promise<void>,
) {
  const config = await writeConfigDir({
    dir: join(tmp, name),
    runtime: { servers: { echo: fixtureServer('echo') }, ...runtime },
    profiles: { default: {} },
  });
  const record = join(tmp, `${name}.imports`);
  const serve = spawnServe({
    args: ['--config', config.dir],
    env: { NODE_OPTIONS: `--import ${RECORDER}`, AUTOMCP_TEST_IMPORTS: record, TEST_SELECTOR_KEY: 'not-used' },
  });
  try {
    await serve.initialize();
    const list = await serve.request('tools/list', {});
    expect(list.result?.tools).toHaveLength(2);
    await body(serve);
  } finally {
    serve.endStdin();
    await serve.exited;
  }
  return (await readFile(record, 'utf8')).split('\n').filter((line) => line !== '');
}

const packageOf = (url: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];

describe('serve loads what its configuration uses', () => {
  it('without a model, Redis or --http: no LangChain, LangGraph, Redis, prom-client, tokenizer or HTTP transport', async () => {
    const urls = await loadedBy('plain', {}, async (serve) => {
      const selected = await serve.request('tools/call', { name: 'automatic_mcp', arguments: { query: 'echo a message' } });
      expect(JSON.stringify(selected.result)).toContain('echo.echo');
      const called = await serve.request('tools/call', {
        name: 'automatic_eval',
        arguments: { toolName: 'echo.echo', arguments: { message: 'hi' } },
      });
      expect(JSON.stringify(called.result)).toContain('hi');
    });
    const packages = new Set(urls.map(packageOf).filter((name) => name !== undefined));
    // The recorder itself works: the SDK and the gateway's own modules are there.
    expect(packages).toContain('@modelcontextprotocol/sdk');
    expect(urls.some((url) => url.endsWith('/dist/gateway/core.js'))).toBe(true);
    for (const absent of [
      '@langchain/core',
      '@langchain/langgraph',
      '@langchain/openai',
      '@langchain/anthropic',
      '@langchain/ollama',
      '@redis/client',
      'prom-client',
      'js-tiktoken',
      // The YAML library that keeps comments: only an ops edit of a file loads it.
      'yaml',
    ]) {
      expect(packages, absent).not.toContain(absent);
    }
    expect(urls.filter((url) => /sdk\/dist\/esm\/(client\/(sse|streamableHttp)|server\/streamableHttp)\.js$/.test(url))).toEqual(
      [],
    );
    expect(urls.filter((url) => /\/dist\/(http|bench)\//.test(url))).toEqual([]);
  });

  it('with selector.llm: only the provider it names', async () => {
    const urls = await loadedBy(
      'openai',
      {
        selector: {
          llm: { provider: 'openai', model: 'gpt-test', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'TEST_SELECTOR_KEY' },
        },
      },
      async () => undefined,
    );
    const packages = new Set(urls.map(packageOf).filter((name) => name !== undefined));
    expect(packages).toContain('@langchain/openai');
    expect(packages).not.toContain('@langchain/anthropic');
    expect(packages).not.toContain('@langchain/ollama');
  });

  it('with selector.embeddings and no model: only the embeddings provider it names, and no LangGraph', async () => {
    const urls = await loadedBy(
      'ollama-embeddings',
      { selector: { embeddings: { provider: 'ollama', model: 'embed-test', baseUrl: 'http://127.0.0.1:9' } } },
      async (serve) => {
        const selected = await serve.request('tools/call', { name: 'automatic_mcp', arguments: { query: 'echo a message' } });
        expect(JSON.stringify(selected.result)).toContain('echo.echo');
      },
    );
    const packages = new Set(urls.map(packageOf).filter((name) => name !== undefined));
    expect(packages).toContain('@langchain/ollama');
    for (const absent of ['@langchain/langgraph', '@langchain/openai', '@langchain/anthropic']) {
      expect(packages, absent).not.toContain(absent);
    }
  });
});
