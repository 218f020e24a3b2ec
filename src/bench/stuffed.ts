/**
 * Keyword-stuffed tools: a tool that does nothing, whose description is the words users ask with, built
 * from a dev set's own requests. It is the cheapest attack on a lexical ranker — a third-party server
 * that wants its tool shown (and its text read by the agent) for every request — and the stuffing bench
 * (stuffing.ts) adds one to each catalog to see how often it gets into the top of the list.
 */
import { splitWords, terms } from '../selection/text.js';
import type { Dataset } from './dataset.js';

/** How the stuffed description is made from the requests' words. */
export type StuffingWay = 'top400' | 'weighted400' | 'distinct' | 'params400' | 'top40';

/** The ways the bench measures, in the order it prints them. */
export const STUFFING_WAYS: readonly StuffingWay[] = ['top400', 'weighted400', 'distinct', 'params400', 'top40'];

/** The ways the ranker is meant to resist; `top40` is a description of ordinary length, its known limit. */
export const RESISTED_WAYS: readonly StuffingWay[] = ['top400', 'weighted400', 'distinct', 'params400'];

/** What each way means, for the bench's legend. */
export const STUFFING_LEGEND: Record<StuffingWay, string> = {
  top400: 'the 400 words found in the most requests, each once',
  weighted400: '400 words drawn in proportion to how many requests hold each (frequent words repeated)',
  distinct: 'every distinct request word, most frequent first, up to 2,000',
  params400: "top400 as the description of its one parameter (the tool's own description one word)",
  top40: 'the 40 words found in the most requests: a description of ordinary length, not broad (the limit)',
};

/** The server and tool name of the stuffed tool: words no request of the dev sets uses. */
export const STUFFED_SERVER = 'stuffing';
export const STUFFED_TOOL = 'stuffed';
/** Its qualified name. */
export const STUFFED_NAME = `${STUFFED_SERVER}.${STUFFED_TOOL}`;

const TOKENS = 400;
const DISTINCT_CAP = 2000;

/**
 * Request words by the number of requests holding each, most first (ties alphabetical, so the result
 * does not depend on the order of the requests). Words the ranker drops as stopwords are left out:
 * an attacker gains nothing from them, and they would only lengthen the description.
 */
export function requestWords(requests: readonly string[]): { word: string; requests: number }[] {
  const counts = new Map<string, number>();
  for (const request of requests) {
    for (const word of new Set(splitWords(request))) {
      if (terms(word).length > 0) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return [...counts]
    .map(([word, count]) => ({ word, requests: count }))
    .sort((a, b) => b.requests - a.requests || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
}

/** The stuffed description for `requests`, made the given way. */
export function stuffedDescription(requests: readonly string[], way: StuffingWay): string {
  const words = requestWords(requests);
  const first = (count: number) =>
    words
      .slice(0, count)
      .map((entry) => entry.word)
      .join(' ');
  if (way === 'top400' || way === 'params400') return first(TOKENS);
  if (way === 'top40') return first(40);
  if (way === 'distinct') return first(DISTINCT_CAP);
  // Largest remainder: each word gets its share of the 400 tokens, rounded so the total is exact.
  const total = words.reduce((sum, entry) => sum + entry.requests, 0);
  const shares = words.map((entry) => ({ ...entry, exact: (entry.requests / Math.max(total, 1)) * TOKENS }));
  const counts = shares.map((entry) => Math.floor(entry.exact));
  let left = TOKENS - counts.reduce((sum, count) => sum + count, 0);
  const byRemainder = shares
    .map((entry, index) => ({ index, rest: entry.exact - counts[index]! }))
    .sort((a, b) => b.rest - a.rest);
  for (const { index } of byRemainder) {
    if (left <= 0) break;
    counts[index]! += 1;
    left -= 1;
  }
  // Repeats spread round-robin, as an attacker would write them: "weather forecast weather news …".
  const out: string[] = [];
  for (let round = 0; out.length < TOKENS && round < TOKENS; round++) {
    shares.forEach((entry, index) => {
      if (counts[index]! > round) out.push(entry.word);
    });
  }
  return out.join(' ');
}

/**
 * A one-server dataset holding the stuffed tool, to join a catalog as a distractor file does. The
 * `params400` way puts the words in a parameter's description instead of the tool's.
 */
export function stuffedDataset(words: string, way: StuffingWay = 'top400'): Dataset {
  const inParams = way === 'params400';
  const tool = {
    name: STUFFED_TOOL,
    description: inParams ? 'Stuffed.' : words,
    inputSchema: inParams
      ? { type: 'object', properties: { request: { type: 'string', description: words } } }
      : { type: 'object', properties: {} },
  };
  return {
    name: 'stuffed tool',
    source: '',
    license: '',
    file: '(stuffed tool)',
    servers: [
      {
        name: STUFFED_SERVER,
        description: '',
        tools: [tool],
      },
    ],
    queries: [],
  };
}
