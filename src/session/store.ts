/**
 * Session stores remember, per (caller, session), which definitions a conversation already holds
 * (qualified name → hash), so repeats can come back as names only. Keys always include the caller:
 * two callers that pick the same sessionId never share what they were sent.
 */

/** Who and which conversation. */
export interface SessionKey {
  caller: string;
  sessionId: string;
}

/** Storage for what each session received. Async so a networked store fits the same shape. */
export interface SessionStore {
  /** name → hash of what this session was sent; empty when unknown or expired. */
  sent(key: SessionKey): Promise<ReadonlyMap<string, string>>;
  /**
   * Records definitions just sent: merged with what the session had or, with `replace` (the `fresh`
   * flag), instead of it, in one step so no read can see the session between forgetting and recording.
   */
  record(key: SessionKey, tools: readonly { name: string; hash: string }[], options?: RecordOptions): Promise<void>;
  /** Forgets the session (the `fresh` flag: the agent lost its earlier schemas). */
  forget(key: SessionKey): Promise<void>;
  /**
   * Number of live sessions, for status and metrics. Synchronous so a metrics scrape never waits on
   * the network: a networked store answers from a count it refreshes as it works.
   */
  size(): number;
  /** What the store is and whether it answers, for `automcp check`. */
  status?(): Promise<SessionStoreStatus>;
  /** Releases connections and timers; the store is not used afterwards. */
  close?(): Promise<void>;
}

/** How {@link SessionStore.record} stores what was sent. */
export interface RecordOptions {
  /** Drop what the session held first. */
  replace?: boolean;
}

/** The state of a session store, as `automcp check` reports it. */
export interface SessionStoreStatus {
  store: 'memory' | 'redis';
  ok: boolean;
  /** For a person: where the store is (credentials redacted) and, when not ok, why. */
  detail: string;
}

/** The storage key: caller and session joined by a character neither may contain. */
export function sessionKeyString(key: SessionKey): string {
  return `${key.caller}\u0000${key.sessionId}`;
}
