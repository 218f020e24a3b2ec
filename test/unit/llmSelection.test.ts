import { FakeListChatModel } from '@langchain/core/utils/testing';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { CallerViews } from '../../src/catalog/view.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { normalizeQuery, SelectionCache } from '../../src/selection/cache.js';
import { createLlmRerank, probeSelectorModel, type ChatSelector } from '../../src/selection/llm.js';
import { buildSelectionPrompt, candidateLine, clip, DESCRIPTION_CHARS } from '../../src/selection/prompts.js';
import { resolveSelectorModel } from '../../src/selection/providers.js';
import { GraphSelector } from '../../src/selection/selector.js';
import { choose, ScriptedChatModel, type RecordedCall, type ScriptedAnswer } from '../helpers/fakeChatModels.js';
import { capturedLogger, makeProfile } from '../helpers/inprocess.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (name: string, description: string, params: string[] = []): Tool => ({
  name,
  description,
  inputSchema: { type: 'object', properties: Object.fromEntries(params.map((param) => [param, { type: 'string' }])) },
});

/** Files, a few git tools, and `filler` tools about files so the candidate cut matters. */
function buildCatalog(filler = 30): Catalog {
  const catalog = new Catalog(hasher);
  catalog.setServerTools('fs', 'Local files', [
    tool('read_file', 'Read the contents of a file.', ['path']),
    tool('write_file', 'Write text to a file, replacing it.', ['path', 'content']),
    tool('delete_file', 'Delete a file.', ['path']),
    tool('list_directory', 'List the files in a directory.', ['path']),
  ]);
  catalog.setServerTools('git', 'Git repositories', [
    tool('git_log', 'Show the commit log of a file or repository.', ['repo', 'path']),
    tool('git_diff', 'Show changes of a file between commits.', ['repo', 'path']),
  ]);
  catalog.setServerTools(
    'extra',
    'More file utilities',
    Array.from({ length: filler }, (_, index) => tool(`file_tool_${index}`, `File helper number ${index} for a file.`, ['path'])),
  );
  return catalog;
}

/** The same catalog ranked lexically, for comparison. */
function lexicalSelection(limit: number, candidates = 5) {
  const catalog = buildCatalog();
  return new GraphSelector({ catalog, views: new CallerViews({ catalog, hasher }), candidates }).select({
    query: QUERY,
    profile: reviewer,
    limit,
  });
}

interface Setup {
  selector: GraphSelector;
  calls: RecordedCall[];
  cache: SelectionCache;
}

function setup({
  answers,
  candidates = 5,
  timeoutMs = 2_000,
  catalog = buildCatalog(),
  logger = createSilentLogger(),
}: {
  answers: ScriptedAnswer[];
  candidates?: number;
  timeoutMs?: number;
  catalog?: Catalog;
  logger?: ReturnType<typeof createSilentLogger>;
}): Setup {
  const calls: RecordedCall[] = [];
  const chat = new ScriptedChatModel(answers, calls);
  const cache = new SelectionCache();
  const model: ChatSelector = { chat, label: 'scripted:test', timeoutMs, scrub: (text) => text };
  const selector = new GraphSelector({
    catalog,
    views: new CallerViews({ catalog, hasher }),
    candidates,
    rerank: createLlmRerank({ model, logger, cache }),
  });
  return { selector, calls, cache };
}

const reviewer = makeProfile('reviewer', {
  description: 'Reviews code changes; reads files and history, never writes.',
  instructions: 'Prefer read-only tools.',
});
const QUERY = 'read a file and show its diff';

describe('the LLM node', () => {
  it('returns the model’s tools in the model’s order, with mode llm and a trace', async () => {
    const { selector, calls } = setup({ answers: [choose('fs.read_file', 'git.git_diff')] });
    const lexical = await lexicalSelection(8);
    const selection = await selector.select({ query: QUERY, profile: reviewer, limit: 8 });
    expect(selection.mode).toBe('llm');
    expect(selection.tools.map((entry) => entry.name)).toEqual(['fs.read_file', 'git.git_diff']);
    // Not the lexical order: the model's order stands.
    const lexicalOrder = lexical.tools
      .map((entry) => entry.name)
      .filter((name) => name === 'fs.read_file' || name === 'git.git_diff');
    expect(lexicalOrder).toEqual(['git.git_diff', 'fs.read_file']);
    expect(calls).toHaveLength(1);
    expect(selection.llm).toMatchObject({
      model: 'scripted:test',
      candidates: 5,
      cached: false,
      dropped: [],
      chosen: [
        { name: 'fs.read_file', reason: 'because fs.read_file' },
        { name: 'git.git_diff', reason: 'because git.git_diff' },
      ],
      usage: { inputTokens: 100, outputTokens: 10, totalTokens: 110 },
    });
    expect(selection.llm?.error).toBeUndefined();
  });

  it('shows the model only the top candidates, one line each, and the profile’s words', async () => {
    const { selector, calls } = setup({ answers: [choose('fs.read_file')], candidates: 5 });
    const selection = await selector.select({ query: QUERY, profile: reviewer, limit: 3 });
    const [system, human] = calls[0]!.messages;
    expect(system?.role).toBe('system');
    expect(system?.text).toContain('at most 3 tools');
    const listed = human!.text.split('\n').filter((line) => /^\d+\. /.test(line));
    expect(listed).toHaveLength(5);
    expect(listed.map((line) => line.replace(/^\d+\. /, '').split(':')[0])).toEqual(
      selection.candidates.slice(0, 5).map((entry) => entry.tool.name),
    );
    expect((await lexicalSelection(40, 40)).candidates.length).toBeGreaterThan(5);
    expect(human!.text).toContain('Reviews code changes; reads files and history, never writes.');
    expect(human!.text).toContain('Prefer read-only tools.');
    expect(human!.text).toContain(`Task: ${QUERY}`);
    // The schema of the answer was bound as a tool; no tool's inputSchema went in.
    expect(JSON.stringify(calls[0]!.tools)).toContain('choose_tools');
    expect(human!.text).not.toContain('"type":"object"');
  });

  it('two profiles give different prompts for the same task', async () => {
    const { selector, calls } = setup({ answers: [choose('fs.read_file')] });
    const writer = makeProfile('writer', { description: 'Edits documentation files.', instructions: 'Prefer tools that write.' });
    await selector.select({ query: QUERY, profile: reviewer, limit: 8 });
    await selector.select({ query: QUERY, profile: writer, limit: 8 });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.messages[1]!.text).not.toBe(calls[1]!.messages[1]!.text);
    expect(calls[1]!.messages[1]!.text).toContain('Edits documentation files.');
    expect(calls[1]!.messages[1]!.text).toContain('Prefer tools that write.');
    expect(calls[1]!.messages[1]!.text).not.toContain('Reviews code changes');
  });

  it('drops names outside the candidates and keeps the rest', async () => {
    const { selector } = setup({ answers: [choose('fs.rm_rf', 'fs.read_file', 'fs.read_file', 'GIT.GIT_DIFF')] });
    const selection = await selector.select({ query: QUERY, profile: reviewer, limit: 8 });
    expect(selection.mode).toBe('llm');
    expect(selection.tools.map((entry) => entry.name)).toEqual(['fs.read_file', 'git.git_diff']);
    expect(selection.llm?.dropped).toEqual(['fs.rm_rf']);
  });

  it('a tool the caller may not see is never chosen, even when the model names it', async () => {
    const { selector, calls } = setup({ answers: [choose('fs.delete_file')] });
    const profile = makeProfile('safe', { tools: { deny: ['*.delete_*'] } });
    const selection = await selector.select({ query: 'delete a file', profile, limit: 8 });
    expect(calls[0]!.messages[1]!.text).not.toContain('fs.delete_file');
    expect(selection.mode).toBe('fallback');
    expect(selection.tools.map((entry) => entry.name)).not.toContain('fs.delete_file');
  });

  const failures: [string, ScriptedAnswer, RegExp][] = [
    ['only unknown names', choose('nope.tool', 'other.tool'), /no candidate tool/],
    ['an empty list', { args: { tools: [] } }, /chose no tools/],
    ['malformed text', { text: 'I think you want read_file!' }, /answer schema/],
    ['arguments of the wrong shape', { args: { tools: 'fs.read_file' } }, /answer schema/],
    ['an exception', { error: 'HTTP 500 from the provider' }, /HTTP 500 from the provider/],
  ];
  for (const [what, answer, error] of failures) {
    it(`falls back to the lexical ranking on ${what}`, async () => {
      const logged = capturedLogger();
      const { selector } = setup({ answers: [answer], logger: logged.logger });
      const lexical = await lexicalSelection(4);
      const selection = await selector.select({ query: QUERY, profile: reviewer, limit: 4 });
      expect(selection.mode).toBe('fallback');
      expect(selection.tools.map((entry) => entry.name)).toEqual(lexical.tools.map((entry) => entry.name));
      expect(selection.tools).toHaveLength(4);
      expect(selection.llm?.error).toMatch(error);
      expect(
        logged.records.some((record) => record.msg === 'selector.llm gave no usable answer; using the lexical ranking'),
      ).toBe(true);
    });
  }

  for (const honourAbort of [true, false]) {
    it(`a model that stalls ${honourAbort ? '(and honours its abort signal)' : '(ignoring its abort signal)'} falls back on time`, async () => {
      const timeoutMs = 200;
      const { selector, calls } = setup({ answers: [{ stall: true, honourAbort }], timeoutMs });
      const started = performance.now();
      const selection = await selector.select({ query: QUERY, profile: reviewer, limit: 4 });
      const elapsed = performance.now() - started;
      expect(selection.mode).toBe('fallback');
      expect(selection.tools).toHaveLength(4);
      expect(selection.llm?.error).toBe('no answer within 200 ms');
      expect(calls[0]!.aborted).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 5);
      expect(elapsed).toBeLessThan(timeoutMs + 500);
    });
  }

  it('caches successful choices per profile, normalised task, view and limit — never fallbacks', async () => {
    const { selector, calls, cache } = setup({ answers: [{ error: 'down' }, choose('git.git_diff')] });
    expect((await selector.select({ query: QUERY, profile: reviewer, limit: 8 })).mode).toBe('fallback');
    expect(cache.size).toBe(0);
    expect((await selector.select({ query: QUERY, profile: reviewer, limit: 8 })).mode).toBe('llm');
    const again = await selector.select({ query: `  ${QUERY.toUpperCase()} `, profile: reviewer, limit: 8 });
    expect(again.mode).toBe('llm');
    expect(again.llm?.cached).toBe(true);
    expect(again.tools.map((entry) => entry.name)).toEqual(['git.git_diff']);
    expect(calls).toHaveLength(2);
    await selector.select({ query: QUERY, profile: reviewer, limit: 3 });
    await selector.select({ query: QUERY, profile: makeProfile('reviewer', { description: 'Other words.' }), limit: 8 });
    expect(calls).toHaveLength(4);
    expect(normalizeQuery('  Read   A File ')).toBe('read a file');
  });

  it('a new view (the catalog changed) asks the model again', async () => {
    const catalog = buildCatalog();
    const { selector, calls } = setup({ answers: [choose('fs.read_file')], catalog });
    await selector.select({ query: QUERY, profile: reviewer, limit: 8 });
    catalog.setServerTools('git', 'Git repositories', [tool('git_diff', 'Show what changed in a file.', ['path'])]);
    await selector.select({ query: QUERY, profile: reviewer, limit: 8 });
    expect(calls).toHaveLength(2);
  });

  it('a profile with selection.mode lexical never calls the model; mode llm does', async () => {
    const { selector, calls } = setup({ answers: [choose('git.git_diff')] });
    const profile = makeProfile('plain', { selection: { mode: 'lexical' } });
    const selection = await selector.select({ query: QUERY, profile, limit: 4 });
    expect(selection.mode).toBe('lexical');
    expect(selection.llm).toBeUndefined();
    expect(calls).toHaveLength(0);
    const forced = await selector.select({
      query: QUERY,
      profile: makeProfile('forced', { selection: { mode: 'llm' } }),
      limit: 4,
    });
    expect(forced.mode).toBe('llm');
    expect(calls).toHaveLength(1);
  });

  it('no lexical candidate means no call and the (empty) lexical answer', async () => {
    const { selector, calls } = setup({ answers: [choose('fs.read_file')] });
    const selection = await selector.select({ query: 'quantum teleportation', profile: reviewer, limit: 4 });
    expect(selection).toMatchObject({ mode: 'lexical', tools: [] });
    expect(calls).toHaveLength(0);
  });

  it('pinned tools among the candidates keep their place when the model leaves them out', async () => {
    const { selector } = setup({ answers: [choose('git.git_diff')] });
    const profile = makeProfile('pins', { tools: { pinned: ['fs.read_file'] } });
    const selection = await selector.select({ query: QUERY, profile, limit: 8 });
    expect(selection.mode).toBe('llm');
    expect(selection.tools.map((entry) => entry.name)).toEqual(['fs.read_file', 'git.git_diff']);
  });

  it('works with LangChain’s own FakeListChatModel answering JSON text', async () => {
    const catalog = buildCatalog();
    const chat = new FakeListChatModel({ responses: [JSON.stringify({ tools: [{ name: 'fs.list_directory', reason: 'r' }] })] });
    const selector = new GraphSelector({
      catalog,
      views: new CallerViews({ catalog, hasher }),
      candidates: 40,
      rerank: createLlmRerank({
        model: { chat, label: 'fake:list', timeoutMs: 1_000, scrub: (text) => text },
        logger: createSilentLogger(),
      }),
    });
    const selection = await selector.select({ query: 'list the files in a directory', profile: reviewer, limit: 8 });
    expect(selection.mode).toBe('llm');
    expect(selection.tools.map((entry) => entry.name)).toEqual(['fs.list_directory']);
  });
});

describe('the prompt', () => {
  it('depends on the candidates, not on the catalog: 40 candidates of 20 or of 2,000 tools cost the same lines', () => {
    const candidates = (size: number) => {
      const catalog = buildCatalog(size);
      return catalog.tools().slice(0, 40);
    };
    const small = buildSelectionPrompt({ query: QUERY, profile: reviewer, candidates: candidates(40), limit: 8 });
    const large = buildSelectionPrompt({ query: QUERY, profile: reviewer, candidates: candidates(2_000), limit: 8 });
    expect(large).toEqual(small);
  });

  it('cuts long descriptions at a word and lists at most 8 parameter names', () => {
    const catalog = new Catalog(hasher);
    const long = 'word '.repeat(100);
    const params = Array.from({ length: 12 }, (_, index) => `p${index}`);
    catalog.setServerTools('s', '', [tool('t', `${long}\n\nSecond paragraph.`, params)]);
    const line = candidateLine(catalog.tools()[0]!);
    const description = JSON.parse(line.slice('s.t: '.length, line.indexOf(' ['))) as string;
    expect(description.length).toBeLessThanOrEqual(DESCRIPTION_CHARS);
    expect(description.endsWith('word…')).toBe(true);
    expect(line).toContain('[p0, p1, p2, p3, p4, p5, p6, p7, +4 more]');
    expect(clip('a  b\n c', 10)).toBe('a b c');
  });
});

describe('the selector model', () => {
  it('without selector.llm: lexical, and says so', async () => {
    expect((await resolveSelectorModel({ llm: undefined, env: {} })).state).toEqual({
      kind: 'lexical',
      reason: 'no selector.llm in runtime.yaml',
    });
  });

  it('a missing key means lexical, naming the variable; the default variable is the provider’s own', async () => {
    const llm = { provider: 'openai', model: 'gpt-4.1-mini', timeoutMs: 1000 } as const;
    const missing = await resolveSelectorModel({ llm, env: {} });
    expect(missing.chat).toBeUndefined();
    expect(missing.state).toMatchObject({ kind: 'lexical', reason: expect.stringContaining('OPENAI_API_KEY') });
    const named = await resolveSelectorModel({
      llm: { ...llm, provider: 'anthropic', apiKeyEnv: 'MY_KEY' },
      env: { MY_KEY: ' ' },
    });
    expect(named.state).toMatchObject({ kind: 'lexical', reason: expect.stringContaining('MY_KEY') });
    const anthropic = await resolveSelectorModel({ llm: { ...llm, provider: 'anthropic' }, env: {} });
    expect(anthropic.state).toMatchObject({ kind: 'lexical', reason: expect.stringContaining('ANTHROPIC_API_KEY') });
  });

  it('builds each provider’s model; Ollama and a keyless baseUrl need no key', async () => {
    const openai = await resolveSelectorModel({
      llm: { provider: 'openai', model: 'gpt-4.1-mini', apiKeyEnv: 'K', timeoutMs: 1000 },
      env: { K: 'sk-secret-123' },
    });
    expect(openai.state).toEqual({ kind: 'llm', provider: 'openai', model: 'gpt-4.1-mini', timeoutMs: 1000 });
    expect(openai.chat?._llmType()).toBe('openai');
    expect(openai.scrub('bad key sk-secret-123 given')).toBe('bad key [redacted] given');
    const local = await resolveSelectorModel({
      llm: { provider: 'openai', model: 'qwen', baseUrl: 'http://127.0.0.1:8000/v1', timeoutMs: 1000 },
      env: {},
    });
    expect(local.state).toMatchObject({ kind: 'llm', baseUrl: 'http://127.0.0.1:8000/v1' });
    expect(
      (await resolveSelectorModel({ llm: { provider: 'ollama', model: 'llama3.2', timeoutMs: 1000 }, env: {} })).chat?._llmType(),
    ).toBe('ollama');
    expect(
      (
        await resolveSelectorModel({
          llm: { provider: 'anthropic', model: 'claude-haiku-4-5', timeoutMs: 1000 },
          env: { ANTHROPIC_API_KEY: 'k' },
        })
      ).chat?._llmType(),
    ).toBe('anthropic');
  });

  it('an injected model wins and needs no key', async () => {
    const chat = new ScriptedChatModel([choose('x.y')]);
    const resolved = await resolveSelectorModel({
      llm: { provider: 'openai', model: 'm', apiKeyEnv: 'NONE', timeoutMs: 50 },
      env: {},
      chatModel: chat,
    });
    expect(resolved.state).toMatchObject({ kind: 'llm', model: 'm', timeoutMs: 50 });
    expect(resolved.chat).toBe(chat);
  });

  it('the probe asks one small question and reports the answer or the error', async () => {
    const good = await probeSelectorModel({
      chat: new ScriptedChatModel([choose('probe.get_forecast')]),
      label: 's:m',
      timeoutMs: 1_000,
      scrub: (text) => text,
    });
    expect(good).toMatchObject({ ok: true, chosen: ['probe.get_forecast'], usage: { totalTokens: 110 } });
    const bad = await probeSelectorModel({
      chat: new ScriptedChatModel([{ error: 'invalid key sk-abc' }]),
      label: 's:m',
      timeoutMs: 1_000,
      scrub: (text) => text.replace('sk-abc', '[redacted]'),
    });
    expect(bad).toEqual({ ok: false, latencyMs: expect.any(Number), error: 'invalid key [redacted]' });
  });
});

describe('selection.mode llm: never lexical unless the model did not choose', () => {
  const llmProfile = makeProfile('strict', { selection: { mode: 'llm' } });
  const autoProfile = makeProfile('loose', { selection: { mode: 'auto' } });

  it('without a model, answers the lexical ranking as fallback (auto: lexical)', async () => {
    const lexical = await lexicalSelection(5);
    const catalog = buildCatalog();
    const selector = new GraphSelector({ catalog, views: new CallerViews({ catalog, hasher }), candidates: 5 });
    const strict = await selector.select({ query: QUERY, profile: llmProfile, limit: 5 });
    expect(strict.mode).toBe('fallback');
    expect(strict.tools.map((entry) => entry.name)).toEqual(lexical.tools.map((entry) => entry.name));
    expect((await selector.select({ query: QUERY, profile: autoProfile, limit: 5 })).mode).toBe('lexical');
  });

  it('with a model: llm when it chose, fallback when it failed or had nothing to choose from', async () => {
    const { selector, calls } = setup({ answers: [choose('fs.read_file'), { error: 'rate limited' }] });
    expect((await selector.select({ query: QUERY, profile: llmProfile, limit: 5 })).mode).toBe('llm');
    expect((await selector.select({ query: 'write a file', profile: llmProfile, limit: 5 })).mode).toBe('fallback');
    const unrelated = await selector.select({ query: 'zebra quantum', profile: llmProfile, limit: 5 });
    expect(unrelated).toMatchObject({ mode: 'fallback', tools: [] });
    expect((await selector.select({ query: 'zebra quantum', profile: autoProfile, limit: 5 })).mode).toBe('lexical');
    expect(calls).toHaveLength(2);
  });
});
