/**
 * Loading runtime.yaml and profiles: YAML → unknown → env expansion → zod `safeParse`. Every failure
 * is a {@link ConfigError} naming the file, the key path and what was expected.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { load, YAMLException } from 'js-yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseDotenv } from './dotenv.js';
import { expandEnv, formatPath } from './expand.js';
import {
  PROFILE_NAME,
  profileSchema,
  runtimeSchema,
  type LlmConfig,
  type EmbeddingsConfig,
  type OpsConfig,
  type ProfileFile,
  type ServerConfig,
  type LearningConfig,
  type SessionConfig,
  type TracesConfig,
} from './schema.js';

/** A validated downstream server entry, with its name and paths resolved against runtime.yaml. */
export type ServerSpec = ServerConfig & { name: string };

/** A validated `callers.<name>` entry; token sources are always lists, digests lower-case. */
export interface CallerSpec {
  name: string;
  profile: string;
  tokenEnv: string[];
  tokenSha256: string[];
}

/** The validated runtime, ready to wire a gateway from. */
export interface RuntimeConfig {
  /** Absolute path of the runtime.yaml that was read. */
  file: string;
  /** Its folder: relative paths in the file resolve against it. */
  dir: string;
  profilesDir: string;
  /** `stateDir` from the file, resolved; absent means the user's state directory (see state/stateDir.ts). */
  stateDir?: string;
  servers: ServerSpec[];
  selector: {
    candidates: number;
    llm?: LlmConfig;
    embeddings?: EmbeddingsConfig;
    decompose?: boolean | 'always';
    compact?: boolean;
    serverFirst?: boolean | 'lexical';
    rewrite?: boolean;
  };
  session: SessionConfig;
  /** Learning from use (halfLifeDays, maxEntries, sessionCap, weight); defaults when absent. */
  learning?: LearningConfig;
  logging: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** HTTP callers; empty when none are configured. */
  callers: CallerSpec[];
  /** Run traces: on or off, how much and how long to keep, whether argument values are kept. */
  traces: TracesConfig;
  /** What the gateway's own change tools may run or reach (empty lists: nothing). */
  ops: OpsConfig;
}

/** A validated profile; `name` is its file name without `.yaml`. */
export type Profile = ProfileFile & { name: string };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where automcp keeps a user's own configuration when there is no `./runtime.yaml`:
 * `$XDG_CONFIG_HOME/automcp` (an absolute value only, as the XDG spec says), else `~/.config/automcp`;
 * on Windows without XDG_CONFIG_HOME, `%APPDATA%\automcp`.
 */
export function userConfigDir(env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'automcp');
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'automcp');
  return join(env.HOME || homedir(), '.config', 'automcp');
}

/**
 * Finds runtime.yaml: `--config` (a file or its folder), else `$AUTOMCP_CONFIG`, else `./runtime.yaml`,
 * else `runtime.yaml` in {@link userConfigDir}. Undefined when nothing was given and neither default exists.
 */
export async function findConfigPath(path: string | undefined, env: Env = process.env): Promise<string | undefined> {
  const given = path ?? (env.AUTOMCP_CONFIG || undefined);
  if (given !== undefined) {
    const info = await stat(resolve(given)).catch(() => undefined);
    if (info === undefined) return undefined;
    return info.isDirectory() ? join(resolve(given), 'runtime.yaml') : resolve(given);
  }
  for (const candidate of [resolve('runtime.yaml'), join(userConfigDir(env), 'runtime.yaml')]) {
    if (await stat(candidate).catch(() => undefined)) return candidate;
  }
  return undefined;
}

/** Resolves `--config` along the lookup order of {@link findConfigPath}; a ConfigError when nothing is found. */
export async function resolveConfigPath(path: string | undefined, env: Env = process.env): Promise<string> {
  const found = await findConfigPath(path, env);
  if (found !== undefined) return found;
  const given = path ?? (env.AUTOMCP_CONFIG || undefined);
  if (given !== undefined) {
    throw new ConfigError(resolve(given), ['file not found (pass --config with runtime.yaml or its folder)']);
  }
  const user = join(userConfigDir(env), 'runtime.yaml');
  throw new ConfigError(resolve('runtime.yaml'), [
    `file not found, nor ${user} (pass --config with runtime.yaml or its folder, or run \`automcp init\`)`,
  ]);
}

/**
 * Reads and validates runtime.yaml. `${VAR}` takes its value from the environment, else from the `.env`
 * file beside runtime.yaml (the process environment wins).
 */
export async function loadConfig(options: { path?: string; env?: Env } = {}): Promise<RuntimeConfig> {
  const env = options.env ?? process.env;
  const file = await resolveConfigPath(options.path, env);
  const raw = await readText(file);
  return parseRuntime({ file, text: raw, env: { ...(await readDotenv(join(dirname(file), '.env'))), ...definedOnly(env) } });
}

async function readDotenv(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new ConfigError(file, [`cannot read: ${error.message}`]);
  });
  if (text === undefined) return {};
  const { values, problems } = parseDotenv(text);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return Object.fromEntries(values);
}

function definedOnly(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Validates runtime.yaml text; `file` only names it in errors and anchors relative paths. */
export function parseRuntime({ file, text, env = process.env }: { file: string; text: string; env?: Env }): RuntimeConfig {
  const data = validate(file, parseYaml(file, text), runtimeSchema, env);
  const dir = dirname(resolve(file));
  const servers = Object.entries(data.servers).map(([name, server]) => ({
    ...server,
    name,
    ...(server.cwd !== undefined ? { cwd: resolveFrom(dir, server.cwd) } : {}),
  }));
  return {
    file: resolve(file),
    dir,
    profilesDir: resolveFrom(dir, data.profilesDir),
    ...(data.stateDir !== undefined ? { stateDir: resolveFrom(dir, data.stateDir) } : {}),
    servers,
    selector: data.selector,
    session: data.session,
    learning: data.learning,
    logging: data.logging,
    callers: Object.entries(data.callers).map(([name, caller]) => ({
      name,
      profile: caller.profile,
      tokenEnv: [caller.tokenEnv ?? []].flat(),
      tokenSha256: [caller.tokenSha256 ?? []].flat().map((hex) => hex.toLowerCase()),
    })),
    traces: data.traces,
    ops: data.ops,
  };
}

/**
 * Loads `profiles/<name>.yaml`. A named profile that does not exist is an error (fail closed); the
 * implicit `default` falls back to the built-in "everything" profile when its file is absent.
 */
export async function loadProfile(options: { profilesDir: string; name?: string; env?: Env }): Promise<Profile> {
  const name = options.name ?? 'default';
  const file = join(options.profilesDir, `${name}.yaml`);
  if (!PROFILE_NAME.test(name)) {
    throw new ConfigError(file, [`profile name "${name}" is not valid (expected [A-Za-z0-9_-]{1,64})`]);
  }
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw new ConfigError(file, [`cannot read: ${error.message}`]);
    return undefined;
  });
  if (text === undefined) {
    if (options.name === undefined) return { ...profileSchema.parse({}), name };
    const known = await listProfiles(options.profilesDir);
    throw new ConfigError(file, [
      `profile "${name}" does not exist (known profiles: ${known.length > 0 ? known.join(', ') : 'none'})`,
    ]);
  }
  return parseProfile({ file, name, text, env: options.env });
}

/** Validates profile YAML text. */
export function parseProfile({
  file,
  name,
  text,
  env = process.env,
}: {
  file: string;
  name: string;
  text: string;
  env?: Env;
}): Profile {
  const doc = parseYaml(file, text) ?? {};
  return { ...validate(file, doc, profileSchema, env), name };
}

/** Names of the profiles in `profilesDir` (files ending in .yaml). */
export async function listProfiles(profilesDir: string): Promise<string[]> {
  const entries = await readdir(profilesDir).catch(() => [] as string[]);
  return entries
    .filter((entry) => entry.endsWith('.yaml'))
    .map((entry) => entry.slice(0, -5))
    .sort();
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read: ${(error as Error).message}`]);
  }
}

function parseYaml(file: string, text: string): unknown {
  // An empty or comment-only file is an empty document (all defaults), not a syntax error.
  if (text.split('\n').every((line) => /^\s*(#.*)?$/.test(line))) return undefined;
  try {
    return load(text, { filename: file });
  } catch (error) {
    if (error instanceof YAMLException) {
      const line = error.mark ? `line ${error.mark.line + 1}, column ${error.mark.column + 1}` : 'unknown position';
      throw new ConfigError(file, [`YAML syntax error at ${line}: ${error.reason}`]);
    }
    throw error;
  }
}

function validate<S extends z.ZodType>(file: string, doc: unknown, schema: S, env: Env): z.output<S> {
  const problems: string[] = [];
  const expanded = dropNulls(expandEnv(doc, { env, problems }));
  const result = schema.safeParse(expanded);
  if (result.success && problems.length === 0) return result.data;
  // Report everything at once: a person fixing the file should not discover problems one run at a time.
  const issues = result.success ? [] : result.error.issues.map((issue) => describeIssue(issue, schema));
  throw new ConfigError(file, [...problems, ...issues]);
}

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType): string {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => `"${key}"`).join(', ');
    const allowed = allowedKeys(schema, path);
    return `${formatPath(path)}: unknown key ${keys}${allowed ? ` (expected one of: ${allowed})` : ''}`;
  }
  if (issue.code === 'invalid_key') {
    const key = String(path[path.length - 1]);
    const reason = issue.issues[0]?.message ?? 'invalid key';
    return `${formatPath(path.slice(0, -1))}: "${key}" is not a valid name (${reason})`;
  }
  return `${formatPath(path)}: ${issue.message}`;
}

/** Walks the schema along `path` to list the keys an object there accepts. */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string | undefined {
  let node: unknown = schema;
  for (const part of path) {
    node = unwrap(node);
    const def = (node as { def?: { type?: string; shape?: Record<string, unknown>; valueType?: unknown } }).def;
    if (def?.type === 'object' && def.shape) node = def.shape[String(part)];
    else if (def?.type === 'record') node = def.valueType;
    else return undefined;
  }
  const def = (unwrap(node) as { def?: { type?: string; shape?: Record<string, unknown> } }).def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape).join(', ') : undefined;
}

function unwrap(node: unknown): unknown {
  let current = node as { def?: { type?: string; innerType?: unknown; in?: unknown; schema?: unknown } };
  for (let i = 0; i < 10 && current?.def; i++) {
    const def = current.def;
    if (def.innerType !== undefined) current = def.innerType as typeof current;
    else if (def.type === 'pipe' && def.in !== undefined) current = def.in as typeof current;
    else break;
  }
  return current;
}

/** A key written with no value (`servers:`) is YAML null; treat it as absent so defaults apply. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== null)
        .map(([key, item]) => [key, dropNulls(item)]),
    );
  }
  return value;
}

function resolveFrom(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}
