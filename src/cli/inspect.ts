/**
 * `automcp select`, `automcp tools` and `automcp check`: what the gateway would do, for a person (or,
 * with --json, for a script). Only files under cli/ write to stdout.
 */
import { randomBytes } from 'node:crypto';
import { listProfiles, loadProfile } from '../config/load.js';
import { isConfigError, isGatewayError } from '../errors.js';
import { parseAutomaticMcpInput } from '../gateway/tools.js';
import { countJsonTokens } from '../tokens/count.js';
import { withGateway, type ConfigOptions } from './context.js';
import { explainSelection, selectorReport } from './explain.js';
import type { EmbeddingsState } from '../selection/embeddings.js';
import { UsageError } from './failure.js';
import { describeSignIn, readSignInStates } from '../auth/signInState.js';
import { resolveStateDir } from '../state/stateDir.js';

/** Options of `select`. */
export interface SelectOptions extends ConfigOptions {
  session?: string;
  json?: boolean;
  limit?: number;
  fresh?: boolean;
  /** Show the lexical ranking, the model's choice and its reasons side by side instead. */
  explain?: boolean;
}

/** `automcp select "query"`: runs automatic_mcp once and prints the result. */
export async function selectCommand(query: string, options: SelectOptions): Promise<void> {
  checkSelectInput(query, options);
  await withGateway(options, async (gateway, { profile }) => {
    if (options.explain) {
      const limit = options.limit ?? profile.selection.limit;
      const selection = await gateway.selector.select({ query, profile, limit });
      process.stdout.write(explainSelection({ selection, profile, limit, json: options.json === true }));
      return;
    }
    const output = await gateway.core.automaticMcp(
      {
        query,
        ...(options.session !== undefined ? { sessionId: options.session } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
        ...(options.fresh ? { fresh: true } : {}),
      },
      // Each run is its own connection: with a shared (Redis) store, a fixed id would make the next run names-only.
      { caller: 'cli', profile, connectionId: `#cli_${randomBytes(8).toString('hex')}` },
    );
    if (options.json) {
      process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
      return;
    }
    const full = countJsonTokens(gateway.core.fullCatalog(profile));
    process.stdout.write(
      `profile ${profile.name} · mode ${output.mode} · ${output.totalAvailable} tools available · etag ${output.etag}\n`,
    );
    output.tools.forEach((tool, index) => {
      process.stdout.write(`${String(index + 1).padStart(3)}. ${tool.name}  ${firstLine(tool.description)}\n`);
    });
    for (const tool of output.unchanged) process.stdout.write(`     ${tool.name}  (unchanged, ${tool.hash})\n`);
    process.stdout.write(`response ${countJsonTokens(output)} tokens · full catalog ${full} tokens\n`);
  });
}

/**
 * The task and --session are checked as automatic_mcp would check them, before any server starts, and
 * reported in the command line's own words.
 */
function checkSelectInput(query: string, options: SelectOptions): void {
  try {
    parseAutomaticMcpInput({ query, ...(options.session !== undefined ? { sessionId: options.session } : {}) });
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    if (query.trim() === '') throw new UsageError('the task is empty: say what you want to do, e.g. automcp select read a file');
    throw new UsageError(error.message.replace(/^sessionId:/, '--session:').replace(/^query:/, 'the task:'));
  }
}

/** `automcp tools`: the catalog this profile sees. */
export async function toolsCommand(options: ConfigOptions & { json?: boolean }): Promise<void> {
  await withGateway(options, async (gateway, { profile }) => {
    const tools = gateway.core.fullCatalog(profile);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
      return;
    }
    process.stdout.write(`profile ${profile.name}: ${tools.length} tools, ${countJsonTokens(tools)} tokens of definitions\n`);
    for (const tool of tools) process.stdout.write(`  ${tool.name}  ${firstLine(tool.description)}\n`);
  });
}

/**
 * `automcp check`: validates runtime.yaml and every profile, connects to every server, reports tools per
 * server, the session store and the selector's state; with `--probe`, sends the chat model one small
 * selection request. Exit code 1 when a profile is invalid, a server fails, the session store (Redis)
 * does not answer, or the probe fails.
 */
export async function checkCommand(options: ConfigOptions & { json?: boolean; probe?: boolean }): Promise<number> {
  return withGateway(options, async (gateway, { config, profile }) => {
    const status = await gateway.start();
    const failed = status.filter((server) => server.state !== 'up');
    const stateDir = resolveStateDir(config.stateDir !== undefined ? { configured: config.stateDir } : {});
    const signIns = await readSignInStates({ servers: config.servers, stateDir });
    const profiles = await Promise.all(
      (await listProfiles(config.profilesDir)).map(async (name) => {
        try {
          await loadProfile({ profilesDir: config.profilesDir, name });
          return { name, ok: true as const };
        } catch (error) {
          if (!isConfigError(error)) throw error;
          return { name, ok: false as const, error: error.message };
        }
      }),
    );
    const badProfiles = profiles.filter((entry) => !entry.ok);
    const probe = options.probe ? await gateway.probeSelector() : undefined;
    const selector = selectorReport({ state: gateway.selectorState, candidates: config.selector.candidates, probe });
    const sessions = (await gateway.sessions.status?.()) ?? { store: config.session.store, ok: true, detail: '' };
    const embeddingsProbe = options.probe ? await gateway.vectors?.probe() : undefined;
    const embeddings = embeddingsReport(gateway.embeddingsState, config.selector.embeddings !== undefined, embeddingsProbe);
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify(
          {
            config: config.file,
            profile: profile.name,
            profiles,
            servers: status.map((server) => ({
              ...server,
              ...(signIns.has(server.name) ? { signIn: signIns.get(server.name) } : {}),
            })),
            sessions,
            selector: selector.json,
            ...(embeddings ? { embeddings: embeddings.json } : {}),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      process.stdout.write(`config ${config.file} is valid; serving profile ${profile.name}\n`);
      for (const entry of profiles) {
        process.stdout.write(`  ${entry.ok ? 'ok ' : 'ERR'} profile ${entry.name}${entry.ok ? '' : `: ${entry.error}`}\n`);
      }
      for (const server of status) {
        const signIn = signIns.get(server.name);
        const held = server.quarantined
          ? `, quarantined (automcp review ${server.name})`
          : server.heldBack
            ? `, ${server.heldBack} held back (automcp review ${server.name})`
            : '';
        const detail =
          server.state === 'up'
            ? `${server.tools} tools${held}${signIn?.state === 'signed-in' ? `; ${describeSignIn(signIn)}` : ''}`
            : server.state === 'needs-sign-in'
              ? `NEEDS SIGN-IN: run automcp login ${server.name}`
              : `FAILED: ${server.lastError ?? server.state}`;
        process.stdout.write(`  ${server.state === 'up' ? 'ok ' : 'ERR'} ${server.name.padEnd(20)} ${detail}\n`);
      }
      process.stdout.write(`  ${sessions.ok ? 'ok ' : 'ERR'} session store ${sessions.store}: ${sessions.detail}\n`);
      process.stdout.write(selector.text);
      if (embeddings) process.stdout.write(embeddings.text);
    }
    const probesOk = probe?.ok !== false && embeddingsProbe?.ok !== false;
    return failed.length === 0 && badProfiles.length === 0 && sessions.ok && probesOk ? 0 : 1;
  });
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 90 ? `${line.slice(0, 87)}...` : line;
}

/** `selector.embeddings` for `automcp check`: the model, or why there is none; undefined when not configured. */
function embeddingsReport(
  state: EmbeddingsState,
  configured: boolean,
  probe: { ok: boolean; latencyMs: number; dimension?: number; error?: string } | undefined,
): { text: string; json: Record<string, unknown> } | undefined {
  if (!configured) return undefined;
  let text =
    state.kind === 'on'
      ? `embeddings: ${state.provider} ${state.model}${state.baseUrl ? ` at ${state.baseUrl}` : ''} (timeout ${state.timeoutMs} ms)\n`
      : `embeddings: off: ${state.reason}\n`;
  if (probe) {
    text += probe.ok
      ? `  ok  probe answered in ${probe.latencyMs} ms, ${probe.dimension} dimensions\n`
      : `  ERR probe failed after ${probe.latencyMs} ms: ${probe.error}\n`;
  }
  return { text, json: { ...state, ...(probe ? { probe } : {}) } };
}
