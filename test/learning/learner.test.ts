/**
 * Learning from use, in process: evidence per (term, tool) with decay and caps on an injected clock,
 * the session's recent requests (latest most, stronger when the ranking missed the tool), per-profile
 * separation, `learn: false`, persistence in the state directory, and the ranking rule that a tool
 * without evidence ranks exactly as before.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { CallerViews } from '../../src/catalog/view.js';
import type { Profile } from '../../src/config/load.js';
import { profileSchema } from '../../src/config/schema.js';
import { EvidenceTable } from '../../src/learning/evidence.js';
import { FileEvidenceStore } from '../../src/learning/fileStore.js';
import { Learner } from '../../src/learning/learner.js';
import { GraphSelector } from '../../src/selection/selector.js';

const DAY = 86_400_000;

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

/** A clock the test moves; starts at a fixed date. */
function fakeClock() {
  let now = Date.UTC(2026, 0, 1);
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const profileOf = (name: string, selection: Record<string, unknown> = {}): Profile => ({
  ...profileSchema.parse({ selection }),
  name,
});

const session = (sessionId: string) => ({ caller: 'tester', sessionId });

function newLearner(clock = fakeClock(), settings = {}, store?: FileEvidenceStore) {
  return new Learner({ clock, settings, session: { ttlSeconds: 3600, maxSessions: 100 }, ...(store ? { store } : {}) });
}

const weightOf = (learner: Learner, profile: string, tool: string, term: string, now: number) =>
  learner
    .table(profile)
    .summary(now, 100)
    .find((entry) => entry.tool === tool)
    ?.terms.find((entry) => entry.term === term)?.weight ?? 0;

describe('evidence table', () => {
  it('halves a weight every half-life on the injected clock', () => {
    const clock = fakeClock();
    const table = new EvidenceTable({ halfLifeMs: 10 * DAY, maxEntries: 100 });
    table.add('apartment', 'rent.search', 2, clock.now());
    expect(table.summary(clock.now())[0]!.weight).toBeCloseTo(2);
    clock.advance(10 * DAY);
    expect(table.summary(clock.now())[0]!.weight).toBeCloseTo(1);
    clock.advance(20 * DAY);
    expect(table.summary(clock.now())[0]!.weight).toBeCloseTo(0.25);
    // A new use adds to what is left, not to the original weight.
    table.add('apartment', 'rent.search', 1, clock.now());
    expect(table.summary(clock.now())[0]!.weight).toBeCloseTo(1.25);
    const before = table.score(['apartment'], { now: clock.now(), toolCount: 10, visible: () => true }).get('rent.search')!;
    clock.advance(30 * DAY);
    const after = table.score(['apartment'], { now: clock.now(), toolCount: 10, visible: () => true }).get('rent.search')!;
    expect(after).toBeLessThan(before);
    // After many half-lives the evidence is gone.
    clock.advance(400 * DAY);
    expect(table.score(['apartment'], { now: clock.now(), toolCount: 10, visible: () => true }).size).toBe(0);
  });

  it('keeps at most maxEntries pairs, dropping the least recently changed', () => {
    const table = new EvidenceTable({ halfLifeMs: DAY, maxEntries: 3 });
    table.add('a', 't.one', 1, 0);
    table.add('b', 't.one', 1, 1);
    table.add('c', 't.two', 1, 2);
    table.add('a', 't.one', 1, 3); // touched: now the most recent
    table.add('d', 't.two', 1, 4); // evicts ('b', t.one), the least recently changed
    expect(table.size).toBe(3);
    expect(
      table
        .entries()
        .map((entry) => `${entry.term}:${entry.tool}`)
        .sort(),
    ).toEqual(['a:t.one', 'c:t.two', 'd:t.two']);
  });

  it('never scores a tool the view does not accept', () => {
    const table = new EvidenceTable({ halfLifeMs: DAY, maxEntries: 10 });
    table.add('secret', 'vault.read', 1, 0);
    table.add('secret', 'notes.read', 1, 0);
    const scores = table.score(['secret'], { now: 0, toolCount: 5, visible: (tool) => tool !== 'vault.read' });
    expect([...scores.keys()]).toEqual(['notes.read']);
  });
});

describe('learner', () => {
  it('turns the session’s requests into evidence for the tool that ran, stronger when the ranking missed it', () => {
    const clock = fakeClock();
    const learner = newLearner(clock);
    const profile = profileOf('p');
    learner.selected({ profile, session: session('s1'), query: 'studio apartment in Vancouver', returned: ['rent.search'] });
    learner.used({ profile, session: session('s1'), tool: 'rent.search' });
    learner.selected({ profile, session: session('s2'), query: 'studio apartment in Vancouver', returned: ['maps.find'] });
    learner.used({ profile, session: session('s2'), tool: 'rent.other' });
    expect(weightOf(learner, 'p', 'rent.search', 'apartment', clock.now())).toBeCloseTo(1);
    expect(weightOf(learner, 'p', 'rent.other', 'apartment', clock.now())).toBeCloseTo(2);
    // Terms only, never the request's text.
    expect(
      learner
        .table('p')
        .entries()
        .map((entry) => entry.term),
    ).not.toContain('studio apartment in Vancouver');
  });

  it('counts every recent request of the session, the latest most', () => {
    const clock = fakeClock();
    const learner = newLearner(clock);
    const profile = profileOf('p');
    learner.selected({ profile, session: session('s'), query: 'cheap flights', returned: ['travel.book'] });
    learner.selected({ profile, session: session('s'), query: 'hotel rooms', returned: ['travel.book'] });
    learner.used({ profile, session: session('s'), tool: 'travel.book' });
    expect(weightOf(learner, 'p', 'travel.book', 'hotel', clock.now())).toBeCloseTo(1);
    expect(weightOf(learner, 'p', 'travel.book', 'flight', clock.now())).toBeCloseTo(0.25);
  });

  it('caps what one session adds to a tool, however often it loops', () => {
    const clock = fakeClock();
    const learner = newLearner(clock, { sessionCap: 2 });
    const profile = profileOf('p');
    for (let i = 0; i < 50; i++) {
      learner.selected({ profile, session: session('loop'), query: 'convert currency', returned: [] });
      learner.used({ profile, session: session('loop'), tool: 'money.convert' });
    }
    expect(weightOf(learner, 'p', 'money.convert', 'currency', clock.now())).toBeCloseTo(2);
    // Another session still counts.
    learner.selected({ profile, session: session('other'), query: 'convert currency', returned: ['money.convert'] });
    learner.used({ profile, session: session('other'), tool: 'money.convert' });
    expect(weightOf(learner, 'p', 'money.convert', 'currency', clock.now())).toBeCloseTo(3);
  });

  it('learns nothing without an automatic_mcp call in the session, and nothing after the session expired', () => {
    const clock = fakeClock();
    const learner = newLearner(clock);
    const profile = profileOf('p');
    learner.used({ profile, session: session('cold'), tool: 'x.y' });
    learner.selected({ profile, session: session('old'), query: 'weather tomorrow', returned: [] });
    clock.advance(3601 * 1000);
    learner.used({ profile, session: session('old'), tool: 'x.y' });
    expect(learner.table('p').size).toBe(0);
  });

  it('keeps evidence per profile, and a profile with learn: false neither learns nor scores', () => {
    const learner = newLearner();
    const a = profileOf('a');
    const b = profileOf('b');
    const off = profileOf('off', { learn: false });
    for (const profile of [a, off]) {
      learner.selected({ profile, session: session('s'), query: 'rental listings', returned: [] });
      learner.used({ profile, session: session('s'), tool: 'rent.search' });
    }
    const view = { size: 10, visible: () => true };
    expect(learner.scores(a, 'rental', view)?.get('rent.search')).toBeGreaterThan(0);
    expect(learner.scores(b, 'rental', view)).toBeUndefined();
    expect(learner.scores(off, 'rental', view)).toBeUndefined();
    expect(learner.table('off').size).toBe(0);
  });
});

describe('ranking with evidence', () => {
  const tool = (name: string, description: string): Tool => ({
    name,
    description,
    inputSchema: { type: 'object', properties: {} },
  });
  const WORDS = 'file read write list search issue pull request weather forecast city mail send note memory image resize'.split(
    ' ',
  );

  /** A deterministic catalog of 20 servers × 10 tools with overlapping vocabulary. */
  function buildCatalog(): Catalog {
    const catalog = new Catalog(hasher);
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let s = 0; s < 20; s++) {
      const tools: Tool[] = [];
      for (let t = 0; t < 10; t++) {
        const words = Array.from({ length: 6 }, () => WORDS[next() % WORDS.length]!);
        tools.push(tool(`${words[0]}_${words[1]}_${t}`, words.join(' ')));
      }
      catalog.setServerTools(`srv${s}`, `server ${s}`, tools);
    }
    catalog.setServerTools('rentals', 'Housing', [tool('find_listing', 'Find housing listings for rent')]);
    catalog.setServerTools('vault', 'Secrets', [tool('read_secret', 'Read a stored secret value')]);
    return catalog;
  }

  const QUERIES = [
    'read a file',
    'search the weather forecast for a city',
    'send mail with a note',
    'list pull request issues',
    'resize an image in memory',
    'write a file then search it',
  ];

  it('ranks exactly as the lexical ranker when there is no evidence for the query', async () => {
    const catalog = buildCatalog();
    const views = new CallerViews({ catalog, hasher });
    const profile = profileOf('p');
    const learner = newLearner();
    const plain = new GraphSelector({ catalog, views, candidates: 40 });
    const learning = new GraphSelector({ catalog, views, candidates: 40, learner });
    // Evidence exists, but for a term none of the queries has.
    learner.selected({ profile, session: session('s'), query: 'studio apartment in Vancouver', returned: [] });
    learner.used({ profile, session: session('s'), tool: 'rentals.find_listing' });
    expect(learner.table('p').size).toBeGreaterThan(0);
    for (const query of QUERIES) {
      const expected = await plain.select({ query, profile, limit: 10 });
      const actual = await learning.select({ query, profile, limit: 10 });
      expect(actual.candidates.map((entry) => [entry.tool.name, entry.score])).toEqual(
        expected.candidates.map((entry) => [entry.tool.name, entry.score]),
      );
    }
  });

  it('moves a used tool up for a related request; every other tool keeps its relative order', async () => {
    const catalog = buildCatalog();
    const views = new CallerViews({ catalog, hasher });
    const profile = profileOf('p');
    const learner = newLearner();
    const plain = new GraphSelector({ catalog, views, candidates: 40 });
    const learning = new GraphSelector({ catalog, views, candidates: 40, learner });
    const names = async (selector: GraphSelector, query: string, as = profile) =>
      (await selector.select({ query, profile: as, limit: 5 })).tools.map((t) => t.name);
    // Words no tool has: nothing matches lexically until use taught them.
    const learned = 'studio apartment in Vancouver';
    expect(await names(plain, learned)).toEqual([]);
    // A tool the lexical ranking puts just below the cut for a request that also says "city".
    const query = `${learned} city`;
    const before = (await plain.select({ query, profile, limit: 8 })).tools.map((t) => t.name);
    const target = before[6]!;
    for (const id of ['a', 'b', 'c']) {
      learner.selected({ profile, session: session(id), query: learned, returned: [] });
      learner.used({ profile, session: session(id), tool: 'rentals.find_listing' });
      learner.used({ profile, session: session(id), tool: target });
    }
    expect(await names(learning, learned)).toEqual(['rentals.find_listing', target].sort());
    const after = await names(learning, query);
    expect(after[0]).toBe(target);
    expect(after.filter((name) => name !== target && name !== 'rentals.find_listing')).toEqual(
      before.filter((name) => name !== target).slice(0, after.length - 1 - Number(after.includes('rentals.find_listing'))),
    );
    // A request that shares no learned term ranks as before.
    const unrelated = 'read a file and search it';
    expect(await names(learning, unrelated)).toEqual(await names(plain, unrelated));
    // Another profile's ranking is untouched.
    expect(await names(learning, query, profileOf('q'))).toEqual(before.slice(0, 5));
  });

  it('never makes a tool outside the profile visible', async () => {
    const catalog = buildCatalog();
    const views = new CallerViews({ catalog, hasher });
    const open = profileOf('p');
    const closed: Profile = { ...profileSchema.parse({ tools: { deny: ['vault.*'] } }), name: 'p' };
    const learner = newLearner();
    const selector = new GraphSelector({ catalog, views, candidates: 40, learner });
    for (const id of ['a', 'b']) {
      learner.selected({ profile: open, session: session(id), query: 'banana password', returned: [] });
      learner.used({ profile: open, session: session(id), tool: 'vault.read_secret' });
    }
    expect((await selector.select({ query: 'banana password', profile: open, limit: 5 })).tools.map((t) => t.name)).toEqual([
      'vault.read_secret',
    ]);
    expect((await selector.select({ query: 'banana password', profile: closed, limit: 5 })).tools).toEqual([]);
  });
});

describe('persistence in the state directory', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('survives a restart as terms and counts, and forgets one tool or everything', async () => {
    dir = await mkdtemp(join(tmpdir(), 'automcp-learn-'));
    const clock = fakeClock();
    const store = () => new FileEvidenceStore({ stateDir: dir!, halfLifeMs: 30 * DAY, maxEntries: 100, now: clock.now });
    const profile = profileOf('p');
    const first = newLearner(clock, {}, store());
    await first.prepare(profile);
    first.selected({ profile, session: session('s'), query: 'Find rentals near the harbour', returned: [] });
    first.used({ profile, session: session('s'), tool: 'rent.search' });
    first.selected({ profile, session: session('s'), query: 'weather at the harbour', returned: [] });
    first.used({ profile, session: session('s'), tool: 'weather.now' });
    await first.close();

    const text = await readFile(join(dir, 'learned', 'p.json'), 'utf8');
    expect(text).toContain('"rental"');
    expect(text).not.toContain('Find rentals near the harbour');

    const second = newLearner(clock, {}, store());
    await second.prepare(profile);
    expect(second.scores(profile, 'rentals', { size: 10, visible: () => true })?.get('rent.search')).toBeGreaterThan(0);
    await second.close();

    expect(await store().forget('p', 'rent.search')).toBeGreaterThan(0);
    const third = newLearner(clock, {}, store());
    await third.prepare(profile);
    expect(
      third
        .table('p')
        .summary(clock.now())
        .map((entry) => entry.tool),
    ).toEqual(['weather.now']);
    await store().forget('p');
    const fourth = newLearner(clock, {}, store());
    await fourth.prepare(profile);
    expect(fourth.table('p').size).toBe(0);
  });

  it('adds up what two processes sharing the directory learned', async () => {
    dir = await mkdtemp(join(tmpdir(), 'automcp-learn-'));
    const clock = fakeClock();
    const store = () => new FileEvidenceStore({ stateDir: dir!, halfLifeMs: 30 * DAY, maxEntries: 100, now: clock.now });
    const profile = profileOf('p');
    const [one, two] = [newLearner(clock, {}, store()), newLearner(clock, {}, store())];
    for (const learner of [one, two]) {
      await learner.prepare(profile);
      learner.selected({ profile, session: session('s'), query: 'rentals', returned: ['rent.search'] });
      learner.used({ profile, session: session('s'), tool: 'rent.search' });
      await learner.flush();
    }
    const reader = newLearner(clock, {}, store());
    await reader.prepare(profile);
    expect(weightOf(reader, 'p', 'rent.search', 'rental', clock.now())).toBeCloseTo(2);
    await Promise.all([one.close(), two.close(), reader.close()]);
  });
});
