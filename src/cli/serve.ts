/**
 * `automcp serve`: the stdio MCP server a client's config runs. stdout carries JSON-RPC only. The
 * gateway exits — and stops every child it started — when stdin closes, on SIGINT/SIGTERM/SIGHUP and
 * on a crash in its own code; a hard deadline makes sure a stuck stop cannot keep it alive, and the
 * process guard's watchdog covers the one exit it cannot observe (SIGKILL).
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createProcessGuard } from '../downstream/processes.js';
import { resolveStateDir } from '../downstream/stateDir.js';
import { createStatusReporter } from '../downstream/statusFile.js';
import { createGateway, SWEEP_INTERVAL_MS } from '../gateway/create.js';
import { loadAll, type ConfigOptions } from './context.js';

/** Longest a stop may take before the process exits anyway (children are then killed by group). */
const STOP_DEADLINE_MS = 4_000;

/** Runs until the client goes away. */
export async function serveCommand(options: ConfigOptions): Promise<void> {
  // Fail closed before anything starts: a bad config or an unknown profile stops here.
  const { config, profile, logger } = await loadAll(options);
  const stateDir = resolveStateDir({ ...(config.stateDir !== undefined ? { configured: config.stateDir } : {}) });
  const guard = createProcessGuard({ logger, watchdog: true });
  const gateway = await createGateway({ config, logger, stateDir, guard });
  const reporter = createStatusReporter({
    stateDir,
    config: config.file,
    profile: profile.name,
    status: () => gateway.registry.status(),
  });
  const report = () => {
    reporter
      .update()
      .catch((error: unknown) => logger.debug({ err: (error as Error).message }, 'could not write the status file'));
  };
  const reporting = setInterval(report, SWEEP_INTERVAL_MS);
  reporting.unref();
  let stopping = false;
  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping');
    clearInterval(reporting);
    reporter.remove();
    setTimeout(() => {
      logger.warn('stopping took too long; killing the remaining children');
      guard.killAll('SIGKILL');
      process.exit(code);
    }, STOP_DEADLINE_MS).unref();
    await gateway.close().catch(() => undefined);
    guard.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  process.stdin.on('end', () => void stop('stdin closed'));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    void stop('crash', 1);
  });

  const transport = new StdioServerTransport();
  transport.onclose = () => void stop('transport closed');
  // Downstream servers start while the client handshakes; selections wait for none of them.
  const started = gateway.start().then((status) => {
    logger.info({ servers: status.map((s) => `${s.name}:${s.state}:${s.tools}`) }, 'downstream servers started');
    report();
  });
  await gateway.connect({ transport, profile });
  logger.info({ profile: profile.name, config: config.file, stateDir }, 'automcp serving on stdio');
  report();
  await started;
}
