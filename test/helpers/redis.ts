/**
 * A real `redis-server` for tests: started on a free loopback port in a temp dir with persistence off,
 * ready once it answers PING, and stoppable and restartable mid-test on the same port (so a client's URL
 * keeps working across an outage), or paused so that it stops answering without closing connections. Tests stop it in afterAll; the process is also killed if the test
 * process exits first. Needs the Debian package redis-server (`scripts/ensure-redis.sh` installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { makeTempDir } from './config.js';
import { delay } from './gateway.js';

/** A running (or stopped) redis-server owned by one test file. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, with the password when there is one. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, waits for exit). Its data is gone: persistence is off. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers, as behind a dead network. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
  /** Stops it and removes its temp dir. */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/** Starts a redis-server on a free loopback port; with `password`, clients must authenticate. */
export async function startRedisServer({ password }: { password?: string } = {}): Promise<RedisServer> {
  const dir = await makeTempDir('automcp-redis-');
  let child: ChildProcess | undefined;
  let output = '';
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const launch = async (port: number) => {
    output = '';
    const started = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''],
        ...(password !== undefined ? ['--requirepass', password] : []),
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<string>((resolve) => {
      started.once('error', (error: NodeJS.ErrnoException) =>
        resolve(
          error.code === 'ENOENT'
            ? 'redis-server is not installed (run scripts/ensure-redis.sh, or apt-get install redis-server)'
            : error.message,
        ),
      );
      started.once('exit', (code, signal) => resolve(`redis-server exited (${signal ?? code}):\n${output}`));
    });
    child = started;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const failure = await Promise.race([exited, delay(100).then(() => undefined)]);
      if (failure !== undefined) throw new Error(failure);
      if (await answersPing(port, password)) return;
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms:\n${output}`);
      }
    }
  };

  // A free port can be taken between probing and binding; try a few.
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch(port);
      break;
    } catch (error) {
      if (attempt >= 3 || !/already in use/i.test((error as Error).message)) {
        process.off('exit', killOnExit);
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const stop = async () => {
    child?.kill('SIGCONT');
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  return {
    url: `redis://${password !== undefined ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`,
    port,
    stop,
    start: () => launch(port),
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async close() {
      await stop();
      process.off('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sends the inline commands `AUTH` (with a password) and `PING`, and resolves true on `+PONG`. */
function answersPing(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => finish(false));
    socket.on('connect', () => socket.write(`${password !== undefined ? `AUTH ${password}\r\n` : ''}PING\r\n`));
    const expected = password !== undefined ? 2 : 1;
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      const lines = reply.split('\r\n').slice(0, -1);
      if (lines.length >= expected) finish(lines[expected - 1] === '+PONG');
    });
    socket.on('error', () => finish(false));
  });
}

/** A loopback TCP port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
