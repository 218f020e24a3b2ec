/**
 * `automcp review [SERVER]` and `automcp review approve SERVER`: what a person runs before a server's
 * tools reach any caller. Without a server it lists, from the catalog cache, the servers whose tools
 * wait for review; with one it starts that server and shows everything it would add — names,
 * descriptions, schemas, and what the poisoning scanner found — with invisible and control characters
 * spelled out, so the terminal shows what a model would read. `approve` records the approval
 * (downstream/approve.ts); running gateways release the tools on their next sweep.
 */
import { loadConfig, type RuntimeConfig, type ServerSpec } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { approveServer, ReviewChangedError, reviewServer, reviewTools, type ServerReview } from '../downstream/approve.js';
import { Catalog } from '../catalog/catalog.js';
import { loadHasher } from '../catalog/hash.js';
import { createLogger } from '../logging/logger.js';
import { escapeHidden } from '../security/scan.js';
import { CatalogCache } from '../state/catalogCache.js';
import { resolveStateDir } from '../state/stateDir.js';
import { TrustStore } from '../state/trustFile.js';

interface ReviewOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  /** `review approve --digest`: approve only what `automcp review` showed. */
  digest?: string;
}

/** `automcp review [SERVER]`; exit code 1 when the server cannot be started. */
export async function reviewCommand(server: string | undefined, options: ReviewOptions): Promise<number> {
  const { config, stateDir } = await setUp(options);
  if (server === undefined) return overview(config, stateDir, options);
  const spec = findServer(config, server);
  let review: ServerReview;
  try {
    review = await reviewServer({ spec, stateDir, cwd: config.dir, logger: quietLogger(options) });
  } catch (error) {
    return cannotStart(server, error);
  }
  process.stdout.write(options.json ? `${JSON.stringify(review, null, 2)}\n` : formatReview(spec, review));
  return 0;
}

/** `automcp review approve SERVER`; exit code 1 when the server cannot be started. */
export async function approveCommand(server: string, options: ReviewOptions): Promise<number> {
  const { config, stateDir } = await setUp(options);
  const spec = findServer(config, server);
  let result: Awaited<ReturnType<typeof approveServer>>;
  try {
    result = await approveServer({
      spec,
      stateDir,
      cwd: config.dir,
      logger: quietLogger(options),
      ...(options.digest !== undefined ? { digest: options.digest } : {}),
    });
  } catch (error) {
    if (!(error instanceof ReviewChangedError)) return cannotStart(server, error);
    process.stderr.write(`automcp: ${server} was not approved: ${error.message}; run automcp review ${server} again\n`);
    return 1;
  }
  const { before, after } = result;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ server, stateDir, approved: after, before }, null, 2)}\n`);
    return 0;
  }
  const released = before.tools.filter((tool) => tool.held !== undefined);
  const accepted = before.tools.filter((tool) => tool.findings.length > 0);
  process.stdout.write(
    `approved ${after.tools.length} tool definitions of ${server} (entry ${after.entry}, ${stateDir})\n` +
      `  released ${released.length} held-back tools; accepted the findings of ${accepted.length}\n`,
  );
  for (const tool of before.tools)
    process.stdout.write(`  ${tool.hash}  ${tool.name}${tool.held ? `  (was ${tool.held})` : ''}\n`);
  process.stdout.write('running gateways apply this within a second; a later change to these definitions needs review again\n');
  return 0;
}

async function setUp(options: ReviewOptions): Promise<{ config: RuntimeConfig; stateDir: string }> {
  const config = await loadConfig(options.config !== undefined ? { path: options.config } : {});
  const stateDir = resolveStateDir(config.stateDir !== undefined ? { configured: config.stateDir } : {});
  return { config, stateDir };
}

function findServer(config: RuntimeConfig, server: string): ServerSpec {
  const spec = config.servers.find((entry) => entry.name === server);
  if (spec) return spec;
  const known = config.servers.map((entry) => entry.name).join(', ') || 'none';
  throw new ConfigError(config.file, [`no server named "${server}" (configured servers: ${known})`]);
}

function quietLogger(options: ReviewOptions) {
  return createLogger({ level: options.verbose ? 'debug' : 'warn' });
}

function cannotStart(server: string, error: unknown): number {
  process.stderr.write(`automcp: server "${server}" could not be started: ${(error as Error).message}\n`);
  return 1;
}

/** Every configured server's review state, from the tool lists in the catalog cache (nothing is started). */
async function overview(config: RuntimeConfig, stateDir: string, options: ReviewOptions): Promise<number> {
  const cache = new CatalogCache({ stateDir });
  const trust = new TrustStore({ stateDir });
  const catalog = new Catalog(await loadHasher());
  const rows = await Promise.all(
    config.servers.map(async (spec) => {
      await trust.load(spec.name);
      const cached = await cache.read(spec).catch(() => undefined);
      const review = reviewTools({ spec, tools: cached?.tools ?? [], trust, catalog });
      const held = review.tools.filter((tool) => tool.held !== undefined).length;
      return {
        server: spec.name,
        listed: cached !== undefined,
        quarantined: review.quarantined,
        held,
        tools: review.tools.length,
      };
    }),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ stateDir, servers: rows }, null, 2)}\n`);
    return 0;
  }
  for (const row of rows) {
    const state = row.quarantined ? 'quarantined' : row.held > 0 ? 'needs review' : row.listed ? 'approved' : 'not listed';
    const detail = !row.listed
      ? 'tools not listed yet (run automcp review ' + row.server + ')'
      : `${row.tools} tools${row.held > 0 ? `, ${row.held} held back` : ''}`;
    process.stdout.write(`${row.server.padEnd(20)} ${state.padEnd(13)} ${detail}\n`);
  }
  if (rows.some((row) => row.quarantined || row.held > 0))
    process.stdout.write('see what a server would add with `automcp review SERVER`, then `automcp review approve SERVER`\n');
  return 0;
}

/** The full review of one server, for a person to read before approving it. */
function formatReview(spec: ServerSpec, review: ServerReview): string {
  const runs = spec.command !== undefined ? [spec.command, ...(spec.args ?? [])].join(' ') : (spec.url ?? '');
  const state = review.quarantined
    ? 'quarantined (waits for approval)'
    : review.tools.some((tool) => tool.held)
      ? 'some tools held back'
      : 'approved';
  const lines = [
    `server ${review.server}: ${state}`,
    `  runs   ${escapeHidden(runs)}`,
    ...(spec.env ? [`  env    ${Object.keys(spec.env).join(', ')}`] : []),
    `  entry  ${review.entry}${review.approvedAt ? ` (last approval ${review.approvedAt})` : ''}`,
    `  ${review.tools.length} tools, ${review.tools.filter((tool) => tool.findings.length > 0).length} with findings`,
  ];
  for (const tool of review.tools) {
    const mark = tool.held ? `HELD (${tool.held})` : tool.approved ? 'approved' : 'serves';
    lines.push('', `${tool.name}  ${tool.hash}  ${mark}`);
    lines.push(indent(escapeHidden(tool.definition.description || '(no description)')));
    lines.push(indent(`inputSchema: ${escapeHidden(JSON.stringify(tool.definition.inputSchema))}`));
    if (tool.definition.outputSchema)
      lines.push(indent(`outputSchema: ${escapeHidden(JSON.stringify(tool.definition.outputSchema))}`));
    if (tool.definition.annotations)
      lines.push(indent(`annotations: ${escapeHidden(JSON.stringify(tool.definition.annotations))}`));
    for (const finding of tool.findings) lines.push(`  ! ${finding.rule} in ${finding.field}: ${finding.span}`);
  }
  lines.push(
    '',
    `digest ${review.digest}: approve exactly what is shown here with`,
    `  automcp review approve ${review.server} --digest ${review.digest}`,
  );
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
