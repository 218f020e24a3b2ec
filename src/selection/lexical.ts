/**
 * The lexical ranker: field-weighted BM25 (BM25F) over each tool's qualified name, description, and
 * parameter names and descriptions. A term's idf blends how rare it is among tools with how rare it is
 * among servers, so a word that names one server's domain ("discord" in each of its 20 tools) is not
 * worth less than a word spread thinly over many servers. Near-identical tools (the same tool in
 * several forks of one server, say) move behind distinct ones so they cannot crowd them out of a short
 * list. docs/benchmarks.md has what each choice measured, on one-tool and multi-tool catalogs alike.
 *
 * An index is immutable once built. A catalog change makes a new index with `updated`, which re-reads
 * only the servers whose tools changed and shares everything else with its predecessor (postings are
 * copied on write), so a catalog of 10,000+ tools is not re-indexed because one server re-listed.
 * Field length averages are fixed at a full build; when the number of tools drifts far from that
 * build, `updated` builds afresh, which keeps scores comparable.
 *
 * Tool text comes from third parties, so the ranker must not reward a tool for saying every word
 * users say (keyword stuffing). A description or parameter list with far more distinct terms than
 * tools have is *broad*: its words weigh less the broader it is, and a broad tool is listed only when
 * it scores near the best tool. A name is never discounted (it is short and says what the tool does).
 */
import type { CatalogServer, CatalogTool } from '../catalog/types.js';
import { terms } from './text.js';

/** A tool and its lexical score, best first. */
export interface RankedTool {
  tool: CatalogTool;
  score: number;
}

// No server field: the server's name is already in the qualified name, and its description, added to
// every one of its tools, measured worse than leaving it out on every dev catalog (docs/benchmarks.md).
const FIELDS = ['name', 'description', 'params'] as const;
type Field = (typeof FIELDS)[number];

/** Ranking parameters; docs/benchmarks.md has what each choice measured. */
export interface LexicalParameters {
  /** Field weights: a name states what a tool does far more reliably than prose. */
  weights: Record<Field, number>;
  /** Per-field length normalisation, so a long description cannot drown a short, exact name. */
  b: Record<Field, number>;
  k1: number;
  /**
   * Tools whose own name and description terms overlap a better-ranked tool's this much (Jaccard)
   * are near-identical copies and move behind the distinct tools. 1 or more turns this off.
   */
  duplicate: number;
  /**
   * Share of the server-level idf (how many servers have the term) in each term's idf; the rest is
   * the tool-level idf. Where every server has one tool the two are the same.
   */
  serverIdf: number;
  /**
   * Distinct terms a description may hold, and apart from it a parameter list, before the field is
   * broad: beyond it each of the field's words weighs `breadth / distinct terms` of what it would,
   * so covering more request words buys no more score. Infinity turns this off.
   */
  breadth: number;
  /**
   * Share of the best score a broad tool needs to be listed: a tool that matches a request only by
   * holding all words weakly does not fill the places strong matches left empty. 0 turns this off.
   */
  broadFloor: number;
}

/** The default parameters. */
export const DEFAULT_PARAMETERS: LexicalParameters = {
  weights: { name: 3, description: 1.5, params: 0.7 },
  b: { name: 0.5, description: 0.75, params: 0.75 },
  k1: 1.2,
  duplicate: 0.8,
  serverIdf: 0.5,
  breadth: 100,
  broadFloor: 0.3,
};

interface Doc {
  tool: CatalogTool;
  /** Distinct terms, to take the document out of its postings again. */
  terms: string[];
  /** The tool's own name and description terms, sorted and distinct: near-identical tools share most. */
  own: string[];
  /** A field holds more distinct terms than `breadth` (see {@link LexicalParameters.breadth}). */
  broad: boolean;
}

interface Posting {
  ids: number[];
  /** BM25F pseudo-frequency of the term in each document of `ids`. */
  tf: number[];
  /** The index that made this posting, the only one that may change it in place. */
  owner: number;
}

let generations = 0;

/** How far past the limit near-identical copies are looked for (as a multiple of the limit). */
const WINDOW = 3;

/** Build afresh when the tool count moves this far (as a share) from the last full build. */
const DRIFT = 0.25;

/** An index over one catalog (or one caller's view of it). */
export class LexicalIndex {
  readonly #parameters: LexicalParameters;
  #docs: (Doc | undefined)[] = [];
  /** Catalog position of each document: the tie-break between equal scores. */
  #order: number[] = [];
  #free: number[] = [];
  #count = 0;
  #postings = new Map<string, Posting>();
  /** Marks the postings this index made; the others are shared with the index it came from. */
  readonly #generation = ++generations;
  #servers = new Map<string, { signature: string; ids: number[] }>();
  #avg: Record<Field, number> = { name: 1, description: 1, params: 1 };
  #builtCount = 0;
  #scores = new Float64Array(0);
  /** Server number of each document, to count the servers a term occurs in. */
  #serverOf: number[] = [];
  #serverNumbers = new Map<string, number>();
  /** Per-query marks for counting each server once (a mark per term, so the array is never cleared). */
  #seen = new Int32Array(0);
  #mark = 0;

  constructor(
    tools: readonly CatalogTool[],
    servers: readonly CatalogServer[],
    options: { parameters?: Partial<LexicalParameters> } = {},
  ) {
    this.#parameters = { ...DEFAULT_PARAMETERS, ...options.parameters };
    this.#build(tools, servers);
  }

  /** Number of indexed tools. */
  get size(): number {
    return this.#count;
  }

  /**
   * An index over `tools`: this one when nothing changed; otherwise a new index that re-reads only
   * the servers whose tools or description changed and shares the rest with this one.
   */
  updated(tools: readonly CatalogTool[], servers: readonly CatalogServer[]): LexicalIndex {
    const groups = groupByServer(tools);
    const descriptions = new Map(servers.map((server) => [server.name, server.description]));
    const changed = [...new Set([...groups.keys(), ...this.#servers.keys()])].filter((server) => {
      const group = groups.get(server);
      return this.#servers.get(server)?.signature !== (group ? signatureOf(group, descriptions.get(server)) : undefined);
    });
    if (changed.length === 0 && tools.length === this.#count && this.#ordered(tools)) return this;
    if (Math.abs(tools.length - this.#builtCount) > DRIFT * Math.max(this.#builtCount, 1)) {
      return new LexicalIndex(tools, servers, { parameters: this.#parameters });
    }
    const next = new LexicalIndex([], [], { parameters: this.#parameters });
    next.#docs = [...this.#docs];
    next.#serverOf = [...this.#serverOf];
    next.#serverNumbers = new Map(this.#serverNumbers);
    next.#free = [...this.#free];
    next.#count = this.#count;
    next.#postings = new Map(this.#postings);
    next.#servers = new Map(this.#servers);
    next.#avg = { ...this.#avg };
    next.#builtCount = this.#builtCount;
    for (const server of changed) {
      for (const id of next.#servers.get(server)?.ids ?? []) next.#remove(id);
      next.#servers.delete(server);
      const group = groups.get(server);
      if (group) next.#addServer(server, group, descriptions.get(server));
    }
    next.#setOrder(tools);
    return next;
  }

  /**
   * The best `limit` tools for `query` among those `allowed` accepts, best first. Tools with no
   * matching term are left out: a ranking of zeros would only be catalog order in disguise.
   */
  search(query: string, options: { limit: number; allowed?: (tool: CatalogTool) => boolean }): RankedTool[] {
    const { k1 } = this.#parameters;
    if (this.#scores.length < this.#docs.length) this.#scores = new Float64Array(this.#docs.length);
    const scores = this.#scores;
    const touched: number[] = [];
    for (const term of new Set(terms(query))) {
      const posting = this.#postings.get(term);
      if (!posting) continue;
      const df = posting.ids.length;
      const idf = this.#idf(posting.ids);
      for (let i = 0; i < df; i++) {
        const id = posting.ids[i]!;
        const tf = posting.tf[i]!;
        if (scores[id] === 0) touched.push(id);
        scores[id]! += (idf * tf * (k1 + 1)) / (tf + k1);
      }
    }
    // Only the best few are ever returned: past a few thousand matches, find the cut-off score with a
    // numeric sort first and build and order just the entries above it.
    const window = options.limit * WINDOW;
    let cutoff = 0;
    if (touched.length > 4 * window && !options.allowed) {
      const sorted = Float64Array.from(touched, (id) => scores[id]!).sort();
      cutoff = sorted[sorted.length - window]!;
    }
    let ranked: { id: number; doc: Doc; score: number }[] = [];
    let broad = false;
    for (const id of touched) {
      const doc = this.#docs[id]!;
      const score = scores[id]!;
      scores[id] = 0;
      if (score > 0 && score >= cutoff && (!options.allowed || options.allowed(doc.tool))) {
        ranked.push({ id, doc, score });
        broad ||= doc.broad;
      }
    }
    ranked.sort((a, b) => b.score - a.score || this.#order[a.id]! - this.#order[b.id]!);
    const floor = this.#parameters.broadFloor * (ranked[0]?.score ?? 0);
    if (broad && floor > 0) ranked = ranked.filter((entry) => !entry.doc.broad || entry.score >= floor);
    return diversify(ranked, options.limit, this.#parameters.duplicate).map(({ doc, score }) => ({ tool: doc.tool, score }));
  }

  /** Tool-level idf blended with server-level idf (both BM25's non-negative form). */
  #idf(ids: readonly number[]): number {
    const share = this.#parameters.serverIdf;
    const df = ids.length;
    const tools = Math.log(1 + (this.#count - df + 0.5) / (df + 0.5));
    if (share <= 0) return tools;
    if (this.#seen.length < this.#serverNumbers.size) this.#seen = new Int32Array(this.#serverNumbers.size * 2);
    if (this.#mark === 0x7fffffff) {
      this.#seen.fill(0);
      this.#mark = 0;
    }
    const mark = ++this.#mark;
    let sdf = 0;
    for (const id of ids) {
      const server = this.#serverOf[id]!;
      if (this.#seen[server] !== mark) {
        this.#seen[server] = mark;
        sdf += 1;
      }
    }
    const count = this.#servers.size;
    const servers = Math.log(1 + (count - sdf + 0.5) / (sdf + 0.5));
    return (1 - share) * tools + share * servers;
  }

  #build(tools: readonly CatalogTool[], servers: readonly CatalogServer[]): void {
    const descriptions = new Map(servers.map((server) => [server.name, server.description]));
    // Averages over the whole catalog first: every document's pseudo-frequencies depend on them.
    const fields = new Map(tools.map((tool) => [tool, fieldsOf(tool)]));
    for (const field of FIELDS) {
      let sum = 0;
      for (const entry of fields.values()) sum += entry[field].length;
      this.#avg[field] = sum / Math.max(tools.length, 1) || 1;
    }
    this.#builtCount = tools.length;
    for (const [server, group] of groupByServer(tools)) this.#addServer(server, group, descriptions.get(server), fields);
    this.#setOrder(tools);
  }

  #addServer(
    server: string,
    tools: readonly CatalogTool[],
    description: string | undefined,
    analysed?: ReadonlyMap<CatalogTool, Record<Field, string[]>>,
  ): void {
    const ids = tools.map((tool) => this.#add(tool, analysed?.get(tool) ?? fieldsOf(tool)));
    this.#servers.set(server, { signature: signatureOf(tools, description), ids });
  }

  #add(tool: CatalogTool, fields: Record<Field, string[]>): number {
    const { weights, b, breadth } = this.#parameters;
    const tf = new Map<string, number>();
    let broad = false;
    for (const field of FIELDS) {
      const list = fields[field];
      if (list.length === 0) continue;
      const counts = new Map<string, number>();
      for (const term of list) counts.set(term, (counts.get(term) ?? 0) + 1);
      // Length normalisation already divides by length; this divides once more, by distinct terms past
      // the breadth, so that listing 400 request words scores below listing the few that fit the tool.
      const scale = field !== 'name' && counts.size > breadth ? breadth / counts.size : 1;
      if (scale < 1) broad = true;
      const norm = 1 - b[field] + (b[field] * list.length) / this.#avg[field];
      for (const [term, count] of counts) tf.set(term, (tf.get(term) ?? 0) + (scale * weights[field] * count) / norm);
    }
    const id = this.#free.pop() ?? this.#docs.length;
    this.#docs[id] = { tool, terms: [...tf.keys()], own: ownTerms(tool, fields.description), broad };
    let server = this.#serverNumbers.get(tool.server);
    if (server === undefined) this.#serverNumbers.set(tool.server, (server = this.#serverNumbers.size));
    this.#serverOf[id] = server;
    this.#count += 1;
    for (const [term, value] of tf) {
      const posting = this.#writable(term);
      posting.ids.push(id);
      posting.tf.push(value);
    }
    return id;
  }

  #remove(id: number): void {
    const doc = this.#docs[id];
    if (!doc) return;
    for (const term of doc.terms) {
      const posting = this.#writable(term);
      const at = posting.ids.indexOf(id);
      if (at >= 0) {
        posting.ids.splice(at, 1);
        posting.tf.splice(at, 1);
      }
      if (posting.ids.length === 0) this.#postings.delete(term);
    }
    this.#docs[id] = undefined;
    this.#free.push(id);
    this.#count -= 1;
  }

  /** The posting of `term`, copied first when it is still shared with another index. */
  #writable(term: string): Posting {
    const posting = this.#postings.get(term);
    if (posting?.owner === this.#generation) return posting;
    const own = posting
      ? { ids: [...posting.ids], tf: [...posting.tf], owner: this.#generation }
      : { ids: [], tf: [], owner: this.#generation };
    this.#postings.set(term, own);
    return own;
  }

  #setOrder(tools: readonly CatalogTool[]): void {
    const position = new Map(tools.map((tool, index) => [tool.name, index]));
    this.#order = this.#docs.map((doc) => (doc ? (position.get(doc.tool.name) ?? Number.MAX_SAFE_INTEGER) : 0));
  }

  /** True when the documents already sit in the order of `tools`. */
  #ordered(tools: readonly CatalogTool[]): boolean {
    return this.#docs.every((doc, id) => !doc || tools[this.#order[id]!]?.name === doc.tool.name);
  }
}

/** The first `limit` of `ranked` with near-identical copies moved behind the distinct tools. */
function diversify<T extends { doc: Doc }>(ranked: readonly T[], limit: number, threshold: number): T[] {
  if (threshold >= 1) return ranked.slice(0, limit);
  const kept: T[] = [];
  const copies: T[] = [];
  // Look a little past the limit: far down the ranking a copy costs nothing.
  const window = ranked.slice(0, limit * WINDOW);
  for (const entry of window) {
    if (kept.length >= limit) break;
    if (kept.some((other) => jaccard(other.doc.own, entry.doc.own) >= threshold)) copies.push(entry);
    else kept.push(entry);
  }
  return [...kept, ...copies, ...ranked.slice(window.length)].slice(0, limit);
}

function ownTerms(tool: CatalogTool, description: readonly string[]): string[] {
  return [...new Set([...terms(tool.tool), ...description])].sort();
}

/** Jaccard similarity of two sorted, distinct term lists (a merge, no sets to allocate). */
function jaccard(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  let shared = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      shared += 1;
      i += 1;
      j += 1;
    } else if (a[i]! < b[j]!) i += 1;
    else j += 1;
  }
  return shared / (a.length + b.length - shared);
}

function groupByServer(tools: readonly CatalogTool[]): Map<string, CatalogTool[]> {
  const groups = new Map<string, CatalogTool[]>();
  for (const tool of tools) {
    let group = groups.get(tool.server);
    if (!group) groups.set(tool.server, (group = []));
    group.push(tool);
  }
  return groups;
}

function signatureOf(tools: readonly CatalogTool[], description: string | undefined): string {
  return `${description ?? ''}\u0000${tools.map((tool) => tool.hash).join(',')}`;
}

function fieldsOf(tool: CatalogTool): Record<Field, string[]> {
  const schema = tool.definition.inputSchema as { properties?: Record<string, { description?: unknown }> };
  const params = Object.entries(schema.properties ?? {})
    .map(([name, prop]) => `${name} ${typeof prop?.description === 'string' ? prop.description : ''}`)
    .join(' ');
  return {
    // The qualified name `server.tool`, each word once: counting the tool's own words twice favoured
    // tools that repeat their service's name over tools whose server name carries it.
    name: terms(tool.name),
    description: terms(tool.definition.description),
    params: terms(params),
  };
}
