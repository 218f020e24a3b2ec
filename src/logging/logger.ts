/**
 * The one logger. It writes JSON lines to stderr only: in stdio mode stdout belongs to JSON-RPC.
 * Keys that usually hold secrets are redacted wherever they appear.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors before a line is written; env blocks and headers are where secrets live. */
const REDACT_PATHS = [
  'env',
  '*.env',
  'headers',
  '*.headers',
  'authorization',
  '*.authorization',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
];

/** Creates the stderr logger at `level` (default `info`). */
export function createLogger(options: { level?: LevelWithSilent; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'automcp' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything, for library users and tests that do not care. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
