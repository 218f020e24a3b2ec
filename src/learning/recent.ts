/**
 * The recent requests of each session, as terms (never text), with the tools `automatic_mcp` returned
 * for each: what a later `automatic_eval` in the same session turns into evidence. Bounded like the
 * session store (least recently used sessions go first beyond `maxSessions`, idle ones expire after
 * `ttlSeconds`), and it also remembers how much each session already contributed to each tool, so one
 * conversation looping on the same request and tool cannot flood the evidence.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../session/memory.js';

/** How many requests of a session are remembered; older ones no longer count. */
export const RECENT_REQUESTS = 4;

/**
 * Each older request counts this share of the one after it. A session's earlier requests were often
 * for other tools (the steps of one task); at a quarter they add context without outvoting the latest
 * (at a half, the replay showed requests whose tools got no evidence losing recall).
 */
const OLDER = 0.25;

interface SessionUse {
  /** Latest first. */
  requests: { terms: string[]; returned: ReadonlySet<string> }[];
  /** `tool\tterm` → weight this session already added. */
  contributed: Map<string, number>;
}

/** One increment of evidence. */
export interface Increment {
  term: string;
  amount: number;
}

/** Per-session memory of recent requests. */
export class RecentRequests {
  readonly #sessions: LRUCache<string, SessionUse>;

  constructor(options: { ttlSeconds: number; maxSessions: number; clock?: Clock }) {
    this.#sessions = new LRUCache<string, SessionUse>({
      max: options.maxSessions,
      ttl: options.ttlSeconds * 1000,
      updateAgeOnGet: true,
      ttlResolution: 0,
      ...(options.clock ? { perf: options.clock } : {}),
    });
  }

  /** Remembers a request's terms and the tools returned for it. */
  noteRequest(session: string, terms: readonly string[], returned: readonly string[]): void {
    const use: SessionUse = this.#sessions.get(session) ?? { requests: [], contributed: new Map() };
    use.requests.unshift({ terms: [...new Set(terms)], returned: new Set(returned) });
    use.requests.length = Math.min(use.requests.length, RECENT_REQUESTS);
    this.#sessions.set(session, use);
  }

  /**
   * What running `tool` in this session adds as evidence: every term of the recent requests, the
   * latest request at full strength and each older one at half the one after it, doubled when the
   * ranking did not return the tool for that request (the agent found it some other way). A term
   * counts once, at its strongest; the session's total per (tool, term) stays within `cap`.
   */
  increments(session: string, tool: string, cap: number, skip: ReadonlySet<string> = new Set()): Increment[] {
    const use = this.#sessions.get(session);
    if (!use) return [];
    const strongest = new Map<string, number>();
    use.requests.forEach((request, age) => {
      const amount = OLDER ** age * (request.returned.has(tool) ? 1 : 2);
      for (const term of request.terms) if (!skip.has(term)) strongest.set(term, Math.max(strongest.get(term) ?? 0, amount));
    });
    const out: Increment[] = [];
    for (const [term, wanted] of strongest) {
      const key = `${tool}\t${term}`;
      const already = use.contributed.get(key) ?? 0;
      const amount = Math.min(wanted, cap - already);
      if (amount <= 0) continue;
      use.contributed.set(key, already + amount);
      out.push({ term, amount });
    }
    return out;
  }
}
