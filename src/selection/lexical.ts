/**
 * The lexical ranker: field-weighted BM25 (BM25F) over each tool's qualified name, split tool name,
 * description, parameter names and descriptions, and its server's name and description. Per-field
 * length normalisation keeps a long description from drowning a short, exact name; the weights favour
 * names because a name states what a tool does far more reliably than prose.
 */
import type { CatalogServer, CatalogTool } from '../catalog/types.js';
import { terms } from './text.js';

/** A tool and its lexical score, best first. */
export interface RankedTool {
  tool: CatalogTool;
  score: number;
}

const FIELDS = ['name', 'description', 'params', 'server'] as const;
type Field = (typeof FIELDS)[number];

const WEIGHTS: Record<Field, number> = { name: 3, description: 1.5, params: 0.7, server: 0.8 };
const B: Record<Field, number> = { name: 0.5, description: 0.75, params: 0.75, server: 0.5 };
const K1 = 1.2;

interface Doc {
  tool: CatalogTool;
  /** term → weighted, length-normalised frequency (the BM25F pseudo-frequency). */
  tf: Map<string, number>;
}

/** An index over one catalog version; build once, query many times. */
export class LexicalIndex {
  readonly #docs: Doc[];
  readonly #postings = new Map<string, number[]>();
  readonly #idf = new Map<string, number>();
  readonly #position = new Map<string, number>();

  constructor(tools: readonly CatalogTool[], servers: readonly CatalogServer[]) {
    const serverText = new Map(servers.map((server) => [server.name, `${server.name} ${server.description}`]));
    const fieldTerms = tools.map((tool) => fieldsOf(tool, serverText.get(tool.server) ?? tool.server));
    const avg = averageLengths(fieldTerms);
    this.#docs = tools.map((tool, index) => {
      const tf = new Map<string, number>();
      for (const field of FIELDS) {
        const list = fieldTerms[index]![field];
        if (list.length === 0) continue;
        const norm = 1 - B[field] + (B[field] * list.length) / (avg[field] || 1);
        const counts = new Map<string, number>();
        for (const term of list) counts.set(term, (counts.get(term) ?? 0) + 1);
        for (const [term, count] of counts) tf.set(term, (tf.get(term) ?? 0) + (WEIGHTS[field] * count) / norm);
      }
      return { tool, tf };
    });
    this.#docs.forEach((doc, index) => {
      this.#position.set(doc.tool.name, index);
      for (const term of doc.tf.keys()) {
        let list = this.#postings.get(term);
        if (!list) this.#postings.set(term, (list = []));
        list.push(index);
      }
    });
    const n = this.#docs.length;
    for (const [term, list] of this.#postings) {
      this.#idf.set(term, Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5)));
    }
  }

  /** Number of indexed tools. */
  get size(): number {
    return this.#docs.length;
  }

  /**
   * The best `limit` tools for `query` among those `allowed` accepts, best first. Tools with no
   * matching term are left out: a ranking of zeros would only be catalog order in disguise.
   */
  search(query: string, options: { limit: number; allowed?: (tool: CatalogTool) => boolean }): RankedTool[] {
    const queryTerms = [...new Set(terms(query))];
    const scores = new Map<number, number>();
    for (const term of queryTerms) {
      const list = this.#postings.get(term);
      if (!list) continue;
      const idf = this.#idf.get(term) ?? 0;
      for (const index of list) {
        const tf = this.#docs[index]!.tf.get(term) ?? 0;
        scores.set(index, (scores.get(index) ?? 0) + (idf * tf * (K1 + 1)) / (tf + K1));
      }
    }
    const ranked: RankedTool[] = [];
    for (const [index, score] of scores) {
      const tool = this.#docs[index]!.tool;
      if (options.allowed && !options.allowed(tool)) continue;
      ranked.push({ tool, score });
    }
    ranked.sort((a, b) => b.score - a.score || (this.#position.get(a.tool.name) ?? 0) - (this.#position.get(b.tool.name) ?? 0));
    return ranked.slice(0, options.limit);
  }
}

function fieldsOf(tool: CatalogTool, serverText: string): Record<Field, string[]> {
  const schema = tool.definition.inputSchema as { properties?: Record<string, { description?: unknown }> };
  const params = Object.entries(schema.properties ?? {})
    .map(([name, prop]) => `${name} ${typeof prop?.description === 'string' ? prop.description : ''}`)
    .join(' ');
  return {
    name: terms(`${tool.name} ${tool.tool}`),
    description: terms(tool.definition.description),
    params: terms(params),
    server: terms(serverText),
  };
}

function averageLengths(docs: readonly Record<Field, string[]>[]): Record<Field, number> {
  const sum: Record<Field, number> = { name: 0, description: 0, params: 0, server: 0 };
  for (const doc of docs) for (const field of FIELDS) sum[field] += doc[field].length;
  const n = Math.max(docs.length, 1);
  return { name: sum.name / n, description: sum.description / n, params: sum.params / n, server: sum.server / n };
}
