/**
 * `automcp login <server>` and `automcp logout <server>`: sign in to a remote server that asks for it
 * (src/auth/login.ts does the flow) and forget that sign-in. The authorization URL always goes to
 * stderr, so a machine without a browser can open it elsewhere; the result goes to stdout.
 */
import { loadConfig, type RuntimeConfig, type ServerSpec } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { usesSignIn } from '../auth/signInState.js';
import { TokenFile } from '../auth/tokenFile.js';
import { resolveStateDir } from '../state/stateDir.js';

/** Options of `automcp login`. */
export interface LoginOptions {
  config?: string;
  /** Seconds to wait for the browser. */
  timeout?: number;
  /** False (`--no-browser`): only print the URL. */
  browser?: boolean;
  json?: boolean;
}

/** Signs in to `server`; exit code 1 when the sign-in fails. */
export async function loginCommand(server: string, options: LoginOptions): Promise<number> {
  const { config, spec, stateDir } = await remoteServer(server, options);
  const [{ signIn, DEFAULT_LOGIN_TIMEOUT_MS }, { openBrowser }] = await Promise.all([
    import('../auth/login.js'),
    import('../auth/opener.js'),
  ]);
  const timeoutMs = options.timeout !== undefined ? options.timeout * 1000 : DEFAULT_LOGIN_TIMEOUT_MS;
  try {
    const result = await signIn({
      spec,
      stateDir,
      timeoutMs,
      onAuthorizationUrl: async (url, redirectUrl) => {
        process.stderr.write(`Open this URL to sign in to ${server}:\n\n  ${url.href}\n\n`);
        process.stderr.write(
          `Waiting up to ${Math.round(timeoutMs / 1000)} s for the browser to come back to ${redirectUrl} (on this machine).\n`,
        );
        if (options.browser !== false && !(await openBrowser(url.href))) {
          process.stderr.write('(could not open a browser; open the URL yourself)\n');
        }
      },
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...result, config: config.file }, null, 2)}\n`);
      return 0;
    }
    const scopes =
      result.scopes ??
      (result.requested ? `${result.requested} (asked for; the server did not say what it granted)` : 'none named');
    process.stdout.write(`signed in to ${server}; scopes granted: ${scopes}\n`);
    if (result.expiresAt)
      process.stdout.write(
        `access token expires at ${result.expiresAt}${result.renews ? '; automcp renews it before then' : '; sign in again then'}\n`,
      );
    process.stdout.write(`kept in ${result.file} (readable by you only)\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`automcp: sign-in to ${server} failed: ${(error as Error).message}\n`);
    return 1;
  }
}

/** Forgets the sign-in of `server`. */
export async function logoutCommand(server: string, options: { config?: string }): Promise<number> {
  const { spec, stateDir } = await remoteServer(server, options);
  const file = new TokenFile({ stateDir, server, url: spec.url as string });
  const removed = await file.remove();
  process.stdout.write(removed ? `signed out of ${server} (deleted ${file.path})\n` : `${server} was not signed in\n`);
  return 0;
}

async function remoteServer(
  server: string,
  options: { config?: string },
): Promise<{ config: RuntimeConfig; spec: ServerSpec; stateDir: string }> {
  const config = await loadConfig(options.config !== undefined ? { path: options.config } : {});
  const spec = config.servers.find((entry) => entry.name === server);
  if (!spec) {
    const known = config.servers.map((entry) => entry.name).join(', ') || 'none';
    throw new ConfigError(config.file, [`no server named "${server}" (configured servers: ${known})`]);
  }
  if (spec.url === undefined)
    throw new ConfigError(config.file, [`servers.${server}: sign-in applies to \`url\` servers; this one runs a command`]);
  if (!usesSignIn(spec)) {
    throw new ConfigError(config.file, [
      `servers.${server}.headers: sets Authorization, so automcp does not sign in for it; remove the header to sign in`,
    ]);
  }
  const stateDir = resolveStateDir(config.stateDir !== undefined ? { configured: config.stateDir } : {});
  return { config, spec, stateDir };
}
