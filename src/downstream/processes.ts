/**
 * No orphans. Every stdio server runs in its own process group (so a wrapper such as `npx` and the
 * server it starts are stopped together), and every group is registered here. The guard stops them
 * all when the gateway exits in any way it can observe (a synchronous `exit` hook), and — for the one
 * way it cannot, being killed with SIGKILL — a tiny watchdog shell, started in its own group, reads
 * the group ids on a pipe and kills them when that pipe closes, that is when the gateway is gone.
 * POSIX only; on Windows children get the transport's ordinary close and stdin EOF.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../logging/logger.js';

/** Seconds the watchdog waits after SIGTERM before SIGKILL. */
const WATCHDOG_GRACE_SECONDS = 2;

/**
 * The watchdog: collects group ids from stdin ("123" adds, "-123" removes); at EOF it sends SIGTERM to
 * each group still alive, waits up to the grace for them to go, then SIGKILL. It ignores SIGINT,
 * SIGTERM and SIGHUP, so a Ctrl-C in the terminal does not end it before it has done its job. Plain
 * `kill -SIG -PGID`, without `--`: dash's built-in kill rejects `--`.
 */
const WATCHDOG_SCRIPT = `trap '' INT TERM HUP
groups=""
while read -r line; do
  case "$line" in
    -*) id="\${line#-}"; kept=""; for g in $groups; do [ "$g" != "$id" ] && kept="$kept $g"; done; groups="$kept" ;;
    *) groups="$groups $line" ;;
  esac
done
alive=""
for g in $groups; do kill -TERM "-$g" 2>/dev/null && alive="$alive $g"; done
i=0
while [ -n "$alive" ] && [ "$i" -lt ${WATCHDOG_GRACE_SECONDS * 10} ]; do
  sleep 0.1
  left=""; for g in $alive; do kill -0 "-$g" 2>/dev/null && left="$left $g"; done; alive="$left"
  i=$((i + 1))
done
for g in $alive; do kill -KILL "-$g" 2>/dev/null; done
exit 0
`;

/** Tracks the process groups of stdio children so none outlives the gateway. */
export interface ProcessGuard {
  /** True when children should be started in their own process group. */
  readonly groups: boolean;
  /** Registers the group led by `pid`. */
  track(pid: number): void;
  /** Forgets the group led by `pid` (it has exited). */
  untrack(pid: number): void;
  /** SIGTERM (or `signal`) to every tracked group at once; synchronous, safe in an `exit` hook. */
  killAll(signal?: NodeJS.Signals): void;
  /** Stops the watchdog (its EOF also sweeps any group still tracked). */
  close(): void;
}

/**
 * Creates the guard. With `watchdog: true` (what `automcp serve` uses) the watchdog shell is started;
 * library users who embed the gateway get groups and the exit hook only.
 */
export function createProcessGuard({ logger, watchdog = false }: { logger: Logger; watchdog?: boolean }): ProcessGuard {
  const posix = process.platform !== 'win32';
  const tracked = new Set<number>();
  let dog: ChildProcess | undefined;
  if (posix && watchdog) {
    try {
      dog = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
      dog.on('error', (error) => logger.warn({ err: error.message }, 'process watchdog failed; children rely on stdin EOF'));
      dog.stdin?.on('error', () => undefined);
      // The watchdog must not keep the gateway alive, nor the gateway wait for it.
      dog.unref();
      (dog.stdin as { unref?: () => void } | null)?.unref?.();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'could not start the process watchdog');
    }
  }
  const tell = (line: string) => {
    if (dog?.stdin?.writable) dog.stdin.write(`${line}\n`);
  };
  const killAll = (signal: NodeJS.Signals = 'SIGTERM') => {
    for (const pid of tracked) {
      try {
        process.kill(posix ? -pid : pid, signal);
      } catch {
        // already gone
      }
    }
  };
  const onExit = () => killAll('SIGTERM');
  // The exit hook is added with the first child, not here: a guard that never tracked anything (a
  // gateway whose creation failed, or that was never started) leaves no listener behind.
  let hooked = false;
  return {
    groups: posix,
    track(pid) {
      if (!hooked) {
        hooked = true;
        process.on('exit', onExit);
      }
      tracked.add(pid);
      tell(String(pid));
    },
    untrack(pid) {
      if (tracked.delete(pid)) tell(`-${pid}`);
    },
    killAll,
    close() {
      hooked = false;
      process.off('exit', onExit);
      dog?.stdin?.end();
    },
  };
}
