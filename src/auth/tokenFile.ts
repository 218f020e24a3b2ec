/**
 * Where a remote server's sign-in lives: `<stateDir>/oauth/<server>.json`, one file per server, written
 * whole (temporary file, then rename) with mode 0600 in a folder with mode 0700, so only the user who
 * signed in can read the tokens. Nothing here ever logs a token. The file holds the registered client
 * (dynamic registration), the tokens with the moment they expire, and the discovery result, so a
 * gateway that starts does not repeat discovery before its first call.
 *
 * An OS keyring is not used: the Node libraries that reach one (keytar, its forks) are native builds
 * that fail to install on many machines and have no keyring at all on headless Linux. A 0600 file in
 * the state directory is what the MCP reference clients and most CLIs (gh, gcloud) do too.
 */
import { chmod, mkdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { readJsonFile, withFileLock, writeJsonFile } from '../state/jsonFile.js';

/** Tokens as stored: what the authorization server returned, plus when the access token expires. */
export interface StoredTokens extends OAuthTokens {
  /** Milliseconds since the epoch, from the injected clock at the time they were saved. */
  expires_at?: number;
}

/** The sign-in of one server, as kept on disk. */
export interface SignInRecord {
  server: string;
  /** The server URL it was obtained for; a record for another URL is ignored. */
  url: string;
  client?: OAuthClientInformationMixed;
  tokens?: StoredTokens;
  discovery?: OAuthDiscoveryState;
  /** The loopback redirect URI used at the last sign-in (needed again to build an authorization URL). */
  redirectUri?: string;
  /** Why the last sign-in stopped working (a refresh the server refused); cleared by a sign-in. */
  lostReason?: string;
  updatedAt?: string;
}

/** The token file of `server` in `stateDir`. */
export function tokenFilePath(stateDir: string, server: string): string {
  return join(stateDir, 'oauth', `${server}.json`);
}

/** Reads, writes and forgets the sign-in of one server. */
export class TokenFile {
  readonly path: string;
  readonly #server: string;
  readonly #url: string;
  readonly #now: () => number;

  constructor({ stateDir, server, url, now = Date.now }: { stateDir: string; server: string; url: string; now?: () => number }) {
    this.path = tokenFilePath(stateDir, server);
    this.#server = server;
    this.#url = url;
    this.#now = now;
  }

  /** The record, or an empty one when there is none, it is unreadable, or it belongs to another URL. */
  async read(): Promise<SignInRecord> {
    const found = (await readJsonFile(this.path)) as Partial<SignInRecord> | undefined;
    if (!found || typeof found !== 'object' || found.url !== this.#url) return { server: this.#server, url: this.#url };
    return { ...found, server: this.#server, url: this.#url };
  }

  /** Applies `change` to the current record and writes it back, under the file's lock. */
  async update(change: (record: SignInRecord) => SignInRecord): Promise<SignInRecord> {
    await this.#ensureDir();
    return withFileLock(this.path, async () => this.#write(change(await this.read())));
  }

  /** Like {@link update} without taking the lock: for code that already holds it (see {@link locked}). */
  async updateHeld(change: (record: SignInRecord) => SignInRecord): Promise<SignInRecord> {
    await this.#ensureDir();
    return this.#write(change(await this.read()));
  }

  /** Runs `work` holding the file's lock, so one refresh at a time happens across gateways. */
  async locked<T>(work: () => Promise<T>): Promise<T> {
    await this.#ensureDir();
    return withFileLock(this.path, work);
  }

  /** Deletes the record; true when there was one. */
  async remove(): Promise<boolean> {
    return unlink(this.path).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
  }

  /** Identity of the file on disk, '' when missing: a sign-in in another process changes it. */
  async signature(): Promise<string> {
    const info = await stat(this.path).catch(() => undefined);
    return info ? `${info.ino}:${info.size}:${info.mtimeMs}` : '';
  }

  async #write(record: SignInRecord): Promise<SignInRecord> {
    const next = { ...record, updatedAt: new Date(this.#now()).toISOString() };
    await writeJsonFile(this.path, next);
    return next;
  }

  async #ensureDir(): Promise<void> {
    const dir = join(this.path, '..');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // A folder made earlier by another tool may be wider; tighten it (best effort: not ours to fail on).
    await chmod(dir, 0o700).catch(() => undefined);
  }
}

/** Tokens with `expires_at` set from `expires_in` and the clock; the original relative field is dropped. */
export function stampExpiry(tokens: OAuthTokens, now: number): StoredTokens {
  const { expires_in, ...rest } = tokens;
  return expires_in !== undefined ? { ...rest, expires_at: now + expires_in * 1000 } : rest;
}

/** What the SDK should see: the stored tokens with `expires_in` recomputed from `expires_at`. */
export function presentTokens(tokens: StoredTokens, now: number): OAuthTokens {
  const { expires_at, ...rest } = tokens;
  if (expires_at === undefined) return rest;
  return { ...rest, expires_in: Math.max(0, Math.floor((expires_at - now) / 1000)) };
}
