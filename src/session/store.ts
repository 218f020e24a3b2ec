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
  /** Records definitions just sent (merged with what the session had). */
  record(key: SessionKey, tools: readonly { name: string; hash: string }[]): Promise<void>;
  /** Forgets the session (the `fresh` flag: the agent lost its earlier schemas). */
  forget(key: SessionKey): Promise<void>;
  /** Number of live sessions, for status and metrics. */
  size(): number;
}

/** The storage key: caller and session joined by a character neither may contain. */
export function sessionKeyString(key: SessionKey): string {
  return `${key.caller}\u0000${key.sessionId}`;
}
