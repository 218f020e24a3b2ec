/**
 * Runs the built CLI as a person would, with its exit code and output whatever the code.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI_PATH } from './config.js';

const run = promisify(execFile);

/** What one CLI run printed and how it ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `automcp ARGS`; resolves with its exit code and output whatever the code. */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_PATH, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
