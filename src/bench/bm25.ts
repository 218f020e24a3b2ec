/**
 * Plain Okapi BM25, the reference every selection figure is reported next to (CONTRACT §5). It is the
 * baseline, not a product ranker, so it stays as plain as the contract says: one field per tool (server
 * name, tool name split into words, description), k1 1.2, b 0.75, no field weights, no stemming, no
 * schema, no re-ordering after scoring.
 *
 * Tokenisation: identifiers and text are split into lowercase ASCII letter/digit runs, camelCase split
 * too (`readTextFile` and `read_text_file` both give read, text, file) — the least any reading of "tool
 * name split into words" implies — and Lucene's classic 33-word English stop set is dropped. Of the
 * tokenisations tried (with or without camelCase splitting, whitespace only, this stop set, the
 * ranker's longer one), this one comes closest to the plain-BM25 figures published with the
 * toolgym-tasks dataset (Recall@5 0.281 against 0.283, server Recall@5 0.713 against 0.718).
 */
import type { CatalogTool } from '../catalog/types.js';
import { splitWords } from '../selection/text.js';

/** Lucene's classic English stop set (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`). */
const STOPWORDS = new Set(
  'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with'.split(
    ' ',
  ),
);

/** The words plain BM25 reads from text: split as identifiers are, lowercased, stopwords dropped. */
export function bm25Tokens(text: string): string[] {
  return splitWords(text).filter((word) => !STOPWORDS.has(word));
}

/** A tool's plain BM25 score for a query. */
export interface Bm25Hit {
  tool: CatalogTool;
  score: number;
}

/** BM25 parameters; the defaults are the contract's. */
export interface Bm25Parameters {
  k1: number;
  b: number;
}

/** The words BM25 indexes for a tool: its server name, its own name split into words, its description. */
export function bm25Words(tool: Pick<CatalogTool, 'server' | 'tool' | 'definition'>): string[] {
  return bm25Tokens(`${tool.server} ${tool.tool} ${tool.definition.description}`);
}

/** A plain BM25 index over tools. */
export class Bm25Index {
  readonly #tools: readonly CatalogTool[];
  readonly #postings = new Map<string, { ids: number[]; tf: number[] }>();
  readonly #lengths: number[] = [];
  readonly #avg: number;
  readonly #k1: number;
  readonly #b: number;

  constructor(tools: readonly CatalogTool[], parameters: Partial<Bm25Parameters> = {}) {
    this.#tools = tools;
    this.#k1 = parameters.k1 ?? 1.2;
    this.#b = parameters.b ?? 0.75;
    let total = 0;
    tools.forEach((tool, id) => {
      const words = bm25Words(tool);
      this.#lengths.push(words.length);
      total += words.length;
      const counts = new Map<string, number>();
      for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
      for (const [word, count] of counts) {
        let posting = this.#postings.get(word);
        if (!posting) this.#postings.set(word, (posting = { ids: [], tf: [] }));
        posting.ids.push(id);
        posting.tf.push(count);
      }
    });
    this.#avg = total / Math.max(tools.length, 1) || 1;
  }

  /**
   * The score of every tool that shares a word with `query`, best first; equal scores keep catalog
   * order. Each distinct query word counts once (a repeated query word does not weigh more).
   */
  search(query: string, limit: number): Bm25Hit[] {
    const n = this.#tools.length;
    const scores = new Map<number, number>();
    for (const word of new Set(bm25Tokens(query))) {
      const posting = this.#postings.get(word);
      if (!posting) continue;
      const df = posting.ids.length;
      // The "+1" form of idf (Lucene's): never negative, so a word in most tools still adds a little.
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      posting.ids.forEach((id, i) => {
        const tf = posting.tf[i]!;
        const norm = 1 - this.#b + (this.#b * this.#lengths[id]!) / this.#avg;
        scores.set(id, (scores.get(id) ?? 0) + (idf * tf * (this.#k1 + 1)) / (tf + this.#k1 * norm));
      });
    }
    return [...scores]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, limit)
      .map(([id, score]) => ({ tool: this.#tools[id]!, score }));
  }
}
