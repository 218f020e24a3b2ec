/**
 * The fault-injection fixture (test/fixtures/servers/faulty-server.ts) as a runtime.yaml entry, with
 * its start log, event log and description file in a test's temp dir; and the process tree of a
 * gateway, so a test can check that nothing it started outlives it.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixtureServer, type ServerEntry } from './config.js';

/** A faulty-server entry and the files it reports through. */
export interface FaultyServer {
  entry: ServerEntry;
  /** One line per start: the pid. */
  startLog: string;
  /** Events of calls: "sleep started <pid>", "sleep cancelled", "hang cancelled", ... */
  eventLog: string;
  /** The description of its `target` tool, read on every tools/list. */
  descriptionFile: string;
}

/** A faulty-server named `name` whose files live in `dir`; `env` adds FAULTY_* switches. */
export function faultyServer(
  dir: string,
  name: string,
  { env = {}, ...extra }: Omit<ServerEntry, 'command' | 'args'> = {},
): FaultyServer {
  const startLog = join(dir, `${name}.starts`);
  const eventLog = join(dir, `${name}.events`);
  const descriptionFile = join(dir, `${name}.description`);
  return {
    entry: fixtureServer('faulty', {
      ...extra,
      env: { FAULTY_START_LOG: startLog, FAULTY_EVENT_LOG: eventLog, FAULTY_DESCRIPTION_FILE: descriptionFile, ...env },
    }),
    startLog,
    eventLog,
    descriptionFile,
  };
}

/** Lines of a log file (none when it does not exist yet). */
export async function logLines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** The pids a faulty server's start log recorded, oldest first. */
export async function startPids(server: FaultyServer): Promise<number[]> {
  return (await logLines(server.startLog)).map(Number);
}

/** Every process below `root` (children, grandchildren, ...), read from `ps`. */
export async function descendants(root: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', ['-A', '-o', 'pid=,ppid=']);
  const children = new Map<number, number[]>();
  for (const line of stdout.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid === undefined || ppid === undefined || Number.isNaN(pid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [root];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * The pids among `pids` that are still running. A zombie (exited, not yet reaped by whoever adopted
 * it) counts as gone: it holds no memory and runs nothing, and reaping is up to the adopting init.
 */
export async function stillRunning(pids: readonly number[]): Promise<number[]> {
  if (pids.length === 0) return [];
  const { stdout } = await promisify(execFile)('ps', ['-A', '-o', 'pid=,stat=']);
  const states = new Map(
    stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((parts) => parts.length >= 2)
      .map(([pid, stat]) => [Number(pid), stat ?? ''] as const),
  );
  return pids.filter((pid) => states.has(pid) && !states.get(pid)!.startsWith('Z'));
}
