/**
 * What the gateway's own tools do. `automatic_eval` has already checked the caller's profile and the
 * arguments' schema when a call arrives here; this module adds the rules no glob can express: change
 * tools write only inside the configuration folder, `add_server` runs only commands in
 * `ops.allowCommands` (and over HTTP needs its own explicit grant), and every change is logged with
 * the caller and run id. Refusals are tool results (`isError`), never exceptions: they are answers
 * the agent can act on.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { CallerViews } from '../catalog/view.js';
import { listProfiles, loadProfile, type Profile } from '../config/load.js';
import { PROFILE_NAME } from '../config/schema.js';
import type { DownstreamRegistry } from '../downstream/registry.js';
import { trustServer } from '../downstream/trust.js';
import type { TransportFactory } from '../downstream/transport.js';
import { isConfigError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { SessionStore } from '../session/store.js';
import { readYamlDocument } from './configFiles.js';
import type { ConfigReloader } from './reload.js';
import type { RunLog } from './runLog.js';
import { addServer, masked, Refusal, removeServer, unknownServer, updateProfile } from './edits.js';
import { OPS_TOOLS } from './tools.js';

/** Who calls an ops tool, and under which run. */
export interface OpsCallContext {
  caller: string;
  profile: Profile;
  /** Absent for a stateless HTTP request, which has no session of its own. */
  connectionId?: string | undefined;
  runId: string;
}

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
      this.#deps.logger.warn(
        { ops: tool, caller: context.caller, runId: context.runId, code: error.code, err: error.message },
        'ops call refused',
      );
      return {
        isError: true,
        content: [{ type: 'text', text: JSON.stringify({ error: { code: error.code, message: error.message } }) }],
      };
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
        return this.#logged(context, tool, await addServer(this.#deps, name, args, context));
      case 'remove_server':
        return this.#logged(context, tool, await removeServer(this.#deps, name));
      case 'update_profile':
        return this.#logged(context, tool, await updateProfile(this.#deps, name, args, context));
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
    if (!raw && !status) throw unknownServer(this.#deps, name);
    return {
      name,
      ...(raw ? { entry: masked(raw) } : {}),
      ...(status ? { status } : { status: { state: 'disabled' } }),
      tools: (catalog.server(name)?.tools ?? []).map((tool) => ({
        name: tool.name,
        description: tool.definition.description,
        hash: tool.hash,
      })),
      // Names, reasons and rules only: a finding's span is text an attacker wrote, for a person's eyes
      // (`automcp review`), not for the agent calling this tool.
      heldBack: registry.heldOf(name).map((held) => ({
        name: held.tool.name,
        reason: held.reason,
        currentHash: held.tool.hash,
        ...(held.trustedHash !== undefined ? { trustedHash: held.trustedHash } : {}),
        ...(held.findings ? { rules: [...new Set(held.findings.map((finding) => finding.rule))] } : {}),
      })),
      ...(status?.quarantined ? { review: `quarantined: a person must run \`automcp review approve ${name}\`` } : {}),
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
      rules: {
        description: profile.description,
        ...(profile.instructions ? { instructions: profile.instructions } : {}),
        tools: profile.tools,
        selection: profile.selection,
        eval: profile.eval,
        ops: profile.ops,
      },
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
      throw new Refusal(
        'FORBIDDEN',
        `profile "${context.profile.name}" shows only your own runs (set ops.allRuns: true in the profile to see other callers')`,
      );
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
    if (!status || !before) throw unknownServer(this.#deps, name);
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
    if (!spec) throw unknownServer(this.#deps, name);
    if (stateDir === undefined)
      throw new Refusal('UNAVAILABLE', 'this gateway has no state directory, so trust cannot be recorded');
    let report;
    try {
      report = await trustServer({
        spec,
        stateDir,
        cwd: config.dir,
        logger,
        ...(this.#deps.transports ? { transports: this.#deps.transports } : {}),
      });
    } catch (error) {
      throw new Refusal(
        'DOWNSTREAM_UNAVAILABLE',
        `server "${name}" could not be started to read its tools: ${(error as Error).message}`,
      );
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
    if (sessionId === undefined) {
      throw new Refusal('INVALID_ARGUMENTS', 'this request has no session of its own: name the sessionId to forget');
    }
    await this.#deps.sessions.forget({ caller: context.caller, sessionId });
    return {
      changed: `forgot what session ${typeof args.sessionId === 'string' ? `"${sessionId}"` : 'of this connection'} was sent`,
      undo: 'nothing to undo: the next automatic_mcp sends full definitions and the session fills again',
    };
  }

  async #rawEntry(name: string): Promise<Record<string, unknown> | undefined> {
    const read = await readYamlDocument(this.#deps.reloader.live.config.file).catch(() => undefined);
    const entry = (read?.doc.servers as Record<string, unknown> | undefined)?.[name];
    return entry && typeof entry === 'object' ? (entry as Record<string, unknown>) : undefined;
  }
}
