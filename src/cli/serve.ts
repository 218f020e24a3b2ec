/**
 * `automcp serve`: the stdio MCP server a client's config runs. stdout carries JSON-RPC only. The
 * gateway exits — and stops every child it started — when stdin closes, on SIGINT/SIGTERM/SIGHUP and
 * on a crash in its own code; a hard deadline makes sure a stuck stop cannot keep it alive, and the
 * process guard's watchdog covers the one exit it cannot observe (SIGKILL).
 */
import { StdioUpstreamTransport } from '../gateway/stdio.js';
import { loadAll, type ConfigOptions } from './context.js';
import type { ServeHttpOptions } from './serveHttp.js';
import { startServing } from './serving.js';

/** Runs until the client goes away (stdio), or until SIGINT/SIGTERM with `--http`. */
export async function serveCommand(options: ConfigOptions & ServeHttpOptions & { http?: boolean }): Promise<void> {
  // The HTTP server, its auth and its metrics are loaded only for --http.
  if (options.http) return (await import('./serveHttp.js')).serveHttpCommand(options);
  // Fail closed before anything starts: a bad config or an unknown profile stops here.
  const { config, profile, logger } = await loadAll(options);
  const serving = await startServing({ config, profile, logger });
  process.stdin.on('end', () => void serving.stop('stdin closed'));
  const transport = new StdioUpstreamTransport(process.stdin, process.stdout);
  transport.onclose = () => void serving.stop('transport closed');
  // Downstream servers start while the client handshakes; selections wait for none of them.
  const started = serving.startDownstream();
  await serving.gateway.connect({ transport, profile });
  logger.info({ profile: profile.name, config: config.file, stateDir: serving.stateDir }, 'automcp serving on stdio');
  await started;
}
