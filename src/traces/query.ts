/**
 * Reading run traces back: every segment file of the store, newest record first, filtered by caller,
 * time, tool and kind. Readers never lock: writers only append whole lines, and a line that does not
 * parse (a write cut short by a crash) is skipped. `--since` and the ops tools share the duration words.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesAny } from '../catalog/glob.js';
import type { TraceRecord } from './record.js';

/** Which runs to return; every field narrows. */
export interface TraceQuery {
  /** Only this caller's runs. */
  caller?: string;
  /** Only runs that finished at or after this time (milliseconds since the epoch). */
  since?: number;
  /** Only evals of a tool matching this glob, and selections that chose one. */
  tool?: string;
  /** Only `automatic_mcp` runs (`selection`) or `automatic_eval` calls (`eval`). */
  kind?: TraceRecord['kind'];
  /** At most this many, newest first (default {@link DEFAULT_QUERY_LIMIT}). */
  limit?: number;
}

/** How many runs a query returns when it does not say. */
export const DEFAULT_QUERY_LIMIT = 50;

/** The suffix of segment files; anything else in the folder is ignored. */
export const SEGMENT_SUFFIX = '.jsonl';

/** The runs in `dir` matching `query`, newest first. A missing folder holds no runs. */
export async function queryTraces(dir: string, query: TraceQuery = {}): Promise<TraceRecord[]> {
  const limit = query.limit ?? DEFAULT_QUERY_LIMIT;
  const matches: TraceRecord[] = [];
  // Cheap text tests before parsing: JSON.stringify writes `"caller":"x"` exactly so.
  const callerText = query.caller !== undefined ? `"caller":${JSON.stringify(query.caller)}` : undefined;
  const tool = query.tool !== undefined ? [query.tool] : undefined;
  for (const record of await readAll(dir, (line) => callerText === undefined || line.includes(callerText))) {
    if (query.caller !== undefined && record.caller !== query.caller) continue;
    if (query.kind !== undefined && record.kind !== query.kind) continue;
    if (query.since !== undefined && Date.parse(record.time) < query.since) continue;
    if (tool && !(record.kind === 'eval' ? matchesAny(record.tool, tool) : record.chosen.some((name) => matchesAny(name, tool))))
      continue;
    matches.push(record);
  }
  return newestFirst(matches).slice(0, limit);
}

/** The run with `runId`, or undefined. Ids are random, so the newest wins should two ever meet. */
export async function findTrace(dir: string, runId: string): Promise<TraceRecord | undefined> {
  const text = `"runId":${JSON.stringify(runId)}`;
  const found = (await readAll(dir, (line) => line.includes(text))).filter((record) => record.runId === runId);
  return newestFirst(found)[0];
}

/**
 * Several processes write side by side, so files interleave in time: order by the records' own time.
 * Records arrive oldest first (files by start time, lines in order), and the sort is stable, so
 * reversing first keeps the later of two records with the same time in front.
 */
function newestFirst(records: TraceRecord[]): TraceRecord[] {
  return records.reverse().sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
}

async function readAll(dir: string, keep: (line: string) => boolean): Promise<TraceRecord[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [] as string[];
    throw error;
  });
  const records: TraceRecord[] = [];
  for (const name of names.filter((entry) => entry.endsWith(SEGMENT_SUFFIX)).sort()) {
    // A segment removed by another process's pruning between readdir and here is simply gone.
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (line === '' || !keep(line)) continue;
      const record = parseLine(line);
      if (record) records.push(record);
    }
  }
  return records;
}

function parseLine(line: string): TraceRecord | undefined {
  try {
    const value = JSON.parse(line) as Partial<TraceRecord> | null;
    if (!value || typeof value.runId !== 'string' || typeof value.time !== 'string') return undefined;
    if (value.kind !== 'selection' && value.kind !== 'eval') return undefined;
    return value as TraceRecord;
  } catch {
    return undefined;
  }
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A `since` value as a time: a duration back from `now` (`90s`, `15m`, `1h`, `2d`, `1w`) or an ISO 8601
 * date or time. Undefined when it is neither, so the caller can say what to write instead.
 */
export function parseSince(text: string, now: number): number | undefined {
  const duration = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (duration) return now - Number(duration[1]) * UNITS[duration[2]!]!;
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const time = Date.parse(text.trim());
  return Number.isNaN(time) ? undefined : time;
}
