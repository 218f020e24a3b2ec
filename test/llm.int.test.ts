/**
 * LLM selection end to end: `automcp serve` (spawned) in front of the real filesystem server, with
 * `selector.llm` pointing at local HTTP servers that speak OpenAI's chat completions and Anthropic's
 * messages API — so the real @langchain/openai and @langchain/anthropic clients do the talking. The
 * tests check both what the model received (only the candidates, the profile's words) and what the
 * caller got back (the model's tools in the model's order, or the lexical ranking on time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemServer, makeTempDir, writeConfigDir, type TempConfig } from './helpers/config.js';
import {
  FAKE_USAGE,
  reverseCandidates,
  startFakeAnthropic,
  startFakeOllama,
  startFakeOpenAi,
  type FakeModelServer,
} from './helpers/fakeProviders.js';
import { runCli, selectTools, serveGateway, type ServedGateway } from './helpers/gateway.js';
import { rm } from 'node:fs/promises';

const KEY = 'sk-test-4f1c9a77e2d0';
const CANDIDATES = 5;
const profiles = {
  reviewer: {
    description: 'Reviews documents; reads files, never writes them.',
    instructions: 'Prefer tools that read one file at a time.',
  },
  writer: { description: 'Drafts and edits notes on disk.', instructions: 'Prefer tools that write or edit.' },
  plain: { description: 'Lexical only.', selection: { mode: 'lexical' } },
  insistent: { description: 'Wants the model.', selection: { mode: 'llm' } },
};

let root: string;
let openai: FakeModelServer;
let anthropic: FakeModelServer;
let ollama: FakeModelServer;
const configs: TempConfig[] = [];

beforeAll(async () => {
  root = await makeTempDir('automcp-llm-');
  openai = await startFakeOpenAi(reverseCandidates(3));
  anthropic = await startFakeAnthropic(reverseCandidates(2));
  ollama = await startFakeOllama(reverseCandidates(2));
});

afterAll(async () => {
  await Promise.all(configs.map((config) => config.cleanup()));
  await openai?.close();
  await anthropic?.close();
  await ollama?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** A config folder with the filesystem server, the three profiles and this `selector.llm`. */
async function configWith(llm: Record<string, unknown>): Promise<TempConfig> {
  const config = await writeConfigDir({
    runtime: { servers: { files: filesystemServer(root) }, selector: { candidates: CANDIDATES, llm } },
    profiles,
  });
  configs.push(config);
  return config;
}

/** The fake OpenAI server as `gpt-4.1-mini`, its key in TEST_OPENAI_KEY, with `extra` keys on top. */
function openAiConfig(extra: Record<string, unknown> = {}): Promise<TempConfig> {
  return configWith({
    provider: 'openai',
    model: 'gpt-4.1-mini',
    apiKeyEnv: 'TEST_OPENAI_KEY',
    baseUrl: openai.baseUrl,
    ...extra,
  });
}

/** Serves `config` for `profile`, runs `body`, always closes. */
async function withServe<T>(
  options: { config: TempConfig; profile?: string; env?: Record<string, string> },
  body: (gateway: ServedGateway) => Promise<T>,
): Promise<T> {
  const gateway = await serveGateway({
    configDir: options.config.dir,
    profile: options.profile ?? 'reviewer',
    env: options.env ?? {},
  });
  try {
    return await body(gateway);
  } finally {
    await gateway.close();
  }
}

const names = (output: { tools: { name: string }[] }) => output.tools.map((tool) => tool.name);

describe('an OpenAI-compatible model on 127.0.0.1', () => {
  it('chooses the tools (mode llm, the model’s order) from only the candidates and the profile’s words', async () => {
    const config = await openAiConfig();
    openai.answer = reverseCandidates(3);
    const before = openai.requests.length;
    await withServe({ config, env: { TEST_OPENAI_KEY: KEY } }, async (gateway) => {
      const output = await selectTools(gateway.client, { query: 'read a text file' });
      expect(openai.requests).toHaveLength(before + 1);
      const request = openai.requests.at(-1)!;
      // What the model received: the candidates, at most selector.candidates of them, and the profile.
      expect(request.candidates.length).toBeGreaterThan(1);
      expect(request.candidates.length).toBeLessThanOrEqual(CANDIDATES);
      expect(request.candidates.every((name) => name.startsWith('files.'))).toBe(true);
      expect(request.user).toContain(profiles.reviewer.description);
      expect(request.user).toContain(profiles.reviewer.instructions);
      expect(request.user).toContain('Task: read a text file');
      expect(request.user).not.toContain('"inputSchema"');
      expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
      expect((request.body.response_format as { type: string }).type).toBe('json_schema');
      // What came back: the model's tools in the model's order.
      expect(output.mode).toBe('llm');
      expect(names(output)).toEqual([...request.candidates].reverse().slice(0, 3));
      expect(output.totalAvailable).toBe(14);

      const line = await gateway.waitForLog((entry) => entry.msg === 'automatic_mcp' && entry.runId === output.runId);
      expect(line).toMatchObject({
        mode: 'llm',
        candidates: expect.any(Number),
        chosen: names(output),
        llm: {
          model: 'openai:gpt-4.1-mini',
          candidates: request.candidates.length,
          cached: false,
          usage: {
            inputTokens: FAKE_USAGE.input,
            outputTokens: FAKE_USAGE.output,
            totalTokens: FAKE_USAGE.input + FAKE_USAGE.output,
          },
        },
      });
      expect((line.llm as { chosen: { reason: string }[] }).chosen[0]?.reason).toMatch(/^picked files\./);

      // The same task again does not pay the model twice; the session still decides names-only.
      const again = await selectTools(gateway.client, { query: '  Read a TEXT file ' });
      expect(again.mode).toBe('llm');
      expect(again.tools).toEqual([]);
      expect(again.unchanged.map((tool) => tool.name)).toEqual(names(output));
      expect(openai.requests).toHaveLength(before + 1);
      expect(gateway.stderr()).not.toContain(KEY);
    });
  });

  it('works through tool calling too (models without json_schema get a forced function call)', async () => {
    const config = await openAiConfig({ model: 'gpt-4-turbo' });
    openai.answer = reverseCandidates(2);
    await withServe({ config, env: { TEST_OPENAI_KEY: KEY } }, async (gateway) => {
      const output = await selectTools(gateway.client, { query: 'list a directory' });
      const request = openai.requests.at(-1)!;
      expect(request.body.tool_choice).toEqual({ type: 'function', function: { name: 'choose_tools' } });
      expect(output.mode).toBe('llm');
      expect(names(output)).toEqual([...request.candidates].reverse().slice(0, 2));
    });
  });

  it('garbage, unknown names and errors give fallback with the lexical tools; the key never reaches the log', async () => {
    const config = await openAiConfig();
    await withServe({ config, env: { TEST_OPENAI_KEY: KEY } }, async (gateway) => {
      const cases: [string, FakeModelServer['answer']][] = [
        ['read a text file', () => ({ garbage: 'Sure! I would use read_file.' })],
        ['write a file', () => ({ choose: ['files.rm_rf', 'shell.exec'] })],
        ['search files', () => ({ status: 401, message: `Incorrect API key provided: ${KEY}` })],
        ['move a file', () => ({ status: 500, message: 'upstream exploded' })],
      ];
      for (const [query, answer] of cases) {
        openai.answer = answer;
        const output = await selectTools(gateway.client, { query, limit: 3, fresh: true });
        const request = openai.requests.at(-1)!;
        expect(request.user).toContain(`Task: ${query}`);
        expect(output.mode, query).toBe('fallback');
        // The lexical ranking: the first candidates, in the order the model was shown them.
        expect(names(output), query).toEqual(request.candidates.slice(0, 3));
      }
      await gateway.waitForLog(
        (entry) => entry.msg === 'automatic_mcp' && JSON.stringify(entry.llm).includes('upstream exploded'),
      );
      expect(gateway.stderr()).toContain('[redacted]');
      expect(gateway.stderr()).not.toContain(KEY);
    });
  });

  it('a model that hangs gives fallback within timeoutMs + 0.5 s', async () => {
    const timeoutMs = 1_000;
    const config = await openAiConfig({ timeoutMs });
    openai.answer = () => ({ hang: true });
    await withServe({ config, env: { TEST_OPENAI_KEY: KEY } }, async (gateway) => {
      // Let the filesystem server finish starting first (a task no tool matches needs no model), so the
      // clock below measures the selection alone.
      const before = openai.requests.length;
      expect((await selectTools(gateway.client, { query: 'xyzzy plugh' })).tools).toEqual([]);
      expect(openai.requests).toHaveLength(before);
      const started = performance.now();
      const output = await selectTools(gateway.client, { query: 'get information about a file', limit: 3 });
      const elapsed = performance.now() - started;
      expect(output.mode).toBe('fallback');
      expect(names(output)).toEqual(openai.requests.at(-1)!.candidates.slice(0, 3));
      expect(elapsed).toBeLessThan(timeoutMs + 500);
    });
  });

  it('a missing API key means lexical selection, one start-up warning naming the variable, and no request', async () => {
    const config = await openAiConfig({ apiKeyEnv: 'TEST_ABSENT_KEY' });
    const before = openai.requests.length;
    await withServe({ config }, async (gateway) => {
      expect((await selectTools(gateway.client, { query: 'read a text file' })).mode).toBe('lexical');
      expect((await selectTools(gateway.client, { query: 'write a file' })).mode).toBe('lexical');
      const warnings = gateway.logLines().filter((line) => String(line.msg).startsWith('selector.llm is not used'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toContain('environment variable TEST_ABSENT_KEY (selector.llm.apiKeyEnv) is not set');
    });
    expect(openai.requests).toHaveLength(before);
  });

  it('a profile forcing selection.mode llm without a usable model is told so at start, and gets the lexical ranking as fallback', async () => {
    const config = await openAiConfig({ apiKeyEnv: 'TEST_ABSENT_KEY' });
    await withServe({ config, profile: 'insistent' }, async (gateway) => {
      expect((await selectTools(gateway.client, { query: 'read a text file' })).mode).toBe('fallback');
      const warning = await gateway.waitForLog((line) => String(line.msg).startsWith('profile asks for selection.mode llm'));
      expect(warning).toMatchObject({ profile: 'insistent' });
      expect(String((warning as { reason?: string }).reason)).toContain('TEST_ABSENT_KEY');
    });
  });

  it('two profiles with different words send different prompts for the same task', async () => {
    const config = await openAiConfig();
    openai.answer = reverseCandidates(2);
    const prompts: string[] = [];
    for (const profile of ['reviewer', 'writer'] as const) {
      await withServe({ config, profile, env: { TEST_OPENAI_KEY: KEY } }, async (gateway) => {
        expect((await selectTools(gateway.client, { query: 'edit a text file' })).mode).toBe('llm');
        prompts.push(openai.requests.at(-1)!.user);
      });
    }
    expect(prompts[0]).not.toBe(prompts[1]);
    expect(prompts[0]).toContain(profiles.reviewer.description);
    expect(prompts[1]).toContain(profiles.writer.description);
    expect(prompts[1]).toContain(profiles.writer.instructions);
    expect(prompts[1]).not.toContain(profiles.reviewer.description);
  });
});

describe('an Anthropic-compatible model on 127.0.0.1', () => {
  it('chooses through a forced tool_use, with the key in x-api-key', async () => {
    const config = await configWith({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      apiKeyEnv: 'TEST_ANTHROPIC_KEY',
      baseUrl: anthropic.baseUrl,
    });
    await withServe({ config, env: { TEST_ANTHROPIC_KEY: KEY } }, async (gateway) => {
      const output = await selectTools(gateway.client, { query: 'read a text file' });
      const request = anthropic.requests.at(-1)!;
      expect(request.headers['x-api-key']).toBe(KEY);
      expect(request.body.tool_choice).toMatchObject({ type: 'tool', name: 'choose_tools' });
      expect(request.system).toContain('You choose tools for an AI agent.');
      expect(request.user).toContain(profiles.reviewer.description);
      expect(request.candidates.length).toBeGreaterThan(1);
      expect(request.candidates.length).toBeLessThanOrEqual(CANDIDATES);
      expect(output.mode).toBe('llm');
      expect(names(output)).toEqual([...request.candidates].reverse().slice(0, 2));
      const line = await gateway.waitForLog((entry) => entry.msg === 'automatic_mcp');
      expect(line.llm).toMatchObject({ model: 'anthropic:claude-haiku-4-5', usage: { inputTokens: FAKE_USAGE.input } });
    });
  });
});

describe('an Ollama server on 127.0.0.1', () => {
  it('chooses through a JSON-schema format, with no key at all', async () => {
    const config = await configWith({ provider: 'ollama', model: 'qwen2.5:7b-instruct', baseUrl: ollama.baseUrl });
    await withServe({ config }, async (gateway) => {
      const output = await selectTools(gateway.client, { query: 'read a text file' });
      const request = ollama.requests.at(-1)!;
      expect(request.path).toBe('/api/chat');
      expect(request.headers.authorization).toBeUndefined();
      expect(request.body.format).toMatchObject({ type: 'object', properties: { tools: expect.any(Object) } });
      expect(request.user).toContain(profiles.reviewer.description);
      expect(request.candidates.length).toBeLessThanOrEqual(CANDIDATES);
      expect(output.mode).toBe('llm');
      expect(names(output)).toEqual([...request.candidates].reverse().slice(0, 2));
      const line = await gateway.waitForLog((entry) => entry.msg === 'automatic_mcp');
      expect(line.llm).toMatchObject({ model: 'ollama:qwen2.5:7b-instruct', usage: { inputTokens: FAKE_USAGE.input } });
    });
  });
});

describe('the one-shot commands', () => {
  it('check shows the selector, and --probe sends one request and reports it', async () => {
    const config = await openAiConfig();
    openai.answer = reverseCandidates(1);
    const before = openai.requests.length;
    const plain = await runCli(['check', '--config', config.dir], { TEST_OPENAI_KEY: KEY });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`selector: llm openai gpt-4.1-mini at ${openai.baseUrl} (5 candidates, timeout 10000 ms)`);
    expect(openai.requests).toHaveLength(before);

    const probed = await runCli(['check', '--config', config.dir, '--probe', '--json'], { TEST_OPENAI_KEY: KEY });
    expect(probed.code).toBe(0);
    expect(openai.requests).toHaveLength(before + 1);
    const report = JSON.parse(probed.stdout) as { selector: { kind: string; probe: { ok: boolean; chosen: string[] } } };
    expect(report.selector).toMatchObject({ kind: 'llm', provider: 'openai', model: 'gpt-4.1-mini' });
    expect(report.selector.probe).toMatchObject({ ok: true, chosen: ['probe.read_file'] });

    openai.answer = () => ({ status: 404, message: 'model gpt-4.1-mini not found' });
    const failed = await runCli(['check', '--config', config.dir, '--probe'], { TEST_OPENAI_KEY: KEY });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/ERR probe failed after \d+ ms: .*model gpt-4\.1-mini not found/);

    const keyless = await runCli(['check', '--config', config.dir, '--probe'], { TEST_OPENAI_KEY: '' });
    expect(keyless.code).toBe(1);
    expect(keyless.stdout).toContain(
      'selector: lexical (5 candidates): environment variable TEST_OPENAI_KEY (selector.llm.apiKeyEnv) is not set',
    );
  });

  it('select --explain shows the lexical rank, the model’s choice and its reasons side by side', async () => {
    const config = await openAiConfig();
    openai.answer = reverseCandidates(2);
    const json = await runCli(
      ['select', '--config', config.dir, '--profile', 'reviewer', '--explain', '--json', 'read a text file'],
      {
        TEST_OPENAI_KEY: KEY,
      },
    );
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      mode: string;
      lexical: { rank: number; name: string; score: number }[];
      llm: { chosen: { name: string; reason: string }[]; model: string };
      selected: string[];
    };
    const shown = openai.requests.at(-1)!.candidates;
    expect(report.mode).toBe('llm');
    expect(report.lexical.slice(0, shown.length).map((entry) => entry.name)).toEqual(shown);
    expect(report.llm.chosen).toEqual(
      [...shown]
        .reverse()
        .slice(0, 2)
        .map((name) => ({ name, reason: `picked ${name}` })),
    );
    expect(report.selected).toEqual([...shown].reverse().slice(0, 2));

    const text = await runCli(['select', '--config', config.dir, '--explain', 'read a text file'], { TEST_OPENAI_KEY: KEY });
    const seen = openai.requests.at(-1)!.candidates;
    expect(text.stdout).toMatch(/mode llm · limit 8 · model openai:gpt-4\.1-mini/);
    const firstRow = text.stdout.split('\n').find((line) => /^\s+1\s/.test(line)) ?? '';
    expect(firstRow).toMatch(/^\s+1\s+(\S+) \([\d.]+\)\s+(\S+)\s+picked \2$/);
    expect(firstRow).toContain(seen[0]!);
    expect(firstRow).toContain(`picked ${seen.at(-1)!}`);
  });

  it('a profile with selection.mode lexical never asks the model', async () => {
    const config = await openAiConfig();
    const before = openai.requests.length;
    const result = await runCli(['select', '--config', config.dir, '--profile', 'plain', '--json', 'read a text file'], {
      TEST_OPENAI_KEY: KEY,
    });
    expect((JSON.parse(result.stdout) as { mode: string }).mode).toBe('lexical');
    expect(openai.requests).toHaveLength(before);
  });
});
