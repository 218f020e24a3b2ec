/**
 * The embeddings tier end to end: `automcp serve` (spawned) in front of the real filesystem server,
 * with `selector.embeddings` pointing at local HTTP servers that speak OpenAI's `/v1/embeddings` and
 * Ollama's `/api/embed` — so the real `OpenAIEmbeddings` and `OllamaEmbeddings` clients do the talking.
 * The fake model's vectors are deterministic and know a few synonyms (helpers/fakeEmbeddings.ts): a
 * task that shares no word with any tool is found by meaning only.
 */
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemServer, makeTempDir, writeConfigDir, type TempConfig } from './helpers/config.js';
import { startFakeOllamaEmbeddings, startFakeOpenAiEmbeddings, type FakeEmbeddingServer } from './helpers/fakeEmbeddings.js';
import { runCli, selectTools, serveGateway, waitFor, type McpOutput, type ServedGateway } from './helpers/gateway.js';

const KEY = 'emb-test-7d2e91c4';
/** Shares no word with any filesystem tool; the fake model reads it as "read file". */
const TASK = 'peruse the manuscript';
const profiles = {
  hybrid: { description: 'Ranks by meaning and words.', selection: { mode: 'hybrid' } },
  plain: { description: 'Lexical only.', selection: { mode: 'lexical' } },
};

let root: string;
let openai: FakeEmbeddingServer;
let ollama: FakeEmbeddingServer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  root = await makeTempDir('automcp-embed-');
  openai = await startFakeOpenAiEmbeddings();
  ollama = await startFakeOllamaEmbeddings();
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await openai?.close();
  await ollama?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

async function configWith(embeddings: Record<string, unknown>): Promise<{ config: TempConfig; stateDir: string }> {
  const stateDir = await makeTempDir('automcp-embed-state-');
  const config = await writeConfigDir({
    runtime: { stateDir, servers: { files: filesystemServer(root) }, selector: { embeddings } },
    profiles,
  });
  cleanups.push(config.cleanup, () => rm(stateDir, { recursive: true, force: true }));
  return { config, stateDir };
}

async function serve(config: TempConfig, profile: string): Promise<ServedGateway> {
  const gateway = await serveGateway({ configDir: config.dir, profile, env: { EMBED_KEY: KEY } });
  cleanups.push(() => gateway.close());
  return gateway;
}

/** Asks until the answer ranks by meaning (tool vectors are computed in the background). */
function hybridAnswer(gateway: ServedGateway, query = TASK): Promise<McpOutput> {
  return waitFor(
    async () => {
      const output = await selectTools(gateway.client, { query, limit: 3 });
      return output.mode === 'hybrid' ? output : undefined;
    },
    20_000,
    'a hybrid answer',
  );
}

const warnings = (gateway: ServedGateway, text: string) =>
  gateway.logLines().filter((line) => line.level === 40 && typeof line.msg === 'string' && line.msg.includes(text));

describe('selector.embeddings over an OpenAI-compatible /v1/embeddings', () => {
  it('embeds each tool once, finds by meaning, survives a restart, rebuilds a corrupt cache, and degrades to lexical', async () => {
    const { config, stateDir } = await configWith({
      provider: 'openai',
      model: 'fake-embed',
      baseUrl: openai.baseUrl,
      apiKeyEnv: 'EMBED_KEY',
    });
    const first = await serve(config, 'hybrid');
    const found = await hybridAnswer(first);
    expect(found.tools[0]!.name).toMatch(/^files\.read_/);
    expect(openai.requests.every((request) => request.model === 'fake-embed')).toBe(true);
    expect(openai.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    const documents = openai.inputs().filter((text) => text !== TASK);
    // Every tool once: the server's tools and the gateway's own.
    expect(new Set(documents).size).toBe(documents.length);
    expect(documents).toContain(
      'files read text file: ' + found.tools.find((tool) => tool.name === 'files.read_text_file')?.description,
    );

    // automcp status shows how many tools are embedded.
    const status = await waitFor(
      async () => {
        const { stdout } = await runCli(['status', '--config', config.dir]);
        return /embeddings openai:fake-embed: (\d+)\/\1 tools embedded, ready/.test(stdout) ? stdout : undefined;
      },
      10_000,
      'the embeddings line of automcp status',
    );
    expect(status).toContain(`${documents.length}/${documents.length} tools embedded`);
    await first.close();

    // One-shot commands read the cache: `select` ranks by meaning at once; `check --probe` proves the model.
    const selected = await runCli(['select', '--config', config.dir, '--profile', 'hybrid', '--json', TASK], { EMBED_KEY: KEY });
    expect(JSON.parse(selected.stdout)).toMatchObject({ mode: 'hybrid' });
    const checked = await runCli(['check', '--config', config.dir, '--probe', '--json'], { EMBED_KEY: KEY });
    expect(JSON.parse(checked.stdout).embeddings).toMatchObject({
      kind: 'on',
      provider: 'openai',
      model: 'fake-embed',
      probe: { ok: true, dimension: 64 },
    });

    // A restart embeds nothing: the vectors come from the state directory.
    openai.requests.length = 0;
    const second = await serve(config, 'hybrid');
    expect((await hybridAnswer(second)).tools[0]!.name).toMatch(/^files\.read_/);
    expect(openai.inputs().every((text) => text === TASK)).toBe(true);
    await second.close();

    // A damaged cache file is rebuilt: every tool embedded again, one warning.
    const [file] = await readdir(join(stateDir, 'vectors'));
    await writeFile(join(stateDir, 'vectors', file!), 'not vectors');
    openai.requests.length = 0;
    const third = await serve(config, 'hybrid');
    await hybridAnswer(third);
    expect(
      openai
        .inputs()
        .filter((text) => text !== TASK)
        .sort(),
    ).toEqual([...documents].sort());
    expect(warnings(third, 'tool vector cache is unreadable')).toHaveLength(1);

    // An outage: answers on time from the lexical ranking, marked fallback, with one warning.
    openai.answer = () => ({ status: 503 });
    const lexical = [];
    for (let i = 0; i < 3; i++)
      lexical.push(await selectTools(third.client, { query: 'read a text file', limit: 3, fresh: true }));
    expect(lexical.map((output) => output.mode)).toEqual(['fallback', 'fallback', 'fallback']);
    expect(lexical[0]!.tools.map((tool) => tool.name)).toContain('files.read_text_file');
    await third.waitForLog(
      (line) => typeof line.msg === 'string' && line.msg.startsWith('selector.embeddings gave no usable answer'),
    );
    expect(warnings(third, 'selector.embeddings gave no usable answer')).toHaveLength(1);
    openai.answer = () => 'vectors';
  });

  it('leaves a lexical profile lexical', async () => {
    const { config } = await configWith({ provider: 'openai', model: 'fake-embed', baseUrl: openai.baseUrl });
    const gateway = await serve(config, 'plain');
    const output = await selectTools(gateway.client, { query: TASK, limit: 3 });
    expect(output).toMatchObject({ mode: 'lexical', tools: [] });
  });
});

describe("selector.embeddings over Ollama's /api/embed", () => {
  it('finds by meaning through OllamaEmbeddings', async () => {
    const { config } = await configWith({ provider: 'ollama', model: 'fake-embed', baseUrl: ollama.baseUrl });
    const gateway = await serve(config, 'hybrid');
    expect((await hybridAnswer(gateway)).tools[0]!.name).toMatch(/^files\.read_/);
    expect(ollama.requests.length).toBeGreaterThan(0);
    expect(ollama.requests.every((request) => request.path === '/api/embed' && request.model === 'fake-embed')).toBe(true);
  });
});
