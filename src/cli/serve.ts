/**
 * `automcp serve`: the stdio MCP server a client's config runs. stdout carries JSON-RPC only. The
 * gateway exits — and stops every child it started — when stdin closes or on SIGINT/SIGTERM.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createGateway } from '../gateway/create.js';
import { loadAll, type ConfigOptions } from './context.js';
import { serveHttpCommand, type ServeHttpOptions } from './serveHttp.js';

/** Runs until the client goes away (stdio), or until SIGINT/SIGTERM with `--http`. */
export async function serveCommand(options: ConfigOptions & ServeHttpOptions & { http?: boolean }): Promise<void> {
  if (options.http) return serveHttpCommand(options);
  // Fail closed before anything starts: a bad config or an unknown profile stops here.
  const { config, profile, logger } = await loadAll(options);
  const gateway = await createGateway({ config, logger });
  let stopping = false;
  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping');
    await gateway.close().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
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
  });
  await gateway.connect({ transport, profile });
  logger.info({ profile: profile.name, config: config.file }, 'automcp serving on stdio');
  await started;
}
