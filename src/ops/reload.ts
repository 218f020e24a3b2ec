/**
 * Live reload: runtime.yaml and the profiles folder are read again — when they change on disk (watched,
 * debounced), on `automcp reload` (SIGUSR2) or after an ops tool wrote them — and a valid result is
 * applied without dropping any client: servers are reconciled, and profiles and callers swap in one
 * step for the next request. A result that does not validate is refused whole: the running
 * configuration stays, and the refusal is logged in the words `automcp check` would use and kept for
 * `automcp.list_servers` and `automcp status` to show. Reloads run one at a time.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { canonicalJson } from '../catalog/hash.js';
import { listProfiles, loadConfig, loadProfile, type Profile, type RuntimeConfig } from '../config/load.js';
import { ConfigError, isConfigError } from '../errors.js';
import type { Logger } from '../logging/logger.js';

/** Waits this long after the last change event before reading: editors write a file in several steps. */
export const RELOAD_DEBOUNCE_MS = 200;

/** The signal `automcp reload` sends to every running `serve` of a configuration. */
export const RELOAD_SIGNAL = 'SIGUSR2';

/** The configuration a gateway runs on: runtime.yaml and every valid profile, swapped as one. */
export interface LiveConfig {
  readonly config: RuntimeConfig;
  readonly profiles: ReadonlyMap<string, Profile>;
  /** Moves on every applied reload. */
  readonly revision: number;
}

/** An edit that was refused, kept until a later one applies. */
export interface RefusedEdit {
  /** When it was refused (ISO 8601). */
  at: string;
  /** `configuration error in <file>: <problems>`, as `automcp check` prints it. */
  message: string;
  problems: string[];
}

/** What the gateway does with a valid new configuration; resolves with what changed in its servers. */
export type ApplyConfig = (next: RuntimeConfig) => {
  added: string[];
  removed: string[];
  changed: string[];
  started: Promise<void>;
};

/** What one reload did. */
export interface ReloadOutcome {
  outcome: 'applied' | 'unchanged' | 'refused';
  revision: number;
  added: string[];
  removed: string[];
  changed: string[];
  /** Profiles added, changed or removed. */
  profiles: string[];
  /** Keys that changed but take effect only after a restart. */
  needsRestart: string[];
  refused?: RefusedEdit;
  /** Resolves when added and changed servers have started (or failed). */
  started: Promise<void>;
}

/** Keys of runtime.yaml that a running gateway cannot change under its clients. */
const RESTART_KEYS = ['session', 'selector', 'logging', 'stateDir'] as const;

/** Holds the live configuration and reloads it. */
export class ConfigReloader {
  #live: LiveConfig;
  #refused: RefusedEdit | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #last: { at: string; outcome: ReloadOutcome['outcome'] } | undefined;
  readonly #listeners = new Set<(outcome: ReloadOutcome) => void>();
  readonly #logger: Logger;
  readonly #apply: ApplyConfig;
  readonly #inUse: (config: RuntimeConfig) => string[];
  readonly #prepare: ((config: RuntimeConfig) => Promise<() => void>) | undefined;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #now: () => number;

  constructor(options: {
    config: RuntimeConfig;
    profiles: ReadonlyMap<string, Profile>;
    logger: Logger;
    apply: ApplyConfig;
    /** Profiles the running gateway needs (its `--profile`, its callers'): missing or invalid ones refuse a reload. */
    inUse?: (config: RuntimeConfig) => string[];
    /** More checks that may refuse a reload (HTTP callers' tokens); returns how to commit what it built. */
    prepare?: (config: RuntimeConfig) => Promise<() => void>;
    env?: Readonly<Record<string, string | undefined>>;
    now?: () => number;
  }) {
    this.#live = { config: options.config, profiles: options.profiles, revision: 0 };
    this.#logger = options.logger;
    this.#apply = options.apply;
    this.#inUse = options.inUse ?? (() => []);
    this.#prepare = options.prepare;
    this.#env = options.env ?? process.env;
    this.#now = options.now ?? Date.now;
  }

  /** The configuration in force. Read it once per request: it is replaced whole, never changed in place. */
  get live(): LiveConfig {
    return this.#live;
  }

  /** The last refused edit, until a later reload applies. */
  get refused(): RefusedEdit | undefined {
    return this.#refused;
  }

  /** When the last reload ran and how it ended (for the status file, which `automcp reload` waits on). */
  get lastReload(): { at: string; outcome: ReloadOutcome['outcome'] } | undefined {
    return this.#last;
  }

  /** Calls `listener` after every reload; returns the unsubscribe function. */
  onReload(listener: (outcome: ReloadOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The profile `name` in force, if it exists and is valid. */
  profile(name: string): Profile | undefined {
    return this.#live.profiles.get(name);
  }

  /** Reads the files again and applies them if valid. Reloads queue up; each sees the files as they are then. */
  reload(reason: string): Promise<ReloadOutcome> {
    const run = this.#queue.then(async () => {
      const at = new Date(this.#now()).toISOString();
      const outcome = await this.#reload(reason);
      this.#last = { at, outcome: outcome.outcome };
      for (const listener of this.#listeners) listener(outcome);
      return outcome;
    });
    this.#queue = run.catch((error: unknown) => {
      this.#logger.error({ reason, err: error }, 'reload failed');
    });
    return run;
  }

  /**
   * Watches runtime.yaml's folder and the profiles folder; a change to runtime.yaml or a `*.yaml`
   * profile reloads after {@link RELOAD_DEBOUNCE_MS}. Folders are watched rather than files because
   * editors and atomic writers replace a file by renaming another over it.
   */
  watch(): void {
    this.unwatch();
    const { config } = this.#live;
    const runtimeName = basename(config.file);
    const targets: [string, (name: string) => boolean][] = [
      [dirname(config.file), (name) => name === runtimeName],
      [config.profilesDir, (name) => name.endsWith('.yaml')],
    ];
    for (const [dir, relevant] of targets) {
      try {
        const watcher = watch(dir, (_event, name) => {
          if (name === null || relevant(name.toString())) this.#schedule();
        });
        watcher.on('error', (error) => this.#logger.warn({ dir, err: error.message }, 'stopped watching a configuration folder'));
        watcher.unref();
        this.#watchers.push(watcher);
      } catch (error) {
        this.#logger.warn({ dir, err: (error as Error).message }, 'cannot watch a configuration folder; use `automcp reload`');
      }
    }
  }

  /** Stops watching. */
  unwatch(): void {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload('file changed').catch(() => undefined), RELOAD_DEBOUNCE_MS);
    this.#timer.unref();
  }

  async #reload(reason: string): Promise<ReloadOutcome> {
    const previous = this.#live;
    const nothing = { added: [], removed: [], changed: [], profiles: [], needsRestart: [], started: Promise.resolve() };
    let config: RuntimeConfig;
    let profiles: Map<string, Profile>;
    let commit: (() => void) | undefined;
    try {
      config = await loadConfig({ path: previous.config.file, env: this.#env });
      profiles = await this.#loadProfiles(config);
      commit = await this.#prepare?.(config);
    } catch (error) {
      if (!isConfigError(error)) throw error;
      const refused = {
        at: new Date(this.#now()).toISOString(),
        message: `configuration error in ${error.message}`,
        problems: [...error.problems],
      };
      this.#refused = refused;
      this.#logger.error(
        { reason, file: error.file, problems: error.problems },
        `reload refused; the running configuration stays: ${refused.message}`,
      );
      return { outcome: 'refused', revision: previous.revision, ...nothing, refused };
    }
    const changedProfiles = diffProfiles(previous.profiles, profiles);
    const needsRestart = RESTART_KEYS.filter(
      (key) => canonicalJson(config[key] ?? null) !== canonicalJson(previous.config[key] ?? null),
    );
    if (canonicalJson(config) === canonicalJson(previous.config) && changedProfiles.length === 0) {
      this.#refused = undefined;
      return { outcome: 'unchanged', revision: previous.revision, ...nothing };
    }
    // Everything is built and checked; from here on nothing can fail half-way.
    commit?.();
    const report = this.#apply(config);
    this.#live = { config, profiles, revision: previous.revision + 1 };
    this.#refused = undefined;
    if (config.profilesDir !== previous.config.profilesDir && this.#watchers.length > 0) this.watch();
    this.#logger.info(
      {
        reason,
        revision: this.#live.revision,
        added: report.added,
        removed: report.removed,
        changed: report.changed,
        profiles: changedProfiles,
        ...(needsRestart.length > 0 ? { needsRestart } : {}),
      },
      needsRestart.length > 0
        ? `configuration reloaded; ${needsRestart.join(', ')} change only after a restart`
        : 'configuration reloaded',
    );
    return { outcome: 'applied', revision: this.#live.revision, ...report, profiles: changedProfiles, needsRestart };
  }

  /** Every valid profile of the folder; a profile in use that is missing or invalid refuses the reload. */
  async #loadProfiles(config: RuntimeConfig): Promise<Map<string, Profile>> {
    const profiles = new Map<string, Profile>();
    const problems: string[] = [];
    const inUse = new Set(this.#inUse(config));
    const names = new Set([...(await listProfiles(config.profilesDir)), ...inUse]);
    for (const name of names) {
      try {
        // `default` without a file is the built-in allow-everything profile, as at start-up.
        profiles.set(
          name,
          await loadProfile({ profilesDir: config.profilesDir, env: this.#env, ...(name === 'default' ? {} : { name }) }),
        );
      } catch (error) {
        if (!isConfigError(error)) throw error;
        if (inUse.has(name)) problems.push(`profile "${name}" (in use): ${error.message}`);
        else this.#logger.warn({ profile: name, err: error.message }, 'profile is not valid; it cannot be used until fixed');
      }
    }
    if (problems.length > 0) throw new ConfigError(config.profilesDir, problems);
    return profiles;
  }
}

/** Names of profiles added, removed or changed between two sets. */
function diffProfiles(before: ReadonlyMap<string, Profile>, after: ReadonlyMap<string, Profile>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => canonicalJson(before.get(name) ?? null) !== canonicalJson(after.get(name) ?? null)).sort();
}
