/**
 * What the command line prints when a command fails. A failure the person can fix — their input, their
 * configuration, their machine (a port in use, a folder they cannot write) — is one line saying what to
 * fix; a stack trace would only bury it. Anything else is our bug, and its stack is what a bug report
 * needs. `--verbose` shows the stack in every case.
 */
import { isConfigError, isGatewayError } from '../errors.js';

/** A mistake in how the command was called, with what to do instead. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Node's errors from the operating system (`listen EADDRINUSE`, `open EACCES`): about the machine, not us. */
interface SystemError extends Error {
  code: string;
  syscall: string;
  address?: string;
  port?: number;
}

function isSystemError(error: unknown): error is SystemError {
  return (
    error instanceof Error &&
    typeof (error as Partial<SystemError>).code === 'string' &&
    typeof (error as Partial<SystemError>).syscall === 'string'
  );
}

/**
 * The text to print on stderr for a failed command (ending in a newline). `verbose` adds the stack of
 * a failure the person can fix; an internal error always has it.
 */
export function describeFailure(error: unknown, { verbose = false }: { verbose?: boolean } = {}): string {
  const stack = error instanceof Error && error.stack ? `\n${error.stack}` : '';
  let line: string | undefined;
  if (isConfigError(error)) line = `configuration error in ${error.message}`;
  else if (error instanceof UsageError || isGatewayError(error)) line = error.message;
  else if (isSystemError(error)) line = systemErrorLine(error);
  if (line === undefined) {
    return `automcp: internal error (please report it with the lines below): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
  }
  return `automcp: ${line}${verbose ? stack : ''}\n`;
}

function systemErrorLine(error: SystemError): string {
  if (error.syscall === 'listen') {
    const where = `${error.address ?? 'the address'}${error.port !== undefined ? ` port ${error.port}` : ''}`;
    if (error.code === 'EADDRINUSE') {
      return `cannot listen on ${where}: it is already in use; stop what uses it, or choose another with --port (0: any free port)`;
    }
    if (error.code === 'EACCES') {
      return `cannot listen on ${where}: permission denied; choose a port above 1023 with --port`;
    }
    if (error.code === 'EADDRNOTAVAIL') {
      return `cannot listen on ${where}: this machine has no such address; choose another with --host (e.g. 127.0.0.1)`;
    }
  }
  return error.message;
}
