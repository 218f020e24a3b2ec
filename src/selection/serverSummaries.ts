/**
 * One line per server, for the server-first stage (serverFirst.ts): what a model reads to pick servers,
 * and what a lexical ranking of servers reads when no model picks.
 *
 * A server's line is its runtime.yaml `description`; a server without one gets a line derived from its
 * tools (names and the first clause of each description). Derived lines are cached by the server's tool
 * hashes, so a catalog change re-derives only the servers whose tools changed. Everything is computed
 * from the caller's view: a server's hidden tools neither appear in its line nor rank it, and a server
 * with no visible tool is not listed at all (a profile must not learn that it exists).
 */
import { LRUCache } from 'lru-cache';
import type { CallerView } from '../catalog/view.js';
import type { CatalogTool } from '../catalog/types.js';
import { clip } from './prompts.js';
import { terms } from './text.js';

/** One server as the server-first stage shows it. */
export interface ServerSummary {
  name: string;
  /** One line: the description, or what its tools do. */
  summary: string;
  /** Visible tools of the server. */
  tools: number;
}

/** Longest summary line, in characters: about 20 cl100k tokens. */
export const SUMMARY_CHARS = 80;
/** Longest first clause of one tool inside a derived summary. */
const TOOL_CLAUSE_CHARS = 40;

/** The servers of one caller view: their lines, their tools, and a BM25 index over them. */
interface ViewServers {
  summaries: ServerSummary[];
  tools: Map<string, CatalogTool[]>;
  index: ServerIndex;
}

/** Builds and caches server lines per caller view. */
export class ServerSummaries {
  readonly #describe: (server: string) => string;
  /** Derived lines by (server, description, tool hashes). */
  readonly #lines = new LRUCache<string, string>({ max: 20_000 });
  readonly #views = new WeakMap<CallerView, ViewServers>();

  /** `describe` gives a server's runtime.yaml `description` ('' when it has none). */
  constructor({ describe }: { describe: (server: string) => string }) {
    this.#describe = describe;
  }

  /** The servers of `view`, in catalog order. */
  forView(view: CallerView): ServerSummary[] {
    return this.#servers(view).summaries;
  }

  /** The visible tools of `server` in `view`, in catalog order. */
  toolsOf(view: CallerView, server: string): readonly CatalogTool[] {
    return this.#servers(view).tools.get(server) ?? [];
  }

  /** Up to `count` servers ranked by BM25 for `text`; servers that share no term with it are left out. */
  rank(view: CallerView, text: string, count: number): ServerSummary[] {
    const servers = this.#servers(view);
    return servers.index.search(text, count).map((id) => servers.summaries[id]!);
  }

  /**
   * The servers a model is shown for `text`: the best-ranked first, then the rest in catalog order, cut
   * at `count` — every server when the view has no more than `count`, so a server whose words do not
   * match the request can still be picked for what it means.
   */
  shortlist(view: CallerView, text: string, count: number): ServerSummary[] {
    const ranked = this.rank(view, text, count);
    if (ranked.length >= count) return ranked;
    const seen = new Set(ranked.map((entry) => entry.name));
    const rest = this.forView(view).filter((entry) => !seen.has(entry.name));
    return [...ranked, ...rest].slice(0, count);
  }

  #servers(view: CallerView): ViewServers {
    let servers = this.#views.get(view);
    if (!servers) {
      const tools = new Map<string, CatalogTool[]>();
      for (const tool of view.tools) {
        let group = tools.get(tool.server);
        if (!group) tools.set(tool.server, (group = []));
        group.push(tool);
      }
      const summaries = [...tools].map(([name, group]) => ({
        name,
        summary: this.#line(name, group),
        tools: group.length,
      }));
      const docs = [...tools].map(([name, group]) => serverDoc(name, this.#describe(name), group));
      servers = { summaries, tools, index: new ServerIndex(docs) };
      this.#views.set(view, servers);
    }
    return servers;
  }

  #line(server: string, tools: readonly CatalogTool[]): string {
    const description = this.#describe(server);
    if (description.trim()) return clip(description, SUMMARY_CHARS);
    const key = `${server}\u0000${tools.map((tool) => tool.hash).join(',')}`;
    let line = this.#lines.get(key);
    if (line === undefined) {
      line = derivedSummary(tools);
      this.#lines.set(key, line);
    }
    return line;
  }
}

/** A line from a server's tools: `tool (first clause); tool (first clause); …`, as many as fit. */
export function derivedSummary(tools: readonly CatalogTool[]): string {
  const parts = tools.map((tool) => {
    const clause = firstClause(tool.definition.description);
    return clause ? `${tool.tool} (${clip(clause, TOOL_CLAUSE_CHARS)})` : tool.tool;
  });
  return clip(parts.join('; '), SUMMARY_CHARS) || '(no description)';
}

function firstClause(description: string): string {
  const flat = description.replace(/\s+/g, ' ').trim();
  return /^(.+?)(?:[.!?](?:\s|$)|;|\s\(|$)/.exec(flat)?.[1] ?? flat;
}

/**
 * What a server is ranked by: its name, its description, and each visible tool's name and first
 * clause — the whole server as one document, so a server whose tools together cover a request ranks
 * high even when no single tool does.
 */
function serverDoc(name: string, description: string, tools: readonly CatalogTool[]): string[] {
  const text = [name, description, ...tools.map((tool) => `${tool.tool} ${firstClause(tool.definition.description)}`)];
  return terms(text.join(' '));
}

/** Plain BM25 (k1 1.2, b 0.75) over server documents: small, built once per view. */
class ServerIndex {
  readonly #postings = new Map<string, { ids: number[]; tf: number[] }>();
  readonly #lengths: number[];
  readonly #avg: number;

  constructor(docs: readonly string[][]) {
    this.#lengths = docs.map((doc) => doc.length);
    this.#avg = this.#lengths.reduce((sum, value) => sum + value, 0) / Math.max(docs.length, 1) || 1;
    docs.forEach((doc, id) => {
      const counts = new Map<string, number>();
      for (const term of doc) counts.set(term, (counts.get(term) ?? 0) + 1);
      for (const [term, count] of counts) {
        let posting = this.#postings.get(term);
        if (!posting) this.#postings.set(term, (posting = { ids: [], tf: [] }));
        posting.ids.push(id);
        posting.tf.push(count);
      }
    });
  }

  /** Ids of the best `count` documents for `text`, best first (ties by catalog order). */
  search(text: string, count: number): number[] {
    const scores = new Map<number, number>();
    const n = this.#lengths.length;
    for (const term of new Set(terms(text))) {
      const posting = this.#postings.get(term);
      if (!posting) continue;
      const idf = Math.log(1 + (n - posting.ids.length + 0.5) / (posting.ids.length + 0.5));
      posting.ids.forEach((id, i) => {
        const tf = posting.tf[i]!;
        const norm = 1 - 0.75 + (0.75 * this.#lengths[id]!) / this.#avg;
        scores.set(id, (scores.get(id) ?? 0) + (idf * tf * 2.2) / (tf + 1.2 * norm));
      });
    }
    return [...scores]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, count)
      .map(([id]) => id);
  }
}
