/**
 * `automcp import`: read the server entries of MCP clients and merge them into runtime.yaml. runtime.yaml
 * is read with the `yaml` library (js-yaml drops comments) and new entries go in after the last server,
 * so what is already there keeps its comments, order and bytes; secrets go to `.env` beside it; nothing
 * is written on a dry run.
 */
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Document, isMap, isScalar, isSeq, parseDocument, YAMLMap } from 'yaml';
import { formatDotenvLine, parseDotenv } from '../config/dotenv.js';
import { findConfigPath, userConfigDir } from '../config/load.js';
import { SERVER_NAME } from '../config/schema.js';
import { STARTER_RUNTIME, writeStarter } from '../config/starter.js';
import { unifiedDiff } from './diff.js';
import { CLIENTS, formatOfFile } from './registry.js';
import { moveSecrets, type SecretJar } from './secrets.js';
import { ClientError, isClientName, type Platform, type ReadServer, type ServerEntry } from './types.js';

/** The servers of one client file. */
export interface ImportSource {
  file: string;
  servers: ReadServer[];
  warnings: string[];
}

/** What an import adds, skips and warns about, and the texts it would write. */
export interface ImportPlan {
  runtimeText: string;
  envText: string;
  added: { name: string; where: string; file: string; secrets: string[] }[];
  skipped: { where: string; file: string; reason: string }[];
  warnings: string[];
}

/** Reads `--from`: every config file of a client that exists, or one file (its format told by its content). */
export async function readSources({ from, platform }: { from: string; platform: Platform }): Promise<ImportSource[]> {
  if (isClientName(from)) {
    const format = CLIENTS[from];
    const locations = format.locations(platform);
    const sources: ImportSource[] = [];
    for (const location of locations) {
      const text = await readOptional(location.file);
      if (text === undefined) continue;
      sources.push({ file: location.file, ...parsed(() => format.read(text, location, platform)) });
    }
    if (sources.length === 0) {
      throw new ClientError(
        `no ${from} configuration found (looked for ${locations.map((l) => l.file).join(', ')}); pass --from PATH`,
      );
    }
    return sources;
  }
  const file = resolve(platform.cwd, from);
  const text = await readOptional(file);
  if (text === undefined) {
    throw new ClientError(`${file}: file not found (--from takes ${Object.keys(CLIENTS).join(', ')} or a path)`);
  }
  const scope = basename(dirname(file)) === '.vscode' ? 'project' : 'user';
  return [{ file, ...parsed(() => formatOfFile(file, text).read(text, { file, scope }, platform)) }];
}

/** Merges the sources into runtime.yaml's text and `.env`'s text. Pure: the caller writes. */
export function planImport({
  sources,
  runtimeText,
  envText,
  runtimeFile,
}: {
  sources: ImportSource[];
  runtimeText: string;
  envText: string;
  runtimeFile: string;
}): ImportPlan {
  const doc = parseDocument(runtimeText);
  if (doc.errors.length > 0) throw new ClientError(`${runtimeFile}: YAML syntax error: ${doc.errors[0]?.message.split('\n')[0]}`);
  let servers = doc.get('servers', true);
  if (servers === undefined || servers === null || (isScalar(servers) && servers.value === null)) {
    servers = new YAMLMap();
    doc.set('servers', servers);
  }
  if (!isMap(servers)) throw new ClientError(`${runtimeFile}: \`servers\` is not a map; fix it before importing`);
  const map = servers;

  const taken = new Set<string>();
  const identities = new Map<string, string>();
  for (const [name, entry] of Object.entries((map.toJSON() ?? {}) as Record<string, ServerEntry>)) {
    taken.add(name);
    identities.set(identity(entry), name);
  }
  const jar: SecretJar = { existing: parseDotenv(envText).values, added: new Map() };
  const plan: ImportPlan = { runtimeText, envText, added: [], skipped: [], warnings: [] };
  const additions: [string, ServerEntry][] = [];
  for (const source of sources) {
    plan.warnings.push(...source.warnings);
    for (const read of source.servers) {
      plan.warnings.push(...read.warnings.map((warning) => `${source.file}: ${warning}`));
      const skip = (reason: string) => plan.skipped.push({ where: read.where, file: source.file, reason });
      if (read.server === undefined) {
        skip('cannot be imported (see the warning)');
        continue;
      }
      if (read.isAutomcp) {
        skip('this is automcp itself');
        continue;
      }
      const same = identities.get(identity(read.server));
      if (same !== undefined) {
        skip(`already in runtime.yaml as \`${same}\``);
        continue;
      }
      const name = uniqueName(read.name, taken);
      if (name !== read.name) plan.warnings.push(`${source.file}: ${read.where} is named \`${name}\` in runtime.yaml`);
      taken.add(name);
      identities.set(identity(read.server), name);
      const entry = structuredClone(read.server);
      const secrets = moveSecrets(name, entry, jar);
      additions.push([name, entry]);
      plan.added.push({ name, where: read.where, file: source.file, secrets });
    }
  }
  if (additions.length > 0) plan.runtimeText = withServers(runtimeText, doc, map, additions);
  if (jar.added.size > 0) {
    const lines = [...jar.added]
      .filter(([name, value]) => jar.existing.get(name) !== value)
      .map(([name, value]) => formatDotenvLine(name, value));
    const head =
      envText === ''
        ? '# Secrets for runtime.yaml (${VAR}); the process environment wins over this file.\n'
        : envText.endsWith('\n')
          ? ''
          : '\n';
    if (lines.length > 0) plan.envText = `${envText}${head}${lines.join('\n')}\n`;
  }
  return plan;
}

/**
 * runtime.yaml with `additions` at the end of `servers`. When `servers` is a block map with entries, the
 * new entries are inserted as text after its last one, so every byte already in the file stays as it was;
 * otherwise (no servers yet) the document is written out by the YAML library, which keeps its comments.
 */
function withServers(text: string, doc: Document, map: YAMLMap, additions: [string, ServerEntry][]): string {
  const block = new Document(Object.fromEntries(additions));
  for (const [name] of additions) {
    const args = block.getIn([name, 'args'], true);
    if (isSeq(args)) args.flow = true;
  }
  const options = { lineWidth: 0, flowCollectionPadding: false };
  const end = map.range?.[1];
  if (map.flow !== true && map.items.length > 0 && end !== undefined) {
    const start = map.range?.[0] ?? 0;
    const indent = ' '.repeat(start - (text.lastIndexOf('\n', start - 1) + 1));
    const lines = block.toString(options).replace(/\n$/, '').split('\n');
    const before = text.slice(0, end);
    return `${before}${before.endsWith('\n') ? '' : '\n'}${lines.map((line) => `${indent}${line}`).join('\n')}\n${text.slice(end)}`;
  }
  map.flow = false;
  for (const [name, entry] of additions) {
    const node = doc.createNode(entry);
    const args = node.get('args', true);
    if (isSeq(args)) args.flow = true;
    map.set(name, node);
  }
  return doc.toString(options);
}

/** What `applyImport` did (or, on a dry run, would do). */
export interface ImportReport {
  runtimeFile: string;
  envFile: string;
  /** True when there was no runtime.yaml and the starter was (or would be) written first. */
  created: boolean;
  plan: ImportPlan;
  /** runtime.yaml's diff; `.env` values never appear in it. */
  diff: string;
  /** Names of the variables added to `.env`. */
  envAdded: string[];
}

/** The runtime.yaml to import into: `--config` (created when missing), the lookup order, else the user's config folder. */
export async function importTarget(config: string | undefined, env: Platform['env']): Promise<string> {
  const found = await findConfigPath(config, env);
  if (found !== undefined) return found;
  if (config !== undefined)
    return config.endsWith('.yaml') || config.endsWith('.yml') ? resolve(config) : join(resolve(config), 'runtime.yaml');
  return join(userConfigDir(env), 'runtime.yaml');
}

/** Imports `sources` into the runtime.yaml at `runtimeFile`; writes nothing when `dryRun`. */
export async function applyImport({
  sources,
  runtimeFile,
  dryRun,
}: {
  sources: ImportSource[];
  runtimeFile: string;
  dryRun: boolean;
}): Promise<ImportReport> {
  const existing = await readOptional(runtimeFile);
  const envFile = join(dirname(runtimeFile), '.env');
  const envText = (await readOptional(envFile)) ?? '';
  const runtimeText = existing ?? STARTER_RUNTIME;
  const plan = planImport({ sources, runtimeText, envText, runtimeFile });
  const envAdded = [...parseDotenv(plan.envText).values.keys()].filter((name) => !parseDotenv(envText).values.has(name));
  const diff = unifiedDiff(existing ?? '', plan.runtimeText, {
    from: existing === undefined ? '/dev/null' : runtimeFile,
    to: runtimeFile,
  });
  if (!dryRun) {
    if (existing === undefined) await writeStarter({ dir: dirname(runtimeFile) });
    if (plan.runtimeText !== runtimeText || existing === undefined) await writeAtomic(runtimeFile, plan.runtimeText);
    if (plan.envText !== envText) await writeAtomic(envFile, plan.envText, 0o600);
  }
  return { runtimeFile, envFile, created: existing === undefined, plan, diff, envAdded };
}

/** Writes `text` through a temporary file and a rename; keeps the file's mode, or sets `mode`. */
export async function writeAtomic(file: string, text: string | Uint8Array, mode?: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const current = await stat(file).catch(() => undefined);
  const temporary = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    await writeFile(temporary, text, { mode: mode ?? current?.mode ?? 0o644 });
    // The umask may have narrowed (or a mode been set before): say exactly what the file gets.
    await chmod(temporary, mode ?? (current ? current.mode & 0o7777 : 0o644));
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** A file's text; undefined when it does not exist. */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ClientError(`${file}: cannot read (${(error as Error).message})`);
  }
}

function parsed<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ClientError) throw error;
    throw new ClientError((error as Error).message);
  }
}

/** Two entries that start the same process, or reach the same URL, are the same server. */
function identity(entry: ServerEntry): string {
  return JSON.stringify(
    entry.url !== undefined ? { url: entry.url } : { command: entry.command, args: entry.args ?? [], cwd: entry.cwd },
  );
}

function uniqueName(name: string, taken: ReadonlySet<string>): string {
  const base =
    name
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'server';
  if (!taken.has(base) && SERVER_NAME.test(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}
