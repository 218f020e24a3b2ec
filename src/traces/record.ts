/**
 * What one run trace holds, and how it is built from the core's observer events. A record is the
 * durable answer to "why did this selection (or this call) come out the way it did": the request, the
 * lexical ranking, what the model chose and why, and the cost. Argument values and results are data the
 * caller owns, so they are left out unless `traces.includeArguments` asks for them.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { EvalEvent, SelectionEvent } from '../gateway/observer.js';
import type { LlmTrace, SelectionMode } from '../selection/graph.js';

/** One `automatic_mcp` run. */
export interface SelectionTrace {
  kind: 'selection';
  runId: string;
  /** When the call finished (ISO 8601). */
  time: string;
  caller: string;
  profile: string;
  /**
   * The session key's id: the sessionId the agent passed, else its connection's id; absent for a
   * stateless HTTP request without one, or an eval whose input did not parse.
   */
  session?: string;
  request: { query: string; limit: number; fresh: boolean };
  mode: SelectionMode;
  etag: string;
  totalAvailable: number;
  /** The lexical ranking the selection started from, best first. */
  candidates: { rank: number; name: string; score: number }[];
  /** The tools returned, in order. */
  chosen: string[];
  /** How many went out as full definitions, and how many names-only. */
  sent: { full: number; unchanged: number };
  /** The model's part: its name, choice with reasons, dropped names, latency, tokens, or why it fell back. */
  llm?: LlmTrace;
  durationMs: number;
  /**
   * cl100k tokens of the response as sent, and of the caller's whole catalog at that etag (what a client
   * would load without the gateway); counted after the call, off its path. Absent in records written
   * before it was added, or when the catalog was unknown.
   */
  tokens?: { sent: number; catalog?: number };
}

/** One `automatic_eval` call. */
export interface EvalTrace {
  kind: 'eval';
  runId: string;
  /** When the call finished (ISO 8601). */
  time: string;
  caller: string;
  profile: string;
  /** As in a selection record. */
  session?: string;
  /** The qualified tool name as requested. */
  tool: string;
  /** The downstream server, when the name resolved to a tool the caller may use. */
  server?: string;
  /** `ok`, `tool_error` (the tool reported isError), `cancelled`, or `error`. */
  outcome: 'ok' | 'tool_error' | 'cancelled' | 'error';
  /** The gateway error code when the outcome is `error` (TOOL_NOT_FOUND, DOWNSTREAM_TIMEOUT, …). */
  errorCode?: string;
  durationMs: number;
  /** The arguments as sent; only with `traces.includeArguments: true`. */
  arguments?: unknown;
  /** The downstream result; only with `traces.includeArguments: true`, and cut when large. */
  result?: unknown;
}

/** One line of the trace store. */
export type TraceRecord = SelectionTrace | EvalTrace;

/** Longest tool name or session id kept from an eval that may have failed validation. */
const MAX_NAME_CHARS = 200;

/** A result longer than this (as JSON) is stored as a note of its size, so one call cannot flood the store. */
export const MAX_RESULT_CHARS = 16_384;

/** Builds the record of a finished `automatic_mcp` call. */
export function selectionTrace(event: SelectionEvent, time: number): SelectionTrace {
  const { selection, output } = event;
  return {
    kind: 'selection',
    runId: event.runId,
    time: new Date(time).toISOString(),
    caller: event.caller,
    profile: event.profile.name,
    ...(event.sessionId !== undefined ? { session: event.sessionId } : {}),
    request: event.request,
    mode: event.mode,
    etag: output.etag,
    totalAvailable: output.totalAvailable,
    candidates: selection.candidates.map((entry, index) => ({
      rank: index + 1,
      name: entry.tool.name,
      score: Math.round(entry.score * 1000) / 1000,
    })),
    chosen: selection.tools.map((tool) => tool.name),
    sent: { full: output.tools.length, unchanged: output.unchanged.length },
    ...(selection.llm ? { llm: selection.llm } : {}),
    durationMs: round(event.durationMs),
  };
}

/** Builds the record of a finished `automatic_eval` call; values only when `includeArguments`. */
export function evalTrace(event: EvalEvent, time: number, includeArguments: boolean): EvalTrace {
  const known = event.outcome === 'ok' || event.outcome === 'tool_error' || event.outcome === 'cancelled';
  return {
    kind: 'eval',
    runId: event.runId,
    time: new Date(time).toISOString(),
    caller: event.caller,
    profile: event.profile.name,
    // Both come from the request as sent, before validation: bounded so a bad call cannot bloat the store.
    ...(event.sessionId !== undefined ? { session: event.sessionId.slice(0, MAX_NAME_CHARS) } : {}),
    tool: event.toolName.slice(0, MAX_NAME_CHARS),
    ...(event.server !== undefined ? { server: event.server } : {}),
    outcome: known ? (event.outcome as EvalTrace['outcome']) : 'error',
    ...(known ? {} : { errorCode: event.outcome }),
    durationMs: round(event.durationMs),
    ...(includeArguments && event.arguments !== undefined ? { arguments: event.arguments } : {}),
    ...(includeArguments && event.result !== undefined ? { result: boundedResult(event.result) } : {}),
  };
}

function boundedResult(result: CallToolResult): unknown {
  const { _meta: _ignored, ...rest } = result;
  const text = JSON.stringify(rest);
  return text.length <= MAX_RESULT_CHARS ? rest : { truncated: true, chars: text.length };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
