/**
 * The change tools that edit configuration files: `add_server`, `remove_server`, `update_profile`.
 * Each checks what no profile glob can express (allowed commands and URLs, explicit grants over HTTP,
 * paths inside the configuration folder), writes the file through configFiles.ts (lock, validation as
 * at start-up, backup, atomic rename), then applies it with a reload and says how to undo it.
 */
import { join, resolve } from 'node:path';
import { parseProfile, parseRuntime } from '../config/load.js';
import { PROFILE_NAME, SERVER_NAME } from '../config/schema.js';
import { isConfigError } from '../errors.js';
import { editYamlFile, isInside, maskUrl, maskValues } from './configFiles.js';
import type { ReloadOutcome } from './reload.js';
import type { OpsCallContext, OpsDependencies } from './service.js';

/** A refusal: the tool ran and said no, with what to do instead. */
export class Refusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Environment variables that make any allowed command run other code. */
const UNSAFE_ENV = /^(LD_|DYLD_)|^NODE_OPTIONS$|^PYTHONSTARTUP$|^BASH_ENV$/;
/** Longest `add_server` waits for the new server to list its tools before answering. */
const ADD_START_WAIT_MS = 30_000;

/** `add_server`: checks the entry against ops.allowCommands/allowUrls, writes runtime.yaml, applies it and waits for the start. */
export async function addServer(
  deps: OpsDependencies,
  name: string,
  args: Record<string, unknown>,
  context: OpsCallContext,
): Promise<Record<string, unknown>> {
  const { reloader, registry } = deps;
  const { config } = reloader.live;
  // Over HTTP a token holder is someone else: running programs needs its own line in the profile.
  if (deps.remote && !context.profile.tools.allow.includes('automcp.add_server')) {
    throw new Refusal(
      'FORBIDDEN',
      `over HTTP, add_server needs "automcp.add_server" spelled out in the allow list of profile "${context.profile.name}"`,
    );
  }
  if (!SERVER_NAME.test(name)) throw new Refusal('INVALID_INPUT', `"${name}" is not a server name ([A-Za-z0-9_-]{1,64})`);
  const { name: _name, ...entry } = args;
  if (typeof entry.command === 'string' && !config.ops.allowCommands.includes(entry.command)) {
    throw new Refusal(
      'COMMAND_NOT_ALLOWED',
      `command "${entry.command}" is not in ops.allowCommands of ${config.file}${config.ops.allowCommands.length === 0 ? ' (empty: add_server may run no command)' : ''}; a person must add it there`,
    );
  }
  if (
    typeof entry.url === 'string' &&
    !config.ops.allowUrls.some((prefix) => entry.url === prefix || String(entry.url).startsWith(prefix))
  ) {
    throw new Refusal(
      'URL_NOT_ALLOWED',
      `URL "${String(entry.url)}" does not start with any entry of ops.allowUrls of ${config.file}; a person must add it there`,
    );
  }
  const unsafe = Object.keys((entry.env as Record<string, string> | undefined) ?? {}).filter((key) => UNSAFE_ENV.test(key));
  if (unsafe.length > 0)
    throw new Refusal(
      'FORBIDDEN',
      `env ${unsafe.join(', ')} would let the server run other code; not allowed through add_server`,
    );
  if (typeof entry.cwd === 'string' && !isInside(config.dir, resolve(config.dir, entry.cwd))) {
    throw new Refusal('FORBIDDEN', `cwd must be inside the configuration folder ${config.dir}`);
  }
  // An agent chose this server and its tools' words: nobody may use them before a person has looked,
  // unless the operator pre-approved whatever the allow lists permit.
  const quarantined = !config.ops.approveAdded;
  const edit = await editRuntime(deps, (doc) => {
    const servers = { ...((doc.servers as Record<string, unknown> | undefined) ?? {}) };
    if (name in servers || name === 'automcp')
      throw new Refusal('ALREADY_EXISTS', `a server named "${name}" already exists; pick another name or remove it first`);
    servers[name] = quarantined ? { ...entry, quarantine: true } : entry;
    return { ...doc, servers };
  });
  const outcome = await reloader.reload(`automcp.add_server by ${context.caller}`);
  await Promise.race([outcome.started, new Promise((resolve) => setTimeout(resolve, ADD_START_WAIT_MS).unref())]);
  return {
    changed: `added server "${name}" to ${edit.file}${applied(outcome)}${quarantined ? `; it is quarantined: its tools serve no caller until a person runs \`automcp review approve ${name}\`` : ''}`,
    quarantined,
    undo: `call automcp.remove_server with {"name": "${name}"}${edit.backup ? `, or restore ${edit.backup}` : ''}`,
    file: edit.file,
    ...(edit.backup ? { backup: edit.backup } : {}),
    status: registry.status().find((status) => status.name === name) ?? { name, state: 'not started' },
  };
}

/** `remove_server`: drops the entry from runtime.yaml and applies it (the server stops with its children). */
export async function removeServer(deps: OpsDependencies, name: string): Promise<Record<string, unknown>> {
  let entry: unknown;
  const edit = await editRuntime(deps, (doc) => {
    const servers = { ...((doc.servers as Record<string, unknown> | undefined) ?? {}) };
    if (!(name in servers)) throw unknownServer(deps, name);
    entry = servers[name];
    delete servers[name];
    return { ...doc, servers };
  });
  const outcome = await deps.reloader.reload('automcp.remove_server');
  return {
    changed: `removed server "${name}" from ${edit.file}${applied(outcome)}`,
    undo: `call automcp.add_server with {"name": "${name}", ...entry}${edit.backup ? `, or restore ${edit.backup}` : ''}`,
    file: edit.file,
    ...(edit.backup ? { backup: edit.backup } : {}),
    entry: masked(entry as Record<string, unknown>),
  };
}

/** `update_profile`: merges (or with `replace`, sets) the keys of a profile file and applies it. */
export async function updateProfile(
  deps: OpsDependencies,
  name: string,
  args: Record<string, unknown>,
  context: OpsCallContext,
): Promise<Record<string, unknown>> {
  const { reloader } = deps;
  // Writing profiles can grant anything, add_server included: over HTTP it needs its own line too.
  if (deps.remote && !context.profile.tools.allow.includes('automcp.update_profile')) {
    throw new Refusal(
      'FORBIDDEN',
      `over HTTP, update_profile needs "automcp.update_profile" spelled out in the allow list of profile "${context.profile.name}"`,
    );
  }
  if (!PROFILE_NAME.test(name)) throw new Refusal('INVALID_INPUT', `"${name}" is not a profile name ([A-Za-z0-9_-]{1,64})`);
  const { profilesDir } = reloader.live.config;
  const file = join(profilesDir, `${name}.yaml`);
  // The name's alphabet already keeps it in the folder; this says so where the write happens.
  if (!isInside(profilesDir, file)) throw new Refusal('FORBIDDEN', `${file} is outside the profiles folder`);
  const { name: _name, replace, ...keys } = args;
  const edit = await writeEdit(
    file,
    (doc) => (replace === true ? keys : { ...doc, ...keys }),
    (text) => parseProfile({ file, name, text }),
  );
  const outcome = await reloader.reload(`automcp.update_profile by ${context.caller}`);
  const previous = edit.before;
  return {
    changed: `${previous ? 'changed' : 'created'} profile "${name}" (${file}): ${Object.keys(keys).join(', ') || 'no keys'}${replace === true ? ', replaced whole' : ''}${applied(outcome)}`,
    undo: previous
      ? `call automcp.update_profile with {"name": "${name}", "replace": true, ...previous}${edit.backup ? `, or restore ${edit.backup}` : ''}`
      : `the profile did not exist before: delete ${file} to undo`,
    file,
    ...(edit.backup ? { backup: edit.backup } : {}),
    previous: previous ?? null,
  };
}

/** Edits runtime.yaml; the new text must load exactly as at start-up. */
function editRuntime(deps: OpsDependencies, change: (doc: Record<string, unknown>) => Record<string, unknown>) {
  const file = deps.reloader.live.config.file;
  return writeEdit(file, change, (text) => parseRuntime({ file, text }));
}

/** Edits a YAML file; a configuration error becomes a refusal and nothing is written. */
async function writeEdit(
  file: string,
  change: (doc: Record<string, unknown>) => Record<string, unknown>,
  check: (text: string) => void,
) {
  try {
    return await editYamlFile({ file, change, check });
  } catch (error) {
    if (isConfigError(error))
      throw new Refusal('INVALID_CONFIG', `the edit was not written: configuration error in ${error.message}`);
    throw error;
  }
}

/** The refusal for a server name that is not configured, listing the ones that are. */
export function unknownServer(deps: OpsDependencies, name: string): Refusal {
  const known = deps.registry.status().map((status) => status.name);
  return new Refusal('NOT_FOUND', `no server named "${name}" (configured: ${known.join(', ') || 'none'})`);
}

/** How a written edit took effect: applied live, or held back by a refused reload (and why). */
function applied(outcome: ReloadOutcome): string {
  if (outcome.outcome === 'refused')
    return `; NOT applied yet, the reload was refused: ${outcome.refused?.message ?? 'unknown reason'}`;
  return '; applied live';
}

/** A server entry with env and header values masked (unless they only reference `${VAR}`s) and URL passwords hidden. */
export function masked(entry: Record<string, unknown>): Record<string, unknown> {
  return {
    ...entry,
    ...(entry.env ? { env: maskValues(entry.env as Record<string, unknown>) } : {}),
    ...(entry.headers ? { headers: maskValues(entry.headers as Record<string, unknown>) } : {}),
    ...(entry.url ? { url: maskUrl(entry.url) } : {}),
  };
}
