/**
 * Runs the built CLI as a person would and captures what it prints, whatever its exit code.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI_PATH } from './config.js';

const run = promisify(execFile);

/** Runs `automcp ...args`; resolves with its exit code, stdout and stderr. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
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
