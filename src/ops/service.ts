/**
 * What the gateway's own tools do. `automatic_eval` has already checked the caller's profile and the
 * arguments' schema when a call arrives here; this module adds the rules no glob can express: change
 * tools write only inside the configuration folder, `add_server` runs only commands in
 * `ops.allowCommands` (and over HTTP needs its own explicit grant), and every change is logged with
 * the caller and run id. Refusals are tool results (`isError`), never exceptions: they are answers
 * the agent can act on.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import type { CallerViews } from '../catalog/view.js';
import { listProfiles, loadProfile, parseProfile, parseRuntime, type Profile } from '../config/load.js';
import { PROFILE_NAME, SERVER_NAME } from '../config/schema.js';
import type { DownstreamRegistry } from '../downstream/registry.js';
import { trustServer } from '../downstream/trust.js';
import type { TransportFactory } from '../downstream/transport.js';
import { isConfigError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { SessionStore } from '../session/store.js';
import { editYamlFile, isInside, maskUrl, maskValues, readYamlDocument } from './configFiles.js';
import type { ConfigReloader, ReloadOutcome } from './reload.js';
import type { RunLog } from './runLog.js';
import { OPS_TOOLS } from './tools.js';

/** Who calls an ops tool, and under which run. */
export interface OpsCallContext {
  caller: string;
  profile: Profile;
  connectionId: string;
  runId: string;
}

/** A refusal: the tool ran and said no, with what to do instead. */
class Refusal extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Environment variables that make any allowed command run other code. */
const UNSAFE_ENV = /^(LD_|DYLD_)|^NODE_OPTIONS$|^PYTHONSTARTUP$|^BASH_ENV$/;
/** Longest `add_server` waits for the new server to list its tools before answering. */
const ADD_START_WAIT_MS = 30_000;

/** What the ops tools act on. */
export interface OpsDependencies {
  registry: DownstreamRegistry;
  catalog: Catalog;
  views: CallerViews;
  sessions: SessionStore;
  reloader: ConfigReloader;
  logger: Logger;
  stateDir?: string;
  /** The run traces; without it list_runs and get_run answer that traces are off. */
  runLog?: RunLog;
  /** True when callers reach the gateway over HTTP (stricter grants for add_server and update_profile). */
  remote: boolean;
  /** How trust_server reaches a server; default: the real transports. */
  transports?: TransportFactory;
}

/** Runs the ops tools against one gateway. */
export class OpsService {
  readonly #deps: OpsDependencies;

  constructor(deps: OpsDependencies) {
    this.#deps = deps;
  }

  /** The tool definitions this service answers, by their name inside the `automcp` server. */
  get tools(): typeof OPS_TOOLS {
    return OPS_TOOLS;
  }

  /** Runs `tool` with arguments already validated against its inputSchema. */
  async call(tool: string, args: Record<string, unknown>, context: OpsCallContext): Promise<CallToolResult> {
    try {
      const output = await this.#run(tool, args, context);
      return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      this.#deps.logger.warn({ ops: tool, caller: context.caller, runId: context.runId, code: error.code, err: error.message }, 'ops call refused');
      return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: { code: error.code, message: error.message } }) }] };
    }
  }

  async #run(tool: string, args: Record<string, unknown>, context: OpsCallContext): Promise<Record<string, unknown>> {
    const name = typeof args.name === 'string' ? args.name : '';
    switch (tool) {
      case 'list_servers':
        return this.#listServers();
      case 'get_server':
        return this.#getServer(name);
      case 'list_profiles':
        return this.#listProfiles();
      case 'get_profile':
        return this.#getProfile(name);
      case 'list_runs':
        return this.#listRuns(args, context);
      case 'get_run':
        return this.#getRun(String(args.runId), context);
      case 'restart_server':
        return this.#logged(context, tool, await this.#restart(name));
      case 'trust_server':
        return this.#logged(context, tool, await this.#trust(name));
      case 'forget_session':
        return this.#logged(context, tool, await this.#forget(args, context));
      case 'add_server':
        return this.#logged(context, tool, await this.#addServer(name, args, context));
      case 'remove_server':
        return this.#logged(context, tool, await this.#removeServer(name));
      case 'update_profile':
        return this.#logged(context, tool, await this.#updateProfile(name, args, context));
      default:
        throw new Refusal('TOOL_NOT_FOUND', `automcp has no tool "${tool}"`);
    }
  }

  /** Every change is logged with who made it and under which run. */
  #logged(context: OpsCallContext, tool: string, output: Record<string, unknown>): Record<string, unknown> {
    this.#deps.logger.warn({ ops: tool, caller: context.caller, runId: context.runId, changed: output.changed }, 'ops change');
    return output;
  }

  #listServers(): Record<string, unknown> {
    const { registry, reloader } = this.#deps;
    const refused = reloader.refused;
    return {
      servers: registry.status(),
      revision: reloader.live.revision,
      ...(refused ? { refusedEdit: refused } : {}),
    };
  }

  async #getServer(name: string): Promise<Record<string, unknown>> {
    const { registry, catalog, reloader } = this.#deps;
    const raw = await this.#rawEntry(name);
    const status = registry.status().find((entry) => entry.name === name);
    if (!raw && !status) throw this.#unknownServer(name);
    return {
      name,
      ...(raw ? { entry: masked(raw) } : {}),
      ...(status ? { status } : { status: { state: 'disabled' } }),
      tools: (catalog.server(name)?.tools ?? []).map((tool) => ({ name: tool.name, description: tool.definition.description, hash: tool.hash })),
      heldBack: registry.heldOf(name).map((held) => ({ name: held.tool.name, trustedHash: held.trustedHash, currentHash: held.tool.hash })),
      file: reloader.live.config.file,
    };
  }

  async #listProfiles(): Promise<Record<string, unknown>> {
    const { config, profiles } = this.#deps.reloader.live;
    const names = new Set([...(await listProfiles(config.profilesDir)), ...profiles.keys()]);
    return {
      profilesDir: config.profilesDir,
      profiles: [...names].sort().map((name) => ({
        name,
        description: profiles.get(name)?.description ?? '',
        valid: profiles.has(name),
        callers: config.callers.filter((caller) => caller.profile === name).map((caller) => caller.name),
      })),
    };
  }

  async #getProfile(name: string): Promise<Record<string, unknown>> {
    if (!PROFILE_NAME.test(name)) throw new Refusal('INVALID_INPUT', `"${name}" is not a profile name ([A-Za-z0-9_-]{1,64})`);
    const { reloader, views } = this.#deps;
    let profile = reloader.profile(name);
    if (!profile) {
      try {
        profile = await loadProfile({ profilesDir: reloader.live.config.profilesDir, name });
      } catch (error) {
        if (isConfigError(error)) throw new Refusal('NOT_FOUND', error.message);
        throw error;
      }
    }
    const visible = views.forProfile(profile).tools.map((tool) => tool.name);
    return {
      name,
      rules: { description: profile.description, ...(profile.instructions ? { instructions: profile.instructions } : {}), tools: profile.tools, selection: profile.selection, eval: profile.eval, ops: profile.ops },
      visibleTools: visible,
      note: 'allow globs that do not start with "automcp." never reach automcp tools; deny wins; readOnly keeps only tools annotated readOnlyHint: true',
    };
  }

  async #listRuns(args: Record<string, unknown>, context: OpsCallContext): Promise<Record<string, unknown>> {
    const { runLog } = this.#deps;
    if (!runLog) return { enabled: false, runs: [], message: 'run traces are off in this gateway, so there are no runs to list' };
    const all = context.profile.ops?.allRuns === true;
    const caller = typeof args.caller === 'string' ? args.caller : undefined;
    if (caller !== undefined && caller !== context.caller && !all) {
      throw new Refusal('FORBIDDEN', `profile "${context.profile.name}" shows only your own runs (set ops.allRuns: true in the profile to see other callers')`);
    }
    const runs = await runLog.list({
      ...(all ? (caller !== undefined ? { caller } : {}) : { caller: context.caller }),
      ...(typeof args.since === 'string' ? { since: args.since } : {}),
      ...(typeof args.tool === 'string' ? { tool: args.tool } : {}),
      limit: typeof args.limit === 'number' ? args.limit : 20,
    });
    return { enabled: true, runs };
  }

  async #getRun(runId: string, context: OpsCallContext): Promise<Record<string, unknown>> {
    const { runLog } = this.#deps;
    if (!runLog) return { enabled: false, message: 'run traces are off in this gateway, so there is no run to show' };
    const run = await runLog.get(runId);
    const owner = (run as { caller?: unknown } | undefined)?.caller;
    // Another caller's run is answered like a missing one, as hidden tools are.
    if (!run || (owner !== context.caller && context.profile.ops?.allRuns !== true)) {
      throw new Refusal('NOT_FOUND', `no run "${runId}" (list_runs shows the ones you can see)`);
    }
    return { enabled: true, run };
  }

  async #restart(name: string): Promise<Record<string, unknown>> {
    const before = this.#deps.registry.status().find((entry) => entry.name === name);
    const status = await this.#deps.registry.restart(name);
    if (!status || !before) throw this.#unknownServer(name);
    return {
      changed: `restarted server "${name}" (was ${before.state}${before.pid !== undefined ? `, pid ${before.pid}` : ''}; now ${status.state}${status.pid !== undefined ? `, pid ${status.pid}` : ''})`,
      undo: 'nothing to undo: the configuration is unchanged',
      status,
    };
  }

  async #trust(name: string): Promise<Record<string, unknown>> {
    const { reloader, stateDir, logger, registry } = this.#deps;
    const { config } = reloader.live;
    const spec = config.servers.find((entry) => entry.name === name);
    if (!spec) throw this.#unknownServer(name);
    if (stateDir === undefined) throw new Refusal('UNAVAILABLE', 'this gateway has no state directory, so trust cannot be recorded');
    let report;
    try {
      report = await trustServer({ spec, stateDir, cwd: config.dir, logger, ...(this.#deps.transports ? { transports: this.#deps.transports } : {}) });
    } catch (error) {
      throw new Refusal('DOWNSTREAM_UNAVAILABLE', `server "${name}" could not be started to read its tools: ${(error as Error).message}`);
    }
    await registry.refreshTrust();
    return {
      changed: `trusted ${report.trusted} tool definitions of "${name}" (${report.changes.length} new or changed, ${report.removed.length} dropped)`,
      undo: 'trust cannot be taken back to earlier definitions; changes[].before lists the hashes trusted before',
      trusted: report.trusted,
      changes: report.changes,
      removed: report.removed,
    };
  }

  async #forget(args: Record<string, unknown>, context: OpsCallContext): Promise<Record<string, unknown>> {
    const sessionId = typeof args.sessionId === 'string' ? args.sessionId : context.connectionId;
    await this.#deps.sessions.forget({ caller: context.caller, sessionId });
    return {
      changed: `forgot what session ${typeof args.sessionId === 'string' ? `"${sessionId}"` : 'of this connection'} was sent`,
      undo: 'nothing to undo: the next automatic_mcp sends full definitions and the session fills again',
    };
  }

  async #addServer(name: string, args: Record<string, unknown>, context: OpsCallContext): Promise<Record<string, unknown>> {
    const { reloader, registry } = this.#deps;
    const { config } = reloader.live;
    // Over HTTP a token holder is someone else: running programs needs its own line in the profile.
    if (this.#deps.remote && !context.profile.tools.allow.includes('automcp.add_server')) {
      throw new Refusal('FORBIDDEN', `over HTTP, add_server needs "automcp.add_server" spelled out in the allow list of profile "${context.profile.name}"`);
    }
    if (!SERVER_NAME.test(name)) throw new Refusal('INVALID_INPUT', `"${name}" is not a server name ([A-Za-z0-9_-]{1,64})`);
    const { name: _name, ...entry } = args;
    if (typeof entry.command === 'string' && !config.ops.allowCommands.includes(entry.command)) {
      throw new Refusal(
        'COMMAND_NOT_ALLOWED',
        `command "${entry.command}" is not in ops.allowCommands of ${config.file}${config.ops.allowCommands.length === 0 ? ' (empty: add_server may run no command)' : ''}; a person must add it there`,
      );
    }
    if (typeof entry.url === 'string' && !config.ops.allowUrls.some((prefix) => entry.url === prefix || String(entry.url).startsWith(prefix))) {
      throw new Refusal('URL_NOT_ALLOWED', `URL "${String(entry.url)}" does not start with any entry of ops.allowUrls of ${config.file}; a person must add it there`);
    }
    const unsafe = Object.keys((entry.env as Record<string, string> | undefined) ?? {}).filter((key) => UNSAFE_ENV.test(key));
    if (unsafe.length > 0) throw new Refusal('FORBIDDEN', `env ${unsafe.join(', ')} would let the server run other code; not allowed through add_server`);
    if (typeof entry.cwd === 'string' && !isInside(config.dir, join(config.dir, entry.cwd))) {
      throw new Refusal('FORBIDDEN', `cwd must be inside the configuration folder ${config.dir}`);
    }
    const edit = await this.#editRuntime((doc) => {
      const servers = { ...((doc.servers as Record<string, unknown> | undefined) ?? {}) };
      if (name in servers || name === 'automcp') throw new Refusal('ALREADY_EXISTS', `a server named "${name}" already exists; pick another name or remove it first`);
      servers[name] = entry;
      return { ...doc, servers };
    });
    const outcome = await reloader.reload(`automcp.add_server by ${context.caller}`);
    await Promise.race([outcome.started, new Promise((resolve) => setTimeout(resolve, ADD_START_WAIT_MS).unref())]);
    return {
      changed: `added server "${name}" to ${edit.file}${applied(outcome)}`,
      undo: `call automcp.remove_server with {"name": "${name}"}${edit.backup ? `, or restore ${edit.backup}` : ''}`,
      file: edit.file,
      ...(edit.backup ? { backup: edit.backup } : {}),
      status: registry.status().find((status) => status.name === name) ?? { name, state: 'not started' },
    };
  }

  async #removeServer(name: string): Promise<Record<string, unknown>> {
    let entry: unknown;
    const edit = await this.#editRuntime((doc) => {
      const servers = { ...((doc.servers as Record<string, unknown> | undefined) ?? {}) };
      if (!(name in servers)) throw this.#unknownServer(name);
      entry = servers[name];
      delete servers[name];
      return { ...doc, servers };
    });
    const outcome = await this.#deps.reloader.reload('automcp.remove_server');
    return {
      changed: `removed server "${name}" from ${edit.file}${applied(outcome)}`,
      undo: `call automcp.add_server with {"name": "${name}", ...entry}${edit.backup ? `, or restore ${edit.backup}` : ''}`,
      file: edit.file,
      ...(edit.backup ? { backup: edit.backup } : {}),
      entry: masked(entry as Record<string, unknown>),
    };
  }

  async #updateProfile(name: string, args: Record<string, unknown>, context: OpsCallContext): Promise<Record<string, unknown>> {
    const { reloader } = this.#deps;
    // Writing profiles can grant anything, add_server included: over HTTP it needs its own line too.
    if (this.#deps.remote && !context.profile.tools.allow.includes('automcp.update_profile')) {
      throw new Refusal('FORBIDDEN', `over HTTP, update_profile needs "automcp.update_profile" spelled out in the allow list of profile "${context.profile.name}"`);
    }
    if (!PROFILE_NAME.test(name)) throw new Refusal('INVALID_INPUT', `"${name}" is not a profile name ([A-Za-z0-9_-]{1,64})`);
    const { profilesDir, dir } = reloader.live.config;
    const file = join(profilesDir, `${name}.yaml`);
    if (!isInside(dir, file) && !isInside(profilesDir, file)) throw new Refusal('FORBIDDEN', `${file} is outside the configuration folder`);
    const { name: _name, replace, ...keys } = args;
    const edit = await this.#edit(file, (doc) => (replace === true ? keys : { ...doc, ...keys }), (text) => parseProfile({ file, name, text }));
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
  #editRuntime(change: (doc: Record<string, unknown>) => Record<string, unknown>) {
    const file = this.#deps.reloader.live.config.file;
    return this.#edit(file, change, (text) => parseRuntime({ file, text }));
  }

  async #edit(file: string, change: (doc: Record<string, unknown>) => Record<string, unknown>, check: (text: string) => void) {
    try {
      return await editYamlFile({ file, change, check });
    } catch (error) {
      if (isConfigError(error)) throw new Refusal('INVALID_CONFIG', `the edit was not written: configuration error in ${error.message}`);
      throw error;
    }
  }

  async #rawEntry(name: string): Promise<Record<string, unknown> | undefined> {
    const read = await readYamlDocument(this.#deps.reloader.live.config.file).catch(() => undefined);
    const entry = (read?.doc.servers as Record<string, unknown> | undefined)?.[name];
    return entry && typeof entry === 'object' ? (entry as Record<string, unknown>) : undefined;
  }

  #unknownServer(name: string): Refusal {
    const known = this.#deps.registry.status().map((status) => status.name);
    return new Refusal('NOT_FOUND', `no server named "${name}" (configured: ${known.join(', ') || 'none'})`);
  }
}

/** How a written edit took effect: applied live, or held back by a refused reload (and why). */
function applied(outcome: ReloadOutcome): string {
  if (outcome.outcome === 'refused') return `; NOT applied yet, the reload was refused: ${outcome.refused?.message ?? 'unknown reason'}`;
  return '; applied live';
}

/** A server entry with env and header values masked (unless they only reference `${VAR}`s) and URL passwords hidden. */
function masked(entry: Record<string, unknown>): Record<string, unknown> {
  return {
    ...entry,
    ...(entry.env ? { env: maskValues(entry.env as Record<string, unknown>) } : {}),
    ...(entry.headers ? { headers: maskValues(entry.headers as Record<string, unknown>) } : {}),
    ...(entry.url ? { url: maskUrl(entry.url) } : {}),
  };
}
