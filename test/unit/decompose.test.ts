import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { CallerViews } from '../../src/catalog/view.js';
import { explainRanking } from '../../src/cli/explain.js';
import { runtimeSchema } from '../../src/config/schema.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { SelectionCache } from '../../src/selection/cache.js';
import { createLlmDecompose, looksSingleNeed, readNeeds } from '../../src/selection/decompose.js';
import { interleave, type RerankNode } from '../../src/selection/graph.js';
import type { RankedTool } from '../../src/selection/lexical.js';
import { createLlmRerank, type ChatSelector } from '../../src/selection/llm.js';
import { compactLine } from '../../src/selection/prompts.js';
import { GraphSelector } from '../../src/selection/selector.js';
import { choose, ScriptedChatModel, type RecordedCall, type ScriptedAnswer } from '../helpers/fakeChatModels.js';
import { makeProfile } from '../helpers/inprocess.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (name: string, description: string): Tool => ({ name, description, inputSchema: { type: 'object' } });

/** Thirty report tools that win every lexical ranking of the request, and the one mail tool it also needs. */
function buildCatalog(): Catalog {
  const catalog = new Catalog(hasher);
  catalog.setServerTools('mail', 'Electronic mail', [tool('send_email', 'Send an email message to a recipient.')]);
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
const QUERY = 'write the weekly report summary and get it over to Bob';
const NEEDS = { args: { needs: ['write a weekly report summary', 'send an email'] } };

function setup(
  answers: ScriptedAnswer[],
  {
    decompose = true,
    always = false,
    timeoutMs = 2_000,
    cache,
  }: { decompose?: boolean; always?: boolean; timeoutMs?: number; cache?: SelectionCache } = {},
) {
  const calls: RecordedCall[] = [];
  const model: ChatSelector = {
    chat: new ScriptedChatModel(answers, calls),
    label: 'scripted:test',
    timeoutMs,
    scrub: (text) => text,
    compact: true,
  };
  const logger = createSilentLogger();
  const catalog = buildCatalog();
  const selector = new GraphSelector({
    catalog,
    views: new CallerViews({ catalog, hasher }),
    candidates: 3,
    rerank: createLlmRerank({ model, logger, ...(cache ? { cache } : {}) }),
    ...(decompose ? { decompose: createLlmDecompose({ model, logger, always, ...(cache ? { cache } : {}) }) } : {}),
  });
  return { selector, calls };
}

const names = (tools: readonly { name: string }[]) => tools.map((entry) => entry.name);

describe('the decompose node', () => {
  it('without it, the lexical candidates miss the second need: the model cannot reach the mail tool', async () => {
    const { selector, calls } = setup([choose('reports.report_0')], { decompose: false });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(names(selection.candidates.map((entry) => entry.tool))).not.toContain('mail.send_email');
    expect(calls).toHaveLength(1);
  });

  it('retrieves per need: every need keeps its best tool, and the final pick sees which need each serves', async () => {
    const { selector, calls } = setup([NEEDS, choose('reports.report_0', 'mail.send_email')]);
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.messages.at(-1)!.text).toBe(`Task: ${QUERY}`);
    const prompt = calls[1]!.messages.at(-1)!.text;
    expect(prompt).toContain('Needs of the task:\n1. write a weekly report summary\n2. send an email');
    expect(prompt).toMatch(/mail\.send_email: "Send an email message to a recipient" \(need 2\)/);
    expect(names(selection.candidates.map((entry) => entry.tool))).toContain('mail.send_email');
    expect(selection.mode).toBe('llm');
    expect(names(selection.tools)).toEqual(['reports.report_0', 'mail.send_email']);
    expect(selection.llm?.needs).toEqual(['write a weekly report summary', 'send an email']);
  });

  it('a choice the cache holds costs no call at all, decomposition included', async () => {
    const { selector, calls } = setup([NEEDS, choose('mail.send_email')], { cache: new SelectionCache() });
    await selector.select({ query: QUERY, profile, limit: 3 });
    const again = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    expect(again.llm?.cached).toBe(true);
    expect(names(again.tools)).toEqual(['mail.send_email']);
  });

  it('a request that reads as one need costs no extra call, unless decompose is always', async () => {
    const once = setup([choose('mail.send_email')]);
    await once.selector.select({ query: 'email my boss', profile, limit: 3 });
    expect(once.calls).toHaveLength(1);
    const always = setup([{ args: { needs: ['send an email'] } }, choose('mail.send_email')], { always: true });
    const selection = await always.selector.select({ query: 'mail my boss', profile, limit: 3 });
    expect(always.calls).toHaveLength(2);
    // The one need, restated, is ranked next to the request: "send an email" finds the mail tool.
    expect(names(selection.tools)).toEqual(['mail.send_email']);
  });

  it('a garbage decomposition drops to ranking the request as a whole; the choice still runs', async () => {
    const { selector, calls } = setup([{ text: 'I think you need several things' }, choose('reports.report_1')]);
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls).toHaveLength(2);
    expect(names(selection.candidates.map((entry) => entry.tool))).not.toContain('mail.send_email');
    expect(selection.mode).toBe('llm');
    expect(selection.llm?.needs).toBeUndefined();
    expect(calls[1]!.messages.at(-1)!.text).not.toContain('Needs of the task');
  });

  it('a late decomposition is cut at half the deadline; the choice gets what is left, not a fresh timeout', async () => {
    const { selector, calls } = setup([{ stall: true, honourAbort: true }, { stall: true }], { timeoutMs: 200 });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(calls[0]!.aborted).toBe(true);
    expect(selection.mode).toBe('fallback');
    const budget = Number(/no answer within (\d+) ms/.exec(selection.llm?.error ?? '')?.[1]);
    expect(budget).toBeGreaterThan(0);
    expect(budget).toBeLessThan(200);
    // Bounded: the lexical candidates, never the whole catalog.
    expect(selection.tools.length).toBeLessThanOrEqual(3);
  });

  it('a failed choice after a good decomposition keeps the decomposed candidates (the previous stage’s answer)', async () => {
    const { selector } = setup([NEEDS, { error: 'provider down' }]);
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(selection.mode).toBe('fallback');
    expect(selection.llm?.error).toBe('provider down');
    expect(names(selection.tools)).toContain('mail.send_email');
  });

  it('without a model the decompose node never runs (the graph is not compiled)', async () => {
    let ran = 0;
    const decompose: RerankNode = async () => {
      ran += 1;
      return {};
    };
    const catalog = buildCatalog();
    const selector = new GraphSelector({ catalog, views: new CallerViews({ catalog, hasher }), candidates: 3, decompose });
    const selection = await selector.select({ query: QUERY, profile, limit: 3 });
    expect(ran).toBe(0);
    expect(selection.mode).toBe('lexical');
  });
});

describe('decomposition parts', () => {
  it('interleaves rankings so each keeps its best, records which needs found each candidate', () => {
    const ranked = (...list: string[]): RankedTool[] =>
      list.map((name, i) => ({ tool: { name } as RankedTool['tool'], score: 10 - i }) as RankedTool);
    const { candidates, serves } = interleave([ranked('a', 'b', 'c'), ranked('x', 'a'), ranked('q', 'b')], 4, 2);
    expect(candidates.map((entry) => entry.tool.name)).toEqual(['a', 'x', 'q', 'b']);
    expect(serves).toEqual([[0, 1], [1], [], [0]]);
  });

  it('reads needs: strings only, each once, at most four; nothing usable is undefined', () => {
    expect(readNeeds({ needs: ['a b', 'A B', 3, 'c', 'd', 'e', 'f'] })).toEqual(['a b', 'c', 'd', 'e']);
    expect(readNeeds({ needs: [] })).toBeUndefined();
    expect(readNeeds('needs')).toBeUndefined();
  });

  it('tells one need from several by joins and length', () => {
    expect(looksSingleNeed('send an email to my boss')).toBe(true);
    expect(looksSingleNeed('read the file and send it')).toBe(false);
    expect(looksSingleNeed('find papers, download them')).toBe(false);
  });

  it('a compact line is the name and the first clause', () => {
    const entry = { name: 's.t', definition: { description: 'Lists files (recursively). Slow on big trees.' } };
    expect(compactLine(entry as Parameters<typeof compactLine>[0])).toBe('s.t: "Lists files"');
  });

  it('selector.decompose is off by default, true or always', () => {
    expect(runtimeSchema.parse({ version: 1 }).selector).toEqual({ candidates: 40 });
    expect(runtimeSchema.parse({ version: 1, selector: { decompose: 'always' } }).selector.decompose).toBe('always');
    expect(runtimeSchema.safeParse({ version: 1, selector: { decompose: 'sometimes' } }).success).toBe(false);
  });
});

describe('select --explain', () => {
  it('lists the needs the candidates were found for', () => {
    const text = explainRanking({
      profile: 'default',
      mode: 'llm',
      limit: 2,
      candidates: [{ name: 'mail.send_email', score: 1 }],
      llm: {
        model: 'scripted:test',
        candidates: 1,
        chosen: [{ name: 'mail.send_email', reason: 'mail' }],
        dropped: [],
        cached: false,
        latencyMs: 3,
        needs: ['write a report', 'send an email'],
      },
      selected: ['mail.send_email'],
      json: false,
    });
    expect(text).toContain('needs: 1. write a report · 2. send an email\n');
  });
});
