/**
 * `automcp install` and `uninstall`: write automcp's one entry into a client's config file (absolute
 * paths, the file backed up first), and take it out again. With `replace`, the client's own servers are
 * imported behind automcp first and automcp is left as the client's only entry. An install is recorded
 * in the state directory (`installs.json`: the file, its backup, a hash of what was written) so that
 * uninstall can put back the original bytes exactly when nobody has edited the file since.
 */
import { createHash } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findConfigPath, listProfiles, loadConfig } from '../config/load.js';
import { STARTER_PROFILES, writeStarter } from '../config/starter.js';
import { readJsonFile, withFileLock, writeJsonFile } from '../state/jsonFile.js';
import { applyImport, importTarget, readOptional, writeAtomic, type ImportReport } from './import.js';
import { unifiedDiff } from './diff.js';
import { CLIENTS } from './registry.js';
import { ClientError, ENTRY_NAME, type ClientName, type LaunchSpec, type Platform } from './types.js';

/** One recorded install. */
interface InstallRecord {
  client: ClientName;
  file: string;
  /** The copy of the file as it was before the first install; null when there was no file. */
  backup: string | null;
  /** SHA-256 of what install wrote. */
  sha256: string;
}

/** Where and how automcp is started, and where installs are recorded. */
export interface InstallContext {
  platform: Platform;
  /** The state directory (installs.json lives there). */
  stateDir: string;
  /** The Node executable and automcp's `dist/cli/main.js`, both absolute. */
  node: string;
  cli: string;
  /**
   * Set when automcp itself runs from npx's cache (`npx automcp install`): that folder may be cleaned at
   * any time, so the entry runs `<npx> -y automcp` instead of a path inside it.
   */
  npx?: string;
}

/** What install did (or would do with `dryRun`). */
export interface InstallReport {
  client: ClientName;
  file: string;
  runtimeFile: string;
  launch: LaunchSpec;
  /** Path of the backup; null when the file did not exist before. */
  backup: string | null;
  /** Client entries removed by `replace`. */
  removed: string[];
  imported?: ImportReport;
  /** The client file's diff. */
  diff: string;
}

/** Writes automcp's entry into `client`'s config file (`file` overrides where it is). */
export async function install(
  options: { client: ClientName; profile?: string; replace?: boolean; file?: string; config?: string; dryRun?: boolean },
  context: InstallContext,
): Promise<InstallReport> {
  const format = CLIENTS[options.client];
  const file = options.file ?? (format.locations(context.platform)[0]?.file as string);
  const before = await readOptional(file);
  const runtimeFile =
    (await findConfigPath(options.config, context.platform.env)) ?? (await importTarget(options.config, context.platform.env));
  const serve = ['serve', '--config', runtimeFile, ...(options.profile !== undefined ? ['--profile', options.profile] : [])];
  const launch: LaunchSpec =
    context.npx !== undefined
      ? { command: context.npx, args: ['-y', 'automcp', ...serve] }
      : { command: context.node, args: [context.cli, ...serve] };
  if (options.profile !== undefined) await checkProfile(options.profile, runtimeFile, context.platform.env);
  const dryRun = options.dryRun === true;
  let removed: string[] = [];
  let imported: ImportReport | undefined;
  if (options.replace && before !== undefined) {
    const read = readClient(() => format.read(before, { file, scope: 'user' }, context.platform));
    const own = read.servers.filter((server) => server.topLevel);
    const lost = own.filter((server) => server.server === undefined && !server.isAutomcp);
    if (lost.length > 0) {
      throw new ClientError(
        `--replace would drop ${lost.map((server) => server.where).join(', ')} (${lost.flatMap((server) => server.warnings).join('; ')}); fix or remove them in ${file} first`,
      );
    }
    imported = await applyImport({ sources: [{ file, servers: own, warnings: read.warnings }], runtimeFile, dryRun });
    removed = own.filter((server) => server.name !== ENTRY_NAME).map((server) => server.name);
  } else if ((await readOptional(runtimeFile)) === undefined && !dryRun) {
    // The entry must point at a configuration that exists: start from the starter.
    await writeStarter({ dir: dirname(runtimeFile) });
  }
  const after = readClient(() => format.write(before ?? '', launch, { only: options.replace === true }));
  const records = await readRecords(context.stateDir);
  const earlier = records[file];
  const backup = earlier !== undefined ? earlier.backup : before !== undefined ? `${file}.automcp-backup` : null;
  if (!dryRun) {
    await withFileLock(recordsFile(context.stateDir), async () => {
      // The first install's backup is the pristine file: a second install keeps it.
      if (earlier === undefined && before !== undefined && backup !== null)
        await writeAtomic(backup, await readFile(file), 0o600);
      await writeAtomic(file, after);
      const fresh = await readRecords(context.stateDir);
      fresh[file] = { client: options.client, file, backup, sha256: sha256(after) };
      await writeJsonFile(recordsFile(context.stateDir), fresh);
    });
  }
  return {
    client: options.client,
    file,
    runtimeFile,
    launch,
    backup,
    removed,
    ...(imported !== undefined ? { imported } : {}),
    diff: unifiedDiff(before ?? '', after, { from: before === undefined ? '/dev/null' : file, to: file }),
  };
}

/** What uninstall did. */
export interface UninstallReport {
  client: ClientName;
  file: string;
  /** restored: the file is byte for byte what it was before install (or gone, if there was none);
   *  removed-entry: the file changed since install, so only automcp's entry was taken out;
   *  not-installed: there was no automcp entry. */
  action: 'restored' | 'removed-entry' | 'not-installed';
  /** The backup left in place (removed-entry), for servers `--replace` moved out. */
  backup: string | null;
}

/** Takes automcp out of `client`'s config file. */
export async function uninstall(
  options: { client: ClientName; file?: string },
  context: InstallContext,
): Promise<UninstallReport> {
  const format = CLIENTS[options.client];
  const file = options.file ?? (format.locations(context.platform)[0]?.file as string);
  return withFileLock(recordsFile(context.stateDir), async () => {
    const records = await readRecords(context.stateDir);
    const record = records[file];
    const current = await readOptional(file);
    const forget = async () => {
      delete records[file];
      await writeJsonFile(recordsFile(context.stateDir), records);
    };
    // A backup someone deleted cannot be restored: fall back to taking the entry out.
    const saved = record?.backup ? await readFile(record.backup).catch(() => undefined) : undefined;
    const restorable = record !== undefined && (record.backup === null || saved !== undefined);
    if (restorable && current !== undefined && sha256(current) === record.sha256) {
      if (record.backup !== null && saved !== undefined) {
        await writeAtomic(file, saved);
        await unlink(record.backup);
      } else {
        await unlink(file);
      }
      await forget();
      return { client: options.client, file, action: 'restored', backup: null };
    }
    const after = current === undefined ? undefined : readClient(() => format.remove(current));
    if (record !== undefined) await forget();
    if (after === undefined || after === current)
      return { client: options.client, file, action: 'not-installed', backup: record?.backup ?? null };
    await writeAtomic(file, after);
    return { client: options.client, file, action: 'removed-entry', backup: record?.backup ?? null };
  });
}

/** A client entry with a profile that does not exist would fail at every start of the client: refuse it now. */
async function checkProfile(profile: string, runtimeFile: string, env: Platform['env']): Promise<void> {
  let known: string[];
  let dir = join(dirname(runtimeFile), 'profiles');
  if ((await readOptional(runtimeFile)) === undefined) {
    known = Object.keys(STARTER_PROFILES);
  } else {
    // The file may not load yet (a variable still to set in .env); its profilesDir is then the default.
    dir = await loadConfig({ path: runtimeFile, env }).then(
      (config) => config.profilesDir,
      () => dir,
    );
    known = await listProfiles(dir);
  }
  if (!known.includes(profile)) {
    throw new ClientError(
      `profile "${profile}" does not exist in ${dir} (known: ${known.join(', ') || 'none'}); create ${profile}.yaml there or pick one of them`,
    );
  }
}

function recordsFile(stateDir: string): string {
  return join(stateDir, 'installs.json');
}

async function readRecords(stateDir: string): Promise<Record<string, InstallRecord>> {
  const data = await readJsonFile(recordsFile(stateDir));
  return data !== null && typeof data === 'object' ? (data as Record<string, InstallRecord>) : {};
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function readClient<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw error instanceof ClientError ? error : new ClientError((error as Error).message);
  }
}
