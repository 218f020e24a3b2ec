/**
 * Learning from use. When an `automatic_eval` reaches a tool after an `automatic_mcp` call in the same
 * session, the session's recent request terms become evidence for that tool, in the caller's profile
 * only. Selection then scores a tool's evidence terms against the query as one more field
 * (see rank.ts); a tool without evidence ranks exactly as it did.
 *
 * The hot path only reads the in-memory table. Writing to the store (state file or Redis) is debounced
 * and happens in the background; reading other processes' evidence back is a background refresh at most
 * every `syncMs`, started by a selection. A store that fails degrades to this process's memory, with
 * one warning per outage.
 */
import type { CatalogTool } from '../catalog/types.js';
import type { Profile } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../session/memory.js';
import { sessionKeyString, type SessionKey } from '../session/store.js';
import { terms } from '../selection/text.js';
import { EvidenceTable, type EvidenceEntry } from './evidence.js';
import { RecentRequests } from './recent.js';
import type { EvidenceStore } from './store.js';

/** Tunables; runtime.yaml `learning` (docs/configuration.md). */
export interface LearningSettings {
  /** Evidence halves after this many days without use. */
  halfLifeDays: number;
  /** Most (term, tool) pairs kept per profile; the least recently changed go first. */
  maxEntries: number;
  /** Most weight one session may add to one (term, tool) pair. */
  sessionCap: number;
  /** Scale of the evidence score against the lexical score. */
  weight: number;
}

/** Defaults; the weight was measured by replay (docs/benchmarks.md, "Learning from use"). */
export const DEFAULT_LEARNING: LearningSettings = { halfLifeDays: 30, maxEntries: 50_000, sessionCap: 2, weight: 1 };

/** How long after a use the store is written. */
const FLUSH_MS = 1_000;
/** How often a selection starts a background refresh from the store. */
const SYNC_MS = 2_000;
/** How long after a failed write it is tried again. */
const RETRY_MS = 2_000;
/** Unwritten deltas kept while the store is away. */
const MAX_PENDING = 10_000;

interface ProfileState {
  table: EvidenceTable;
  /** Deltas not yet in the store. */
  pending: EvidenceEntry[];
  /** Resolves once the store was read for the first time. */
  loaded: Promise<void>;
  lastSync: number;
  syncing: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Serialises pushes and pulls of this profile. */
  chain: Promise<unknown>;
}

/** Records use and scores evidence. */
export class Learner {
  readonly settings: LearningSettings;
  readonly #halfLifeMs: number;
  readonly #store: EvidenceStore | undefined;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #recent: RecentRequests;
  readonly #profiles = new Map<string, ProfileState>();
  #down = false;
  #closed = false;

  constructor(options: {
    settings?: Partial<LearningSettings>;
    store?: EvidenceStore;
    logger?: Logger;
    clock?: Clock;
    session: { ttlSeconds: number; maxSessions: number };
  }) {
    this.settings = { ...DEFAULT_LEARNING, ...options.settings };
    this.#halfLifeMs = this.settings.halfLifeDays * 86_400_000;
    this.#store = options.store;
    this.#logger = options.logger;
    this.#now = options.clock ? () => options.clock!.now() : Date.now;
    this.#recent = new RecentRequests({ ...options.session, ...(options.clock ? { clock: options.clock } : {}) });
  }

  /** Where evidence is kept: `memory`, `file` or `redis`. */
  get storeKind(): 'memory' | 'file' | 'redis' {
    return this.#store?.kind ?? 'memory';
  }

  /** After `automatic_mcp`: remember the request's terms and what it returned, for this session. */
  selected({
    profile,
    session,
    query,
    returned,
  }: {
    profile: Profile;
    session: SessionKey;
    query: string;
    returned: readonly string[];
  }): void {
    if (!learns(profile)) return;
    this.#recent.noteRequest(this.#sessionId(profile, session), terms(query), returned);
  }

  /** After an `automatic_eval` that reached `tool`: the session's recent requests become its evidence. */
  used({ profile, session, tool }: { profile: Profile; session: SessionKey; tool: string | CatalogTool }): void {
    if (!learns(profile)) return;
    const name = typeof tool === 'string' ? tool : tool.name;
    const increments = this.#recent.increments(this.#sessionId(profile, session), name, this.settings.sessionCap, ownTerms(tool));
    if (increments.length === 0) return;
    const state = this.#state(profile.name);
    const at = this.#now();
    for (const { term, amount } of increments) {
      state.table.add(term, name, amount, at);
      state.pending.push({ term, tool: name, weight: amount, at });
    }
    if (state.pending.length > MAX_PENDING) state.pending.splice(0, state.pending.length - MAX_PENDING);
    this.#scheduleFlush(profile.name, state);
  }

  /**
   * Before a selection: the first one of a profile waits for its evidence to be read; later ones start
   * a background refresh when the last is older than the sync period, and never wait.
   */
  async prepare(profile: Profile): Promise<void> {
    if (!learns(profile) || !this.#store) return;
    const state = this.#state(profile.name);
    await state.loaded;
    if (this.#now() - state.lastSync >= SYNC_MS && !state.syncing) void this.#sync(profile.name, state);
  }

  /** Evidence scores for `query` among tools `visible` accepts; undefined when the profile does not learn. */
  scores(
    profile: Profile,
    query: string,
    view: { size: number; visible: (tool: string) => boolean },
  ): Map<string, number> | undefined {
    if (!learns(profile)) return undefined;
    const state = this.#profiles.get(profile.name);
    if (!state || state.table.size === 0) return undefined;
    return state.table.score(terms(query), { now: this.#now(), toolCount: view.size, visible: view.visible });
  }

  /** The profile's table (in memory), for status and tests. */
  table(profile: string): EvidenceTable {
    return this.#state(profile).table;
  }

  /** Writes pending evidence now (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all(
      [...this.#profiles].map(([name, state]) => {
        clearTimeout(state.timer);
        state.timer = undefined;
        return this.#push(name, state);
      }),
    );
  }

  /** Writes what is pending and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    // A write that failed just now would be retried later: there is no later.
    for (const state of this.#profiles.values()) clearTimeout(state.timer);
    await this.#store?.close?.();
  }

  #sessionId(profile: Profile, session: SessionKey): string {
    return `${profile.name}\u0000${sessionKeyString(session)}`;
  }

  #state(profile: string): ProfileState {
    let state = this.#profiles.get(profile);
    if (!state) {
      const table = new EvidenceTable({ halfLifeMs: this.#halfLifeMs, maxEntries: this.settings.maxEntries });
      const created: ProfileState = {
        table,
        pending: [],
        loaded: Promise.resolve(),
        lastSync: this.#now(),
        syncing: false,
        timer: undefined,
        chain: Promise.resolve(),
      };
      // A store still connecting (Redis at start-up) gets a moment before the first read.
      const store = this.#store;
      created.loaded = store
        ? (store.ready?.(2_000) ?? Promise.resolve(true)).then(() => this.#sync(profile, created))
        : Promise.resolve();
      this.#profiles.set(profile, (state = created));
    }
    return state;
  }

  #scheduleFlush(profile: string, state: ProfileState, delayMs = FLUSH_MS): void {
    if (!this.#store || state.timer || this.#closed) return;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.#push(profile, state);
    }, delayMs);
    state.timer.unref();
  }

  /** Sends pending deltas to the store and takes its table back when it hands one. */
  #push(profile: string, state: ProfileState): Promise<void> {
    const store = this.#store;
    if (!store || state.pending.length === 0) return Promise.resolve();
    return this.#serial(state, async () => {
      const deltas = state.pending;
      state.pending = [];
      try {
        const table = await store.push(profile, deltas);
        this.#healthy();
        if (table) this.#adopt(state, table);
      } catch (error) {
        // Keep them for the next attempt; the in-memory table already has them.
        state.pending = [...deltas, ...state.pending].slice(-MAX_PENDING);
        this.#failed('write', error);
        this.#scheduleFlush(profile, state, RETRY_MS);
      }
    });
  }

  /** Reads the store's table (other processes' evidence) into memory. */
  #sync(profile: string, state: ProfileState): Promise<void> {
    const store = this.#store;
    if (!store) return Promise.resolve();
    state.syncing = true;
    return this.#serial(state, async () => {
      try {
        const table = await store.pull(profile);
        this.#healthy();
        if (table) this.#adopt(state, table);
      } catch (error) {
        this.#failed('read', error);
      } finally {
        state.lastSync = this.#now();
        state.syncing = false;
      }
    });
  }

  /** The store's table, plus what this process learned that the store does not have yet. */
  #adopt(state: ProfileState, entries: readonly EvidenceEntry[]): void {
    state.table.replace(entries);
    for (const delta of state.pending) state.table.add(delta.term, delta.tool, delta.weight, delta.at);
  }

  #serial(state: ProfileState, work: () => Promise<void>): Promise<void> {
    const next = state.chain.then(work, work);
    state.chain = next;
    return next;
  }

  #healthy(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#logger?.info({ learning: 'back' }, 'learned-evidence store answers again');
  }

  #failed(operation: string, error: unknown): void {
    const reason = (error as Error).message;
    if (this.#down) {
      this.#logger?.debug({ operation, reason }, 'learned-evidence store still unavailable');
      return;
    }
    this.#down = true;
    this.#logger?.warn(
      { learning: 'unavailable', operation, reason },
      'learned-evidence store unavailable; learning in this process only until it answers again',
    );
  }
}

/**
 * Terms the tool's own name and description already have. Evidence is about the words the catalog
 * lacks: a term the tool already carries is matched lexically, and evidence on it would only lift
 * this tool over its siblings that carry it too (the other tools of its server, say).
 */
function ownTerms(tool: string | CatalogTool): ReadonlySet<string> {
  if (typeof tool === 'string') return new Set();
  let own = ownTermsCache.get(tool);
  if (!own) {
    own = new Set(terms(`${tool.name} ${tool.tool} ${tool.definition.description}`));
    ownTermsCache.set(tool, own);
  }
  return own;
}
const ownTermsCache = new WeakMap<CatalogTool, ReadonlySet<string>>();

/** Whether the profile learns from use (`selection.learn`, default true). */
export function learns(profile: Profile): boolean {
  return profile.selection.learn !== false;
}
