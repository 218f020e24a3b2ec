/**
 * Keyword stuffing: a tool whose description (or parameter list) is every word users ask with must not
 * outrank the tool a request is for, and tools that are not broad rank exactly as they did before the
 * ranker learned to resist stuffing. Also the stuffed tools the stuffing bench builds.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { CallerViews } from '../../src/catalog/view.js';
import { profileSchema } from '../../src/config/schema.js';
import { UNDEFENDED } from '../../src/bench/stuffing.js';
import { requestWords, stuffedDataset, stuffedDescription, STUFFED_NAME } from '../../src/bench/stuffed.js';
import { DEFAULT_PARAMETERS, LexicalIndex, type RankedTool } from '../../src/selection/lexical.js';
import { GraphSelector } from '../../src/selection/selector.js';
import { terms } from '../../src/selection/text.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (name: string, description: string, properties: Record<string, object> = {}): Tool => ({
  name,
  description,
  inputSchema: { type: 'object', properties },
});
const names = (ranked: RankedTool[]) => ranked.map((entry) => entry.tool.name);

/** Requests as users write them; the stuffed tool is built from their words. */
const REQUESTS = [
  'set up a meeting with my team tomorrow morning to review the quarterly budget',
  'what will the weather be like in paris this weekend',
  'send an email to my landlord about the broken heating',
  'find the cheapest flight from boston to denver next friday',
  'remind me to call the dentist on monday afternoon',
  'translate this paragraph into spanish for my grandmother',
  'how many steps did i walk last week according to my tracker',
  'book a table for four at an italian restaurant downtown tonight',
];

/** Filler a stuffer adds to reach more requests: many distinct words, none about any one tool. */
const FILLER = Array.from({ length: 300 }, (_, i) => `topic${String.fromCharCode(97 + (i % 26))}${Math.floor(i / 26)}x`).join(
  ' ',
);

function catalog(extra: (catalog: Catalog) => void = () => undefined): Catalog {
  const built = new Catalog(hasher);
  built.setServerTools('calendar', '', [
    tool('create_event', 'Create a calendar event or meeting.', { title: { type: 'string', description: 'Event title' } }),
    tool('list_events', 'List the events of a day.', { day: { type: 'string' } }),
  ]);
  built.setServerTools('weather', '', [tool('get_forecast', 'Weather forecast for a city.', { city: { type: 'string' } })]);
  built.setServerTools('mail', '', [tool('send_email', 'Send an email message to a recipient.', { to: { type: 'string' } })]);
  built.setServerTools('travel', '', [
    tool('search_flights', 'Search flights between two airports.', { from: { type: 'string' } }),
  ]);
  built.setServerTools('reminders', '', [tool('add_reminder', 'Add a reminder for a time.', { when: { type: 'string' } })]);
  built.setServerTools('translate', '', [
    tool('translate_text', 'Translate text into another language.', { text: { type: 'string' } }),
  ]);
  built.setServerTools('fitness', '', [tool('daily_steps', 'Step counts from a fitness tracker.', { days: { type: 'number' } })]);
  built.setServerTools('dining', '', [tool('reserve_table', 'Reserve a table at a restaurant.', { party: { type: 'number' } })]);
  extra(built);
  return built;
}

const stuffedWords = `${REQUESTS.join(' ')} ${FILLER}`;

function index(built: Catalog, parameters: Partial<typeof DEFAULT_PARAMETERS> = {}): LexicalIndex {
  return new LexicalIndex(built.tools(), built.servers(), { parameters });
}

/** For each request, the tool it is for. */
const INTENDED: [string, string][] = [
  [REQUESTS[0]!, 'calendar.create_event'],
  [REQUESTS[3]!, 'travel.search_flights'],
  [REQUESTS[5]!, 'translate.translate_text'],
  [REQUESTS[6]!, 'fitness.daily_steps'],
  [REQUESTS[7]!, 'dining.reserve_table'],
];

describe('a keyword-stuffed tool', () => {
  const stuffedInDescription = (built: Catalog) => built.setServerTools('stuffing', '', [tool('stuffed', stuffedWords)]);
  const stuffedInParameters = (built: Catalog) =>
    built.setServerTools('stuffing', '', [
      tool('stuffed', 'Stuffed.', { request: { type: 'string', description: stuffedWords } }),
    ]);

  it('outranks the intended tool when nothing resists it (so the fixture is a real attack)', () => {
    const undefended = index(catalog(stuffedInDescription), UNDEFENDED);
    const beaten = INTENDED.filter(([request, intended]) => names(undefended.search(request, { limit: 5 }))[0] !== intended);
    expect(beaten.length).toBeGreaterThan(0);
  });

  it.each([
    ['its description', stuffedInDescription],
    ['a parameter description', stuffedInParameters],
  ])('ranks below the tool each request is for, stuffed in %s, and in fewer top-5 lists', (_, stuff) => {
    const defended = index(catalog(stuff));
    const undefended = index(catalog(stuff), UNDEFENDED);
    const listed = (ranker: LexicalIndex) =>
      REQUESTS.filter((request) => names(ranker.search(request, { limit: 5 })).includes(STUFFED_NAME)).length;
    for (const [request, intended] of INTENDED) {
      expect(names(defended.search(request, { limit: 5 }))[0], request).toBe(intended);
    }
    expect(listed(defended)).toBeLessThan(listed(undefended));
  });

  it('is still found when nothing else matches the request (the ranker demotes it, it does not hide it)', () => {
    const ranked = index(catalog(stuffedInDescription));
    expect(names(ranked.search('quarterly budget review', { limit: 5 }))).toContain(STUFFED_NAME);
  });
});

describe('the selector with other ranking parameters', () => {
  it('ranks with the parameters it was given, before and after a catalog change', async () => {
    const built = catalog((extra) => extra.setServerTools('stuffing', '', [tool('stuffed', stuffedWords)]));
    const views = new CallerViews({ catalog: built, hasher });
    const profile = { ...profileSchema.parse({}), name: 'default' };
    const select = async (selector: GraphSelector) =>
      (await Promise.all(INTENDED.map(([query]) => selector.select({ query, profile, limit: 5 })))).map((selection) =>
        selection.tools.map((entry) => entry.name),
      );
    const defended = new GraphSelector({ catalog: built, views, candidates: 5 });
    const undefended = new GraphSelector({ catalog: built, views, candidates: 5, lexical: UNDEFENDED });
    const firsts = (lists: string[][]) => lists.filter((list) => list[0] === STUFFED_NAME).length;
    expect(firsts(await select(undefended))).toBeGreaterThan(firsts(await select(defended)));
    // An index derived after a change keeps the parameters of the one it came from.
    built.setServerTools('notes', '', [tool('create_note', 'Create a note.')]);
    expect(firsts(await select(undefended))).toBeGreaterThan(firsts(await select(defended)));
  });
});

describe('tools that are not broad', () => {
  it('rank exactly as without the stuffing defence: same tools, same scores', () => {
    const normal = catalog((built) =>
      built.setServerTools('docs', '', [
        // A long, real description: many words, but far fewer distinct terms than the breadth.
        tool('search_docs', `Search the documentation. ${'Pages are matched by title, heading and body text. '.repeat(20)}`),
      ]),
    );
    const defended = index(normal);
    const undefended = index(normal, UNDEFENDED);
    for (const request of [...REQUESTS, 'search documentation pages by heading']) {
      expect(defended.search(request, { limit: 10 })).toEqual(undefended.search(request, { limit: 10 }));
    }
  });

  it('a broad but real tool is still first for what its name says', () => {
    const manual = Array.from(
      { length: 150 },
      (_, i) => `option${String.fromCharCode(97 + (i % 26))}${Math.floor(i / 26)}z`,
    ).join(' ');
    const built = catalog((extra) =>
      extra.setServerTools('pdf', '', [tool('merge_pdf_files', `Merge PDF files. Options: ${manual}`)]),
    );
    expect(names(index(built).search('merge two pdf files into one', { limit: 5 }))[0]).toBe('pdf.merge_pdf_files');
  });
});

describe('stuffed tools of the stuffing bench', () => {
  it('list the words most requests hold first, without stopwords', () => {
    const words = requestWords(['find the weather', 'find a flight', 'weather in paris', 'find news']);
    expect(words[0]).toEqual({ word: 'find', requests: 3 });
    expect(words[1]).toEqual({ word: 'weather', requests: 2 });
    expect(words.map((entry) => entry.word)).not.toContain('the');
  });

  it('make each way as its legend says', () => {
    const top = stuffedDescription(REQUESTS, 'top400').split(' ');
    expect(new Set(top).size).toBe(top.length);
    expect(top.length).toBe(Math.min(400, requestWords(REQUESTS).length));
    expect(stuffedDescription(REQUESTS, 'top40').split(' ')).toEqual(top.slice(0, 40));
    const asked = [...REQUESTS, 'find a dentist', 'find a restaurant'];
    const weighted = stuffedDescription(asked, 'weighted400').split(' ');
    expect(weighted).toHaveLength(400);
    // Frequent words are repeated more: "find" is in three requests, "paris" in one.
    const count = (word: string) => weighted.filter((entry) => entry === word).length;
    expect(count('find')).toBeGreaterThan(count('paris'));
    expect(count('paris')).toBeGreaterThan(0);
    expect(terms(stuffedDescription(REQUESTS, 'distinct')).length).toBeGreaterThan(0);
  });

  it('put the words in a parameter for params400, and name the tool as the bench watches it', () => {
    const [server] = stuffedDataset('find weather', 'params400').servers;
    const [stuffed] = server!.tools;
    expect(`${server!.name}.${stuffed!.name}`).toBe(STUFFED_NAME);
    expect(stuffed!.description).not.toContain('weather');
    expect(JSON.stringify(stuffed!.inputSchema)).toContain('find weather');
  });
});
