/**
 * JSON files in the state directory, shared by several processes (one gateway per MCP client, and
 * `automcp trust`): every file is written whole through a temporary file and a rename, so no reader
 * ever sees half of one, and a read-modify-write holds a lock file (created with O_EXCL) so two writers
 * never lose each other's change. All of it is asynchronous: nothing here blocks the event loop.
 */
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A lock older than this is left over by a process that died holding it, and is broken. */
export const STALE_LOCK_MS = 10_000;
/** How long {@link withFileLock} tries before giving up. */
export const LOCK_TIMEOUT_MS = 5_000;

/**
 * Writes `data` to `file` atomically (a temporary file beside it, then a rename), mode 0600, creating
 * folders; a failed write leaves no temporary file behind.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temporary, data, { mode: 0o600 });
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Writes `value` as JSON to `file` atomically (see {@link writeFileAtomic}). */
export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a JSON file; undefined when it is missing or not valid JSON (a stale cache is never fatal). */
export async function readJsonFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` while holding `<file>.lock`, so read-modify-write cycles of `file` by several processes
 * happen one after the other. The lock is a file created with O_EXCL (atomic on local file systems);
 * a holder that died leaves it behind, and a lock older than {@link STALE_LOCK_MS} is broken.
 */
export async function withFileLock<T>(
  file: string,
  work: () => Promise<T>,
  { timeoutMs = LOCK_TIMEOUT_MS, staleMs = STALE_LOCK_MS }: { timeoutMs?: number; staleMs?: number } = {},
): Promise<T> {
  const lock = `${file}.lock`;
  await mkdir(dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`).finally(() => handle.close());
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(lock).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > staleMs) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`${lock} is held by another process; if no automcp is running, delete it and try again`);
      }
      // Short, growing, jittered waits: holders keep the lock for a few milliseconds.
      const wait = Math.min(5 * 2 ** Math.min(attempt, 5), 100) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  try {
    return await work();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}
