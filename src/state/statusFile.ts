/**
 * Status files. Each `automcp serve` is its own process (one per MCP client), so `automcp status`
 * cannot ask a shared daemon: instead every running gateway keeps `<stateDir>/gateways/<pid>.json`
 * up to date (rewritten only when something changed, at most once per sweep) and removes it when it
 * stops. `automcp status` reads the files and ignores — and deletes — those whose process is gone.
 */
import { readdir, unlink } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerStatus } from '../downstream/registry.js';
import type { EmbeddingsStatus } from '../selection/vectors.js';
import { readJsonFile, writeJsonFile } from './jsonFile.js';

/** What one running gateway reports. */
export interface GatewayStatus {
  pid: number;
  config: string;
  profile: string;
  startedAt: string;
  updatedAt: string;
  servers: ServerStatus[];
  /** Live reload: the revision in force, the last reload, and an edit that was refused (see ops/reload.ts). */
  reload?: {
    revision: number;
    last?: { at: string; outcome: string };
    refusedEdit?: { at: string; message: string; problems: string[] };
  };
  /** Tool vectors (`selector.embeddings`): how many of the catalog's tools are embedded. */
  embeddings?: EmbeddingsStatus;
}

/** Keeps one gateway's status file current. */
export interface StatusReporter {
  /** Rewrites the file if the servers' status changed since the last write. */
  update(): Promise<void>;
  /** Removes the file (synchronous, so it also works on the way out of the process). */
  remove(): void;
}

/** The status file of the gateway with `pid`. */
export function statusFilePath(stateDir: string, pid: number): string {
  return join(stateDir, 'gateways', `${pid}.json`);
}

/** Creates the reporter of this process. */
export function createStatusReporter({
  stateDir,
  config,
  profile,
  status,
  reload,
  embeddings,
  now = Date.now,
}: {
  stateDir: string;
  config: string;
  profile: string;
  status: () => ServerStatus[];
  /** The reload state to report, if any. */
  reload?: () => GatewayStatus['reload'];
  /** The tool vectors' status, when there are embeddings. */
  embeddings?: () => EmbeddingsStatus | undefined;
  now?: () => number;
}): StatusReporter {
  const file = statusFilePath(stateDir, process.pid);
  const startedAt = new Date(now()).toISOString();
  let last = '';
  let removed = false;
  return {
    async update() {
      const servers = status();
      const reloadState = reload?.();
      const vectors = embeddings?.();
      const key = JSON.stringify([servers, reloadState, vectors]);
      if (key === last || removed) return;
      last = key;
      const report: GatewayStatus = {
        pid: process.pid,
        config,
        profile,
        startedAt,
        updatedAt: new Date(now()).toISOString(),
        servers,
        ...(reloadState ? { reload: reloadState } : {}),
        ...(vectors ? { embeddings: vectors } : {}),
      };
      await writeJsonFile(file, report);
      // A stop that raced this write must not leave the file behind.
      if (removed) unlinkQuietly(file);
    },
    remove() {
      removed = true;
      unlinkQuietly(file);
    },
  };
}

/** The status of every running gateway in `stateDir`; files of processes that are gone are deleted. */
export async function readGatewayStatuses(stateDir: string): Promise<GatewayStatus[]> {
  const dir = join(stateDir, 'gateways');
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: GatewayStatus[] = [];
  for (const name of names.filter((entry) => /^\d+\.json$/.test(entry)).sort()) {
    const pid = Number(name.slice(0, -5));
    if (!isRunning(pid)) {
      await unlink(join(dir, name)).catch(() => undefined);
      continue;
    }
    const report = (await readJsonFile(join(dir, name))) as GatewayStatus | undefined;
    if (report && Array.isArray(report.servers)) found.push(report);
  }
  return found;
}

/** True while a process with this pid exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
