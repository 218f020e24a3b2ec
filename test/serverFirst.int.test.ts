/**
 * The server-first stage end to end: `automcp serve` (spawned) with `selector.serverFirst: true` and the
 * real @langchain/openai client talking to a local OpenAI-compatible server, so the stage's own answer
 * schema goes through the provider's structured-output path: one server call, then the choice. And the
 * bench's label-free measurement of the stage from the command line.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemServer, makeTempDir, REPO_ROOT, writeConfigDir, type TempConfig } from './helpers/config.js';
import { reverseCandidates, startFakeOpenAi, type FakeModelServer } from './helpers/fakeProviders.js';
import { runCli, serveGateway, selectTools } from './helpers/gateway.js';

const KEY = 'sk-test-server-first';
let root: string;
let openai: FakeModelServer;
let config: TempConfig;

beforeAll(async () => {
  root = await makeTempDir('automcp-serverfirst-');
  openai = await startFakeOpenAi(reverseCandidates(2));
  config = await writeConfigDir({
    runtime: {
      servers: { files: { ...filesystemServer(root), description: 'Files on the local disk' } },
      selector: {
        candidates: 5,
        serverFirst: true,
        llm: { provider: 'openai', model: 'gpt-4.1-mini', apiKeyEnv: 'TEST_OPENAI_KEY', baseUrl: openai.baseUrl },
      },
    },
    profiles: { reader: { description: 'Reads files.' } },
  });
});

afterAll(async () => {
  await config?.cleanup();
  await openai?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('selector.serverFirst through a real provider client', () => {
  it('one structured server call (plan_search), then the choice; a garbage server answer still gets the choice', async () => {
    // The server call is answered with the picked server as json_schema content; the choice as usual.
    openai.answer = (request) =>
      request.system.includes('Pick the servers')
        ? { garbage: JSON.stringify({ servers: ['files'] }) }
        : reverseCandidates(2)(request);
    const gateway = await serveGateway({ configDir: config.dir, profile: 'reader', env: { TEST_OPENAI_KEY: KEY } });
    try {
      const before = openai.requests.length;
      const output = await selectTools(gateway.client, { query: 'read a text file' });
      expect(openai.requests).toHaveLength(before + 2);
      const [plan, choice] = openai.requests.slice(before);
      const format = plan!.body.response_format as { type: string; json_schema: { name: string; schema: unknown } };
      expect(format.type).toBe('json_schema');
      expect(format.json_schema.name).toBe('plan_search');
      expect(JSON.stringify(format.json_schema.schema)).toContain('"servers"');
      expect(plan!.user).toContain('1. files: Files on the local disk');
      expect(output.mode).toBe('llm');
      expect(output.tools.map((tool) => tool.name)).toEqual([...choice!.candidates].reverse().slice(0, 2));
      const line = await gateway.waitForLog((entry) => entry.msg === 'automatic_mcp' && entry.runId === output.runId);
      expect(line).toMatchObject({ mode: 'llm', llm: { servers: ['files'] } });

      openai.answer = (request) =>
        request.system.includes('Pick the servers') ? { garbage: 'files, I suppose' } : reverseCandidates(1)(request);
      const next = await selectTools(gateway.client, { query: 'list a directory' });
      expect(openai.requests).toHaveLength(before + 4);
      expect(next.mode).toBe('llm');
      await gateway.waitForLog((entry) => String(entry.msg).startsWith('selector.serverFirst gave no usable answer'));
    } finally {
      await gateway.close();
    }
  });

  it('bench selection --server-first lexical prints the stage next to the same run without it', async () => {
    const tiny = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'tiny.json');
    const args = ['bench', 'selection', '--dataset', tiny, '--model', 'oracle', '--k', '5'];
    const text = await runCli([...args, '--server-first', 'lexical']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/without server-first \(lexical pick\), same run: \d\.\d{3} · server-first call prompt/);
    const json = await runCli([...args, '--server-first', 'lexical', '--json']);
    expect(JSON.parse(json.stdout).stage).toMatchObject({ serverFirst: 'lexical', rewrite: false });
    const wrong = await runCli([...args, '--server-first', 'sometimes']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("expected no value or 'lexical'");
  });
});
