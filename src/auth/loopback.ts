/**
 * The loopback redirect of a sign-in (RFC 8252 §7.3): a one-shot HTTP server on 127.0.0.1 — never on
 * another interface, so nothing off the machine can hand us a code — on a random port unless the
 * client was registered with a fixed one. It waits for the authorization server's redirect, checks the
 * `state` it echoes, and gives up after a timeout so a closed browser tab does not hang the command.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The path the authorization server redirects to. */
export const CALLBACK_PATH = '/callback';

/** A running loopback callback. */
export interface LoopbackCallback {
  /** The redirect URI to register and send: `http://127.0.0.1:<port>/callback`. */
  redirectUrl: string;
  /** Resolves with the authorization code once the redirect arrives; rejects on error, timeout or `signal`. */
  waitForCode(signal?: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

const PAGE = (text: string) =>
  `<!doctype html><meta charset="utf-8"><title>automcp</title><body style="font-family:sans-serif;margin:3em"><p>${text}</p></body>\n`;

/** Starts the callback server on 127.0.0.1 (`port` 0: any free port). */
export async function startLoopbackCallback({
  port = 0,
  timeoutMs,
  expectedState,
}: {
  port?: number;
  timeoutMs: number;
  /** The `state` of the authorization request made, once made: a redirect must echo it. */
  expectedState: () => string | undefined;
}): Promise<LoopbackCallback> {
  let settle: { resolve: (code: string) => void; reject: (error: Error) => void } | undefined;
  let early: { code?: string; error?: Error } | undefined;
  const finish = (outcome: { code?: string; error?: Error }) => {
    if (!settle) {
      early ??= outcome;
      return;
    }
    if (outcome.error) settle.reject(outcome.error);
    else settle.resolve(outcome.code as string);
  };

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== CALLBACK_PATH) {
      response.writeHead(404).end();
      return;
    }
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error !== null) {
      const description = url.searchParams.get('error_description');
      response.writeHead(400, { 'content-type': 'text/html' }).end(PAGE('Sign-in was refused. You can close this tab.'));
      finish({
        error: new Error(`the authorization server refused the sign-in: ${error}${description ? ` (${description})` : ''}`),
      });
      return;
    }
    // A redirect without our `state` did not come from the request we made (RFC 6749 §10.12).
    // (It may arrive before waitForCode is called: the browser can be quicker than our bookkeeping.)
    const expected = expectedState();
    if (code === null || expected === undefined || url.searchParams.get('state') !== expected) {
      response
        .writeHead(400, { 'content-type': 'text/html' })
        .end(PAGE('This sign-in link is not the one automcp is waiting for.'));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE('Signed in to automcp. You can close this tab.'));
    finish({ code });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} on 127.0.0.1 is in use; free it or change oauth.callbackPort`)
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;

  return {
    redirectUrl: `http://127.0.0.1:${bound}${CALLBACK_PATH}`,
    waitForCode(signal) {
      return new Promise<string>((resolve, reject) => {
        if (signal?.aborted) return reject(new Error('the sign-in was abandoned'));
        signal?.addEventListener('abort', () => settle?.reject(new Error('the sign-in was abandoned')), { once: true });
        const timer = setTimeout(
          () => reject(new Error(`no sign-in arrived within ${Math.round(timeoutMs / 1000)} s; run the command again`)),
          timeoutMs,
        );
        const done = {
          resolve: (code: string) => (clearTimeout(timer), resolve(code)),
          reject: (error: Error) => (clearTimeout(timer), reject(error)),
        };
        settle = done;
        if (early) finish(early);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
