/**
 * `automcp ui`: the dashboard for people who run automcp over stdio (one `serve` per MCP client, no
 * HTTP listener). It reads the state directory those gateways share — status files and run traces —
 * and serves the same pages as `serve --http` at /ui, on loopback only and without tokens, like
 * `serve --http` without callers. The try page builds a gateway of its own at its first request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.js';
import { createCallerAuth, isLoopbackHost } from '../http/auth.js';
import { resolveStateDir } from '../state/stateDir.js';
import { createUiHandler, isUiPath } from '../ui/server.js';
import { stateDirSource } from '../ui/sources.js';
import { loadAll, type ConfigOptions } from './context.js';

/** The port `automcp ui` listens on unless told otherwise. */
export const DEFAULT_UI_PORT = 8932;

/** Options of `automcp ui`. */
export interface UiCommandOptions extends ConfigOptions {
  host?: string;
  port?: number;
}

/** Serves the dashboard until SIGINT or SIGTERM. */
export async function uiCommand(options: UiCommandOptions): Promise<void> {
  const { config, profile, logger } = await loadAll(options);
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new ConfigError(config.file, [
      `automcp ui listens on loopback only (--host 127.0.0.1 or ::1), not ${host}: it has no tokens. ` +
        'To reach a dashboard from elsewhere, use serve --http with callers and open its /ui',
    ]);
  }
  const stateDir = resolveStateDir(config.stateDir !== undefined ? { configured: config.stateDir } : {});
  // No callers: every request is the person at this machine, under --profile.
  const auth = await createCallerAuth({ config: { ...config, callers: [] }, fallback: profile });
  const source = stateDirSource({ config, stateDir, logger });
  const ui = createUiHandler({ auth, source, logger });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const served = isUiPath(path) ? ui(req, res) : Promise.resolve(void res.writeHead(302, { Location: '/ui' }).end());
    served.catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'dashboard request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"internal"}');
      else res.end();
    });
  });
  await new Promise<void>((listening, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? DEFAULT_UI_PORT, host, () => {
      server.off('error', fail);
      listening();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/ui`;
  logger.info({ url, port, stateDir }, 'automcp dashboard serving');
  process.stderr.write(`automcp ui: open ${url}\n`);
  const stop = () => {
    server.closeAllConnections();
    server.close();
    void source.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
