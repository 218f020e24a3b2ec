/**
 * `automcp runs` and `automcp runs show RUN_ID`: the run traces every `automcp serve` sharing this state
 * directory wrote, newest first, and one run in full — for a selection, the lexical ranking beside the
 * model's choice and reasons, as `select --explain` shows a live one. Read-only: nothing is written.
 */
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { resolveStateDir } from '../state/stateDir.js';
import { DEFAULT_QUERY_LIMIT, parseSince, type TraceQuery } from '../traces/query.js';
import type { EvalTrace, SelectionTrace, TraceRecord } from '../traces/record.js';
import { openTraceReader } from '../traces/store.js';
import { explainRanking } from './explain.js';

/** Options of `automcp runs`. */
export interface RunsOptions {
  config?: string;
  caller?: string;
  since?: string;
  tool?: string;
  limit?: string;
  json?: boolean;
}

/** Lists runs; exit code 1 for a bad `--since` or `--limit`. */
export async function runsCommand(options: RunsOptions, now = Date.now()): Promise<number> {
  const query: TraceQuery = { limit: DEFAULT_QUERY_LIMIT };
  if (options.since !== undefined) {
    const since = parseSince(options.since, now);
    if (since === undefined)
      return fail(`--since "${options.since}" is not a time: use a duration like 30m, 1h, 2d or a date like 2026-01-31`);
    query.since = since;
  }
  if (options.limit !== undefined) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1) return fail(`--limit "${options.limit}" is not a positive whole number`);
    query.limit = limit;
  }
  if (options.caller !== undefined) query.caller = options.caller;
  if (options.tool !== undefined) query.tool = options.tool;
  const reader = openTraceReader(await runsDir(options.config));
  const runs = await reader.list(query);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    return 0;
  }
  if (runs.length === 0) {
    process.stdout.write(`no runs in ${reader.dir}${describe(options)}\n`);
    return 0;
  }
  for (const run of runs) process.stdout.write(`${summary(run)}\n`);
  return 0;
}

/** Shows one run; exit code 1 when no run has that id. */
export async function runShowCommand(runId: string, options: { config?: string; json?: boolean }): Promise<number> {
  const reader = openTraceReader(await runsDir(options.config));
  const run = await reader.get(runId);
  if (!run) return fail(`no run "${runId}" in ${reader.dir} (list the kept ones with \`automcp runs\`)`);
  process.stdout.write(options.json ? `${JSON.stringify(run, null, 2)}\n` : detail(run));
  return 0;
}

async function runsDir(configPath: string | undefined): Promise<string> {
  // As for `status`: without a config, the default state directory is still worth reading.
  const config = await loadConfig(configPath !== undefined ? { path: configPath } : {}).catch((error: unknown) => {
    if (configPath !== undefined) throw error;
    return undefined;
  });
  return join(resolveStateDir(config?.stateDir !== undefined ? { configured: config.stateDir } : {}), 'runs');
}

function fail(message: string): number {
  process.stderr.write(`automcp: ${message}\n`);
  return 1;
}

function describe(options: RunsOptions): string {
  const parts = [
    ...(options.caller !== undefined ? [`caller ${options.caller}`] : []),
    ...(options.since !== undefined ? [`since ${options.since}`] : []),
    ...(options.tool !== undefined ? [`tool ${options.tool}`] : []),
  ];
  return parts.length > 0 ? ` matching ${parts.join(', ')}` : '';
}

/** One line per run: when, which, who, what. */
function summary(run: TraceRecord): string {
  const head = `${run.time}  ${run.runId.padEnd(11)} ${run.caller.padEnd(12)}`;
  if (run.kind === 'eval') {
    const outcome = run.errorCode ?? run.outcome;
    return `${head} eval       ${run.tool} → ${outcome} (${ms(run.durationMs)})`;
  }
  const chosen = run.chosen.length > 0 ? run.chosen.join(', ') : '(none)';
  return `${head} select     "${clip(run.request.query, 60)}" → ${chosen} (${run.mode}, ${ms(run.durationMs)})`;
}

function detail(run: TraceRecord): string {
  const lines = [
    `run ${run.runId}  ${run.kind === 'eval' ? 'automatic_eval' : 'automatic_mcp'}  ${run.time}`,
    `caller ${run.caller} · profile ${run.profile} · session ${run.session ?? '(none)'} · ${ms(run.durationMs)}`,
  ];
  return `${lines.join('\n')}\n${run.kind === 'eval' ? evalDetail(run) : selectionDetail(run)}`;
}

function selectionDetail(run: SelectionTrace): string {
  const request = `request "${run.request.query}"${run.request.fresh ? ' (fresh)' : ''}`;
  const tokens = run.tokens?.catalog !== undefined ? ` · ${run.tokens.sent} tokens, full catalog ${run.tokens.catalog}` : '';
  const sent = `sent ${run.sent.full} full, ${run.sent.unchanged} unchanged, of ${run.totalAvailable} available (etag ${run.etag})${tokens}`;
  const table = explainRanking({
    profile: run.profile,
    mode: run.mode,
    limit: run.request.limit,
    candidates: run.candidates,
    ...(run.llm ? { llm: run.llm } : {}),
    selected: run.chosen,
    json: false,
  });
  return `${request}\n${sent}\n${table}`;
}

function evalDetail(run: EvalTrace): string {
  const lines = [
    `tool ${run.tool}${run.server !== undefined ? ` on server ${run.server}` : ''}`,
    `outcome ${run.outcome}${run.errorCode !== undefined ? ` ${run.errorCode}` : ''}`,
  ];
  if (run.arguments !== undefined) lines.push(`arguments ${JSON.stringify(run.arguments)}`);
  if (run.result !== undefined) lines.push(`result ${JSON.stringify(run.result)}`);
  return `${lines.join('\n')}\n`;
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function clip(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length <= length ? line : `${line.slice(0, length - 1)}…`;
}
