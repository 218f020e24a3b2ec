/**
 * Learning from use through real `automcp serve` processes: a tool the agent ran after a request
 * moves up for a related request (not for an unrelated one, not in another profile, not when the call
 * was refused), survives a restart through the state directory, is shown by `automcp learned` and
 * `automcp status`, and is cleared by `automcp learned --forget`; `selection.learn: false` learns nothing.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, writeConfigDir, type TempConfig } from './helpers/config.js';
import { errorPayload, evalTool, runCli, selectTools, serveGateway, type ServedGateway } from './helpers/gateway.js';

let config: TempConfig;
let stateFile: (profile: string) => string;
const started: ServedGateway[] = [];

beforeAll(async () => {
  config = await writeConfigDir({
    runtime: {
      servers: { echo: fixtureServer('echo', { description: 'Echoes messages and adds numbers' }) },
      stateDir: './state',
    },
    profiles: {
      default: { description: 'Everything.' },
      other: { description: 'Everything too.' },
      quiet: { selection: { learn: false } },
    },
  });
  stateFile = (profile) => join(config.dir, 'state', 'learned', `${profile}.json`);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(started.map((gateway) => gateway.close()));
  await config?.cleanup();
});

async function serve(profile?: string): Promise<ServedGateway> {
  const gateway = await serveGateway({ configDir: config.dir, ...(profile !== undefined ? { profile } : {}) });
  started.push(gateway);
  await gateway.waitForLog((line) => line.msg === 'downstream servers started', 60_000);
  return gateway;
}

/** The names automatic_mcp returns, in order (fresh, so nothing comes back as names-only). */
async function ranked(gateway: ServedGateway, query: string, sessionId = 'probe'): Promise<string[]> {
  const output = await selectTools(gateway.client, { query, sessionId, fresh: true, limit: 4 });
  return output.tools.map((tool) => tool.name);
}

const LEARNED = 'banana smoothie recipe';
const UNRELATED = 'add two numbers';

describe('learning from use through automcp serve', () => {
  let first: ServedGateway;
  let unrelatedBefore: string[];

  it('a tool run after a request moves up for a related request, not for an unrelated one', async () => {
    first = await serve();
    expect(await ranked(first, LEARNED)).toEqual([]);
    unrelatedBefore = await ranked(first, UNRELATED);
    expect(unrelatedBefore[0]).toBe('echo.add');

    // A refused call teaches nothing: the arguments do not match echo.add's schema.
    await selectTools(first.client, { query: 'cherry pie', sessionId: 'refused' });
    expect(errorPayload(await evalTool(first.client, 'echo.add', { a: 'x' }, { sessionId: 'refused' })).error.code).toBe(
      'INVALID_ARGUMENTS',
    );

    // The agent asks, gets nothing useful, and runs echo.stats anyway in the same session.
    expect((await selectTools(first.client, { query: LEARNED, sessionId: 'conversation-1' })).tools).toEqual([]);
    const result = await evalTool(first.client, 'echo.stats', {}, { sessionId: 'conversation-1' });
    expect(result.isError).toBeFalsy();

    expect((await ranked(first, `a ${LEARNED}`))[0]).toBe('echo.stats');
    expect(await ranked(first, UNRELATED)).toEqual(unrelatedBefore);
    expect(await ranked(first, 'cherry pie')).toEqual([]);
  }, 120_000);

  it('is kept per profile: another profile ranks as before', async () => {
    const other = await serve('other');
    expect(await ranked(other, LEARNED)).toEqual([]);
    await other.close();
  }, 120_000);

  it('is written to the state directory as terms, and survives a restart', async () => {
    await expect
      .poll(() => (existsSync(stateFile('default')) ? readFile(stateFile('default'), 'utf8') : ''), { timeout: 15_000 })
      .toContain('"banana"');
    const text = await readFile(stateFile('default'), 'utf8');
    expect(text).toContain('echo.stats');
    expect(text).not.toContain(LEARNED);
    expect(text).not.toContain('cherry');
    await first.close();

    const restarted = await serve();
    expect((await ranked(restarted, LEARNED))[0]).toBe('echo.stats');
    await restarted.close();
  }, 120_000);

  it('automcp learned and status show it; learned --forget clears it for a running gateway', async () => {
    const running = await serve();
    expect((await ranked(running, LEARNED))[0]).toBe('echo.stats');

    const shown = await runCli(['learned', '--config', config.dir, '--json']);
    expect(shown.code).toBe(0);
    const report = JSON.parse(shown.stdout) as {
      profiles: { profile: string; tools: { tool: string; terms: { term: string }[] }[] }[];
    };
    const learned = report.profiles.find((entry) => entry.profile === 'default')!;
    expect(learned.tools.map((tool) => tool.tool)).toEqual(['echo.stats']);
    expect(learned.tools[0]!.terms.map((term) => term.term)).toEqual(expect.arrayContaining(['banana', 'smoothi', 'recip']));
    const text = await runCli(['learned', '--config', config.dir, '--profile', 'default']);
    expect(text.stdout).toMatch(/echo\.stats\s+\d+\.\d\d\s+/);

    const status = await runCli(['status', '--config', config.dir, '--json']);
    const counts = (JSON.parse(status.stdout) as { learned: { profiles: { profile: string; tools: number; pairs: number }[] } })
      .learned;
    expect(counts.profiles).toContainEqual({ profile: 'default', tools: 1, pairs: 3 });

    const forgot = await runCli(['learned', '--config', config.dir, '--forget', 'echo.stats']);
    expect(forgot.code).toBe(0);
    expect(forgot.stdout).toContain('profile default: forgot 3 learned pairs of echo.stats');
    // The running gateway reads the change on a later selection.
    await expect.poll(() => ranked(running, LEARNED), { timeout: 20_000, interval: 500 }).toEqual([]);
    const after = JSON.parse((await runCli(['learned', '--config', config.dir, '--json'])).stdout) as typeof report;
    expect(after.profiles.flatMap((entry) => entry.tools)).toEqual([]);
    await running.close();
  }, 120_000);

  it('a profile with selection.learn: false learns nothing', async () => {
    const quiet = await serve('quiet');
    await selectTools(quiet.client, { query: 'kiwi sorbet', sessionId: 'q' });
    expect((await evalTool(quiet.client, 'echo.stats', {}, { sessionId: 'q' })).isError).toBeFalsy();
    expect(await ranked(quiet, 'kiwi sorbet')).toEqual([]);
    await quiet.close();
    expect(existsSync(stateFile('quiet'))).toBe(false);
  }, 120_000);
});
