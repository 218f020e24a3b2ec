/**
 * Gateway errors. A `GatewayError` is a failure the caller can act on (bad input, unknown tool,
 * downstream trouble); the one boundary in `gateway/server.ts` turns it into an `isError` tool result.
 * Anything else that is thrown is a bug or a protocol error and travels as a JSON-RPC error.
 */

/** Error codes of CONTRACT §1, plus the configuration error used before anything runs. */
export type GatewayErrorCode =
  | 'INVALID_INPUT'
  | 'TOOL_NOT_FOUND'
  | 'INVALID_ARGUMENTS'
  | 'DOWNSTREAM_UNAVAILABLE'
  | 'DOWNSTREAM_TIMEOUT'
  | 'DOWNSTREAM_ERROR'
  /** A tool of a `pinDefinitions` server whose definition changed and is not trusted yet. */
  | 'TOOL_HELD_BACK';

/** A failure reported to the caller as data: `{"error": {code, message}, ...data}`. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  /** Extra top-level fields of the error payload (`server`, `didYouMean`, `tool`, …). */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(code: GatewayErrorCode, message: string, options: { data?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.data = options.data ?? {};
  }

  /** The JSON payload placed in the single text block of an `isError` result. */
  toPayload(): Record<string, unknown> {
    return { error: { code: this.code, message: this.message }, ...this.data };
  }
}

/** True when `value` is a {@link GatewayError}. */
export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/**
 * A configuration problem found before the gateway runs. The message names the file, the key path
 * and what was expected, so the person editing the file knows what to fix.
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `\n  - ${problems.join('\n  - ')}`}`);
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

/** True when `value` is a {@link ConfigError}. */
export function isConfigError(value: unknown): value is ConfigError {
  return value instanceof ConfigError;
}
