/**
 * The options of `automcp serve` that only make sense together, checked before anything starts; kept
 * apart from serveHttp.ts so that checking them loads nothing of the HTTP server.
 */
import { UsageError } from './failure.js';

/** The default address of `serve --http`: only this machine can reach it. */
export const DEFAULT_HOST = '127.0.0.1';
/** The default port of `serve --http`. */
export const DEFAULT_PORT = 8931;

/** Refuses `--host`/`--port` without `--http`: on stdio they would be silently ignored. */
export function checkServeOptions(options: { http?: boolean; host?: string; port?: number }): void {
  if (options.http) return;
  const given = [options.host !== undefined ? '--host' : undefined, options.port !== undefined ? '--port' : undefined].filter(
    (name) => name !== undefined,
  );
  if (given.length > 0) {
    const them = given.length > 1 ? 'them' : 'it';
    throw new UsageError(
      `${given.join(' and ')} ${given.length > 1 ? 'apply' : 'applies'} only to the HTTP server: add --http to serve over HTTP, or leave ${them} out to serve on stdio`,
    );
  }
}
