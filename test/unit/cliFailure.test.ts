/**
 * What a failed command prints: one line for what the person can fix, a stack for our bugs.
 */
import { describe, expect, it } from 'vitest';
import { describeFailure, UsageError } from '../../src/cli/failure.js';
import { checkServeOptions } from '../../src/cli/serveOptions.js';
import { ConfigError, GatewayError } from '../../src/errors.js';

function systemError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('describeFailure', () => {
  it('prints one line for input, configuration and machine errors', () => {
    expect(describeFailure(new UsageError('--port applies only to the HTTP server'))).toBe(
      'automcp: --port applies only to the HTTP server\n',
    );
    expect(describeFailure(new GatewayError('INVALID_INPUT', 'query: must describe the task (it is empty)'))).toBe(
      'automcp: query: must describe the task (it is empty)\n',
    );
    expect(describeFailure(new ConfigError('/x/runtime.yaml', ['servers.a: unknown key "argz"']))).toBe(
      'automcp: configuration error in /x/runtime.yaml: servers.a: unknown key "argz"\n',
    );
    const busy = systemError('listen EADDRINUSE: address already in use 127.0.0.1:8931', {
      code: 'EADDRINUSE',
      syscall: 'listen',
      address: '127.0.0.1',
      port: 8931,
    });
    expect(describeFailure(busy)).toBe(
      'automcp: cannot listen on 127.0.0.1 port 8931: it is already in use; stop what uses it, or choose another with --port (0: any free port)\n',
    );
    const denied = systemError('listen EACCES: permission denied 0.0.0.0:80', {
      code: 'EACCES',
      syscall: 'listen',
      address: '0.0.0.0',
      port: 80,
    });
    expect(describeFailure(denied)).toContain('choose a port above 1023 with --port');
    const unreadable = systemError("EACCES: permission denied, open '/etc/x'", { code: 'EACCES', syscall: 'open' });
    expect(describeFailure(unreadable)).toBe("automcp: EACCES: permission denied, open '/etc/x'\n");
  });

  it('adds the stack with verbose', () => {
    const text = describeFailure(new UsageError('bad'), { verbose: true });
    expect(text.startsWith('automcp: bad\nUsageError: bad\n')).toBe(true);
    expect(text).toMatch(/\n\s+at /);
  });

  it('shows the stack of anything else: it is our bug', () => {
    const text = describeFailure(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(text).toMatch(/^automcp: internal error \(please report it with the lines below\): TypeError: Cannot read/);
    expect(text).toMatch(/\n\s+at /);
    expect(describeFailure('a string')).toBe('automcp: internal error (please report it with the lines below): a string\n');
  });
});

describe('checkServeOptions', () => {
  it('refuses --host and --port without --http, and accepts them with it', () => {
    expect(() => checkServeOptions({ port: 9000 })).toThrow('--port applies only to the HTTP server: add --http');
    expect(() => checkServeOptions({ host: '0.0.0.0' })).toThrow('--host applies only to the HTTP server');
    expect(() => checkServeOptions({ host: '0.0.0.0', port: 0 })).toThrow('--host and --port apply only to the HTTP server');
    expect(() => checkServeOptions({ http: true, host: '0.0.0.0', port: 0 })).not.toThrow();
    expect(() => checkServeOptions({})).not.toThrow();
  });
});
