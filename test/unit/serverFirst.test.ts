import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { CallerViews } from '../../src/catalog/view.js';
import { runtimeSchema } from '../../src/config/schema.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { SelectionCache } from '../../src/selection/cache.js';
import { createLlmDecompose } from '../../src/selection/decompose.js';
import type { RankedTool } from '../../src/selection/lexical.js';
import { createLlmRerank, createLlmSelection, type ChatSelector } from '../../src/selection/llm.js';
import { GraphSelector } from '../../src/selection/selector.js';
import { createServerFirst, readServers, withServerTools } from '../../src/selection/serverFirst.js';
import { derivedSummary, ServerSummaries } from '../../src/selection/serverSummaries.js';
import { choose, ScriptedChatModel, type RecordedCall, type ScriptedAnswer } from '../helpers/fakeChatModels.js';
import { makeProfile } from '../helpers/inprocess.js';
import type { SelectorModel } from '../../src/selection/providers.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (name: string, description: string): Tool => ({ name, description, inputSchema: { type: 'object' } });

/**
 * Thirty report tools win every lexical ranking of the request; the mail server's one tool shares no
 * word with it ("email" is only in the server's description), and the chat server has no description.
 */
function buildCatalog(): Catalog {
  const catalog = new Catalog(hasher);
  catalog.setServerTools('mail', 'Electronic mail: email people', [tool('deliver', 'Deliver a message to a recipient.')]);
  catalog.setServerTools('chat', '', [
    tool('post', 'Post a message in a channel. Channels must exist.'),
    tool('react', 'Add a reaction to a post'),
  ]);
  catalog.setServerTools(
    'reports',
    'Reports',
    Array.from({ length: 30 }, (_, i) =>
      tool(`report_${i}`, `Weekly report summary helper ${i}: writes a weekly report summary.`),
    ),
  );
  return catalog;
}

const profile = makeProfile('default');
const QUERY = 'write the weekly report summary and email it to Bob';
const PICK_MAIL: ScriptedAnswer = { args: { servers: ['mail'] } };

interface Setup {
  serverFirst?: boolean | 'lexical';
  decompose?: boolean | 'always';
  rewrite?: boolean;
  timeoutMs?: number;
  cache?: SelectionCache;
}

function setup(answers: ScriptedAnswer[], { serverFirst = true, decompose, rewrite, timeoutMs = 2_000, cache }: Setup = {}) {
  const calls: RecordedCall[] = [];
  const model: ChatSelector = {
    chat: new ScriptedChatModel(answers, calls),
    label: 'scripted:test',
    timeoutMs,
    scrub: (text) => text,
    compact: true,
  };
  const logger = createSilentLogger();
  const warn = vi.spyOn(logger, 'warn');
  const catalog = buildCatalog();
  const summaries = new ServerSummaries({ describe: (server) => catalog.server(server)?.description ?? '' });
  const before = decompose ? createLlmDecompose({ model, logger, always: decompose === 'always' }) : undefined;
  const pre =
    serverFirst === 'lexical'
      ? createServerFirst({ summaries, logger, ...(before ? { before } : {}) })
      : createServerFirst({
          summaries,
          logger,
          model,
          servers: serverFirst,
          ...(decompose ? { decompose } : {}),
          ...(rewrite ? { rewrite } : {}),
          ...(cache ? { cache } : {}),
        });
  const selector = new GraphSelector({
    catalog,
    views: new CallerViews({ catalog, hasher }),
    candidates: 3,
    rerank: createLlmRerank({ model, logger, ...(cache ? { cache } : {}) }),
    decompose: pre,
  });
  return { selector, calls, warn };
}

const names = (tools: readonly { name: string }[]) => tools.map((entry) => entry.name);
const candidateNames = (selection: { candidates: RankedTool[] }) => names(selection.candidates.map((entry) => entry.tool));

describe('the server-first stage', () => {
  it('without it, the lexical candidates miss the mail tool: no model could choose it', async () => {
    const { selector } = setup([choose('reports.report_0')], { serverFirst: false, rewrite: false });
    // serverFirst: false and no rewrite: the node asks nothing and costs no call.
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(candidateNames(selection)).not.toContain('mail.deliver');
  });

  it('one call picks servers from one line each; their best tools join the candidates and the model can choose them', async () => {
    const { selector, calls } = setup([PICK_MAIL, choose('reports.report_0', 'mail.deliver')]);
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    const prompt = calls[0]!.messages.at(-1)!.text;
    expect(prompt).toContain(`Task: ${QUERY}`);
    expect(prompt).toContain('mail: Electronic mail: email people');
    // No description: a line derived from the server's tools.
    expect(prompt).toContain('chat: post (Post a message in a channel); react (Add a reaction to a post)');
    expect(candidateNames(selection)).toContain('mail.deliver');
    // The lexical top keeps its place: the servers take at most half of the candidates.
    expect(candidateNames(selection)[0]).toBe('reports.report_0');
    expect(selection.mode).toBe('llm');
    expect(names(selection.tools)).toEqual(['reports.report_0', 'mail.deliver']);
    expect(selection.llm?.servers).toEqual(['mail']);
  });

  it('with decompose, the same call states the needs: still two calls per selection', async () => {
    const answer = { args: { servers: ['mail'], needs: ['write a weekly report summary', 'deliver a message'] } };
    const { selector, calls } = setup([answer, choose('mail.deliver')], { decompose: 'always' });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.messages[0]!.text).toContain('"needs"');
    expect(calls[1]!.messages.at(-1)!.text).toContain(
      'Needs of the task:\n1. write a weekly report summary\n2. deliver a message',
    );
    expect(selection.llm?.needs).toEqual(['write a weekly report summary', 'deliver a message']);
    expect(names(selection.tools)).toEqual(['mail.deliver']);
  });

  it('asks in one schema only what applies: needs for a request with joins, the rewrite otherwise', async () => {
    const many = setup([PICK_MAIL, choose('mail.deliver')], { decompose: true, rewrite: true });
    await many.selector.select({ query: QUERY, profile, limit: 3 });
    const bound = JSON.stringify(many.calls[0]!.tools);
    expect(bound).toContain('"servers"');
    expect(bound).toContain('"needs"');
    expect(bound).not.toContain('"request"');
    const one = setup([{ args: { servers: [], request: 'deliver a message to the boss' } }, choose('mail.deliver')], {
      decompose: true,
      rewrite: true,
    });
    const selection = await one.selector.select({ query: 'tell my boss', profile, limit: 3 });
    const single = JSON.stringify(one.calls[0]!.tools);
    expect(single).toContain('"request"');
    expect(single).not.toContain('"needs"');
    // No server fits (an empty list is an answer), and the restatement finds the tool by its own words.
    expect(selection.llm?.servers).toBeUndefined();
    expect(candidateNames(selection)).toContain('mail.deliver');
    expect(one.calls).toHaveLength(2);
  });

  it('a restatement that only repeats the request, with no usable servers, is no answer', async () => {
    const { selector, warn } = setup([{ args: { servers: 'mail', request: QUERY } }, choose('reports.report_0')], {
      rewrite: true,
    });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(candidateNames(selection)).not.toContain('mail.deliver');
  });

  it('the rewrite alone: one call without a server list, its restatement ranked next to the request', async () => {
    const answer = { args: { request: 'deliver a message to Bob with the weekly report summary' } };
    const { selector, calls } = setup([answer, choose('mail.deliver')], { serverFirst: false, rewrite: true });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.messages.at(-1)!.text).toBe(`Task: ${QUERY}`);
    expect(candidateNames(selection)).toContain('mail.deliver');
    expect(selection.mode).toBe('llm');
  });

  it('a lexical server pick costs no call: the BM25 ranking of server lines finds the mail server by its description', async () => {
    const { selector, calls } = setup([choose('mail.deliver')], { serverFirst: 'lexical' });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(1);
    expect(candidateNames(selection)).toContain('mail.deliver');
    expect(selection.llm?.servers?.[0]).toBe('reports');
    expect(selection.llm?.servers).toContain('mail');
  });

  it('a garbage answer drops to the lexical candidates, with one warning; the choice still runs', async () => {
    const { selector, calls, warn } = setup([{ text: 'the mail server, probably' }, choose('reports.report_1')]);
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(candidateNames(selection)).not.toContain('mail.deliver');
    expect(selection.mode).toBe('llm');
    expect(selection.llm?.servers).toBeUndefined();
  });

  it('servers that were not listed are dropped; none left is the lexical candidates', async () => {
    expect(readServers({ servers: ['MAIL', 'nope', 'mail', 3] }, [{ name: 'mail', summary: '', tools: 1 }])).toEqual(['mail']);
    expect(readServers({ servers: 'mail' }, [{ name: 'mail', summary: '', tools: 1 }])).toBeUndefined();
    const { selector } = setup([{ args: { servers: ['filesystem', 'hidden'] } }, choose('reports.report_2')]);
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(candidateNames(selection)).not.toContain('mail.deliver');
    expect(selection.llm?.servers).toBeUndefined();
    expect(names(selection.tools)).toEqual(['reports.report_2']);
  });

  it('a late server pick is cut at half the deadline; the choice gets what is left', async () => {
    const { selector, calls, warn } = setup([{ stall: true, honourAbort: true }, choose('reports.report_0')], { timeoutMs: 200 });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls[0]!.aborted).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(selection.mode).toBe('llm');
    expect(candidateNames(selection)).not.toContain('mail.deliver');
  });

  it('late in both stages: one deadline for both, and the lexical candidates, never all tools', async () => {
    const { selector } = setup([{ stall: true, honourAbort: true }, { stall: true }], { timeoutMs: 200 });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(selection.mode).toBe('fallback');
    const budget = Number(/no answer within (\d+) ms/.exec(selection.llm?.error ?? '')?.[1]);
    expect(budget).toBeGreaterThan(0);
    expect(budget).toBeLessThan(200);
    expect(selection.candidates.length).toBeLessThanOrEqual(3);
    expect(selection.tools.length).toBeLessThanOrEqual(3);
  });

  it('a good pick and a failed choice keep the server-first candidates (the previous stage’s answer)', async () => {
    const { selector } = setup([PICK_MAIL, { error: 'provider down' }]);
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(selection.mode).toBe('fallback');
    expect(selection.llm?.error).toBe('provider down');
    expect(names(selection.tools)).toContain('mail.deliver');
    expect(selection.tools.length).toBeLessThanOrEqual(3);
  });

  it('a cached choice costs no call and replays the servers it was made over', async () => {
    const { selector, calls } = setup([PICK_MAIL, choose('mail.deliver')], { cache: new SelectionCache() });
    await selector.select({ query: QUERY, profile, limit: 3 });
    const again = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    expect(again.llm?.cached).toBe(true);
    expect(candidateNames(again)).toContain('mail.deliver');
    expect(names(again.tools)).toEqual(['mail.deliver']);
  });

  it('is wired from runtime.yaml through createLlmSelection; without a model nothing runs', async () => {
    const calls: RecordedCall[] = [];
    const model = {
      chat: new ScriptedChatModel([PICK_MAIL, choose('mail.deliver')], calls),
      label: 'scripted:test',
      timeoutMs: 2_000,
      scrub: (text: string) => text,
      state: { kind: 'llm' },
    } as unknown as SelectorModel;
    const catalog = buildCatalog();
    const llm = createLlmSelection({
      model,
      logger: createSilentLogger(),
      serverFirst: true,
      describeServer: (server) => catalog.server(server)?.description ?? '',
    });
    const selector = new GraphSelector({
      catalog,
      views: new CallerViews({ catalog, hasher }),
      candidates: 3,
      ...(llm.rerank ? { rerank: llm.rerank } : {}),
      ...(llm.decompose ? { decompose: llm.decompose } : {}),
    });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    expect(names(selection.tools)).toEqual(['mail.deliver']);
    const none = createLlmSelection({
      model: {
        timeoutMs: 1,
        scrub: (text: string) => text,
        state: { kind: 'lexical', reason: 'none' },
      } as unknown as SelectorModel,
      logger: createSilentLogger(),
      serverFirst: true,
    });
    expect(none.decompose).toBeUndefined();
  });
});

describe('server lines', () => {
  it('derive from the tools when there is no description, and see only what the profile sees', () => {
    const catalog = buildCatalog();
    const views = new CallerViews({ catalog, hasher });
    const describe = vi.fn((server: string) => catalog.server(server)?.description ?? '');
    const summaries = new ServerSummaries({ describe });
    const narrow = makeProfile('narrow', { tools: { allow: ['chat.react', 'reports.*'] } });
    const lines = summaries.forView(views.forProfile(narrow));
    expect(lines.map((line) => line.name)).toEqual(['chat', 'reports']);
    expect(lines[0]!.summary).toBe('react (Add a reaction to a post)');
    expect(summaries.rank(views.forProfile(narrow), 'email', 3)).toEqual([]);
  });

  it('a derived line is cut near 80 characters', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({
      tool: `tool_${i}`,
      definition: { description: `Does thing ${i}. More.` },
    })) as unknown as Parameters<typeof derivedSummary>[0];
    const line = derivedSummary(many);
    expect(line.startsWith('tool_0 (Does thing 0); tool_1 (Does thing 1)')).toBe(true);
    expect(line.length).toBeLessThanOrEqual(80);
  });

  it('the picked servers take at most a quarter of the candidates; the lexical top and the needs it served stay', () => {
    const catalog = buildCatalog();
    const views = new CallerViews({ catalog, hasher });
    const view = views.forProfile(profile);
    const selector = new GraphSelector({ catalog, views, candidates: 8 });
    const index = selector.indexFor(view);
    const candidates = index.search('weekly report', { limit: 8 });
    const serves = [[0], [0], [], [0], [1], [], [], [0]];
    const merged = withServerTools({ candidates, serves, servers: ['chat', 'mail'], index, view, text: 'post a message', k: 8 });
    expect(names(merged.candidates.map((entry) => entry.tool))).toEqual([
      ...names(candidates.slice(0, 6).map((entry) => entry.tool)),
      'chat.post',
      'mail.deliver',
    ]);
    expect(merged.serves).toEqual([[0], [0], [], [0], [1], [], [], []]);
    // A server with fewer matching tools than its share fills it with its others, in catalog order.
    const again = withServerTools({
      candidates: merged.candidates,
      serves: undefined,
      servers: ['chat'],
      index,
      view,
      text: 'post',
      k: 8,
    });
    expect(names(again.candidates.map((entry) => entry.tool)).slice(6)).toEqual(['chat.post', 'chat.react']);
    // Slots the lexical ranking leaves empty go to the picked servers too.
    const empty = withServerTools({
      candidates: [],
      serves: undefined,
      servers: ['chat', 'mail'],
      index,
      view,
      text: 'zebra',
      k: 8,
    });
    expect(names(empty.candidates.map((entry) => entry.tool))).toEqual(['chat.post', 'mail.deliver', 'chat.react']);
  });
});

describe('selector.serverFirst and selector.rewrite', () => {
  it('are off by default; serverFirst takes true or lexical, and anything else names the key', () => {
    expect(runtimeSchema.parse({ version: 1 }).selector.serverFirst).toBeUndefined();
    expect(runtimeSchema.parse({ version: 1, selector: { serverFirst: 'lexical', rewrite: true } }).selector).toMatchObject({
      serverFirst: 'lexical',
      rewrite: true,
    });
    const bad = runtimeSchema.safeParse({ version: 1, selector: { serverFirst: 'always' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['selector', 'serverFirst']);
    expect(bad.error?.issues[0]?.message).toContain('lexical');
  });
});

describe('select --explain', () => {
  it('lists the servers the stage picked', async () => {
    const { explainRanking } = await import('../../src/cli/explain.js');
    const text = explainRanking({
      profile: 'default',
      mode: 'llm',
      limit: 2,
      candidates: [{ name: 'mail.deliver', score: 0 }],
      llm: {
        model: 'scripted:test',
        candidates: 1,
        chosen: [{ name: 'mail.deliver', reason: 'mail' }],
        dropped: [],
        cached: false,
        latencyMs: 3,
        servers: ['mail', 'chat'],
      },
      selected: ['mail.deliver'],
      json: false,
    });
    expect(text).toContain('servers picked: mail · chat\n');
  });
});
