/**
 * Run traces end to end: a spawned `automcp serve` writes a record for each automatic_mcp and
 * automatic_eval call into its state directory (no argument values), another serve of the same config
 * adds to them, and `automcp runs` / `automcp runs show` read them back as a person and a script would.
 */
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceRecord } from '../src/traces/record.js';
import { openTraceReader } from '../src/traces/store.js';
import { fixtureServer, writeConfigDir, type TempConfig } from './helpers/config.js';
import { evalTool, firstText, runCli, selectTools, serveGateway, waitFor } from './helpers/gateway.js';

const SECRET = 'correct-horse-battery-staple';

let config: TempConfig;
let runsDir: string;
let selected: string;
let evaluated: string;

beforeAll(async () => {
  // countTokens: a stdio gateway records token counts only when asked to.
  config = await writeConfigDir({
    runtime: { stateDir: './state', servers: { echo: fixtureServer('echo') }, traces: { countTokens: true } },
  });
  runsDir = join(config.dir, 'state', 'runs');
  const first = await serveGateway({ configDir: config.dir });
  try {
    selected = (await selectTools(first.client, { query: 'echo a message back', limit: 2 })).runId;
  } finally {
    await first.close();
  }
  // A second gateway of the same config, after the first stopped: its records join the first one's.
  const second = await serveGateway({ configDir: config.dir });
  try {
    expect(firstText(await evalTool(second.client, 'echo.echo', { message: SECRET }))).toBe(SECRET);
  } finally {
    await second.close();
  }
  // Closing stdin stops a gateway, which writes what it still holds before it exits.
  await waitFor(async () => ((await openTraceReader(runsDir).list()).length === 2 ? true : undefined), 15_000, 'two run traces');
  const [run] = await openTraceReader(runsDir).list({ kind: 'eval' });
  evaluated = run!.runId;
}, 90_000);

afterAll(async () => config?.cleanup());

describe('run traces of automcp serve', () => {
  it('are JSON lines in the state directory, without argument values or results', async () => {
    const names = await readdir(runsDir);
    expect(names.length).toBe(2);
    const text = (await Promise.all(names.map((name) => readFile(join(runsDir, name), 'utf8')))).join('');
    expect(text).not.toContain(SECRET);
    const records = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as TraceRecord);
    expect(records.find((record) => record.kind === 'selection')).toMatchObject({
      runId: selected,
      caller: 'default',
      request: { query: 'echo a message back', limit: 2 },
      mode: 'lexical',
    });
    expect(records.find((record) => record.kind === 'eval')).toMatchObject({
      runId: evaluated,
      tool: 'echo.echo',
      server: 'echo',
      outcome: 'ok',
    });
  });

  it('automcp runs lists them newest first, and filters by tool, caller and time', async () => {
    const listed = await runCli(['runs', '--config', config.dir]);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(evaluated);
    expect(lines[0]).toMatch(/eval\s+echo\.echo → ok/);
    expect(lines[1]).toContain(selected);
    expect(lines[1]).toContain('"echo a message back" → echo.echo');

    const json = await runCli([
      'runs',
      '--config',
      config.dir,
      '--tool',
      'echo.*',
      '--since',
      '1h',
      '--caller',
      'default',
      '--json',
    ]);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as TraceRecord[]).map((record) => record.runId)).toEqual([evaluated, selected]);
    const none = await runCli(['runs', '--config', config.dir, '--caller', 'nobody']);
    expect(none).toMatchObject({ code: 0 });
    expect(none.stdout).toMatch(/^no runs in .* matching caller nobody\n$/);
    const limited = await runCli(['runs', '--config', config.dir, '--limit', '1', '--json']);
    expect((JSON.parse(limited.stdout) as TraceRecord[]).map((record) => record.runId)).toEqual([evaluated]);
  });

  it('automcp runs show prints one run: a selection with its lexical ranking, an eval with its outcome', async () => {
    const shown = await runCli(['runs', 'show', selected, '--config', config.dir]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toContain(`run ${selected}  automatic_mcp`);
    expect(shown.stdout).toContain('request "echo a message back"');
    expect(shown.stdout).toMatch(/profile default · mode lexical · limit 2/);
    expect(shown.stdout).toMatch(/^\s+1 {2}echo\.echo \(/m);
    expect(shown.stdout).toContain('selected: echo.echo');
    // The token counts the gateway recorded after the call.
    expect(shown.stdout).toMatch(/available \(etag \w+\) · \d+ tokens, full catalog \d+\n/);

    const json = await runCli(['runs', 'show', evaluated, '--config', config.dir, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ runId: evaluated, kind: 'eval', tool: 'echo.echo', outcome: 'ok' });
  });

  it('one line and exit 1 for an unknown run id or a bad --since', async () => {
    const unknown = await runCli(['runs', 'show', 'r_nothere', '--config', config.dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe(`automcp: no run "r_nothere" in ${runsDir} (list the kept ones with \`automcp runs\`)\n`);
    const since = await runCli(['runs', '--since', 'last tuesday', '--config', config.dir]);
    expect(since.code).toBe(1);
    expect(since.stderr.trim().split('\n')).toHaveLength(1);
    expect(since.stderr).toContain('--since "last tuesday" is not a time');
  });
});

describe('automcp serve with a state directory it cannot write', () => {
  it('warns once about traces, and every call succeeds', async () => {
    const readOnly = await writeConfigDir({ runtime: { stateDir: './state', servers: { echo: fixtureServer('echo') } } });
    const state = join(readOnly.dir, 'state');
    await mkdir(state);
    // Modes do not bind root, so as root a file stands where the runs folder would be created.
    if (process.getuid?.() === 0) await writeFile(join(state, 'runs'), 'not a folder');
    else await chmod(state, 0o500);
    const served = await serveGateway({ configDir: readOnly.dir });
    try {
      for (let round = 0; round < 3; round++) {
        const output = await selectTools(served.client, { query: 'echo a message back', fresh: true });
        expect(output.tools.map((tool) => tool.name)).toContain('echo.echo');
        expect(firstText(await evalTool(served.client, 'echo.echo', { message: `round ${round}` }))).toBe(`round ${round}`);
      }
      await served.waitForLog((line) => line.msg?.startsWith('cannot write run traces') === true);
      // A call after the warning: its record fails again when the gateway writes it on the way out.
      expect((await selectTools(served.client, { query: 'echo a message back' })).runId).toMatch(/^r_/);
    } finally {
      // Resolves once the process has exited, so its whole log is in.
      await served.close();
      await chmod(state, 0o700).catch(() => undefined);
    }
    const warnings = served.logLines().filter((line) => line.msg?.startsWith('cannot write run traces'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, dir: join(state, 'runs') });
    await readOnly.cleanup();
  }, 60_000);
});
