/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core) against a
 * real `serve --http` with callers: an echo fixture, the real filesystem server, and a server that
 * cannot start. Selections and evals are made first over MCP, so every page shows recorded data. Then
 * `automcp ui` reads the same state directory. Screenshots of each page are taken every run, and
 * written to docs/img when AUTOMCP_UI_SCREENSHOTS=1 (how the README's images are made).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_PATH,
  REPO_ROOT,
  filesystemServer,
  fixtureServer,
  makeTempDir,
  writeConfigDir,
  type TempConfig,
} from '../helpers/config.js';
import { evalTool, selectTools, waitFor } from '../helpers/gateway.js';
import { startFakeOpenAi, type FakeModelServer } from '../helpers/fakeProviders.js';
import { connectHttpClient, startHttpServe, type HttpServed } from '../helpers/http.js';

const CHROMIUM = process.env.AUTOMCP_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN_ALICE = 'alice-dashboard-token-1111';
const TOKEN_BOB = 'bob-dashboard-token-2222';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const MARKUP = `<img src=x onerror="document.title='injected'">`;
const SHOTS = process.env.AUTOMCP_UI_SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs', 'img') : undefined;

let config: TempConfig;
let files: string;
let stateHome: string;
let served: HttpServed;
let browser: Browser;
let model: FakeModelServer;
const clients: Client[] = [];
let aliceSelection: string;
let bobSelection: string;
let shotDir: string;

/** Script errors and console errors (a Content-Security-Policy violation is one) of every page. */
const pageErrors: string[] = [];

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // The API's 401 answers are expected where a test sends no token or a wrong one.
    if (message.type() === 'error' && !message.text().includes('401')) pageErrors.push(message.text());
  });
  await page.goto(url);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS ?? shotDir, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (run scripts/ensure-chromium.sh)`).toBe(true);
  files = await makeTempDir('automcp-ui-files-');
  stateHome = await makeTempDir('automcp-ui-state-');
  shotDir = await makeTempDir('automcp-ui-shots-');
  await writeFile(join(files, 'notes.md'), '# notes\n');
  const marker = join(files, 'refuse');
  await writeFile(marker, '');
  // A local OpenAI-compatible model that picks the third candidate, then the first, so the run page
  // has a model's choice and reasons to lay beside the lexical ranking.
  model = await startFakeOpenAi((request) => ({
    choose: [request.candidates[2], request.candidates[0]].filter((name): name is string => name !== undefined),
  }));
  config = await writeConfigDir({
    runtime: {
      servers: {
        echo: fixtureServer('echo'),
        filesystem: filesystemServer(files),
        // Refuses to start while the marker exists: the servers page shows its error and retry time.
        broken: fixtureServer('crash', { env: { CRASH_MARKER: marker } }),
        // Waits for review: the servers page marks it quarantined with its held-back tools.
        held: fixtureServer('poisoned', { quarantine: true }),
      },
      selector: { llm: { provider: 'openai', model: 'gpt-4.1-mini', apiKeyEnv: 'TEST_OPENAI_KEY', baseUrl: model.baseUrl } },
      callers: {
        alice: { profile: 'default', tokenSha256: sha256(TOKEN_ALICE) },
        bob: { profile: 'echo-only', tokenSha256: sha256(TOKEN_BOB) },
      },
    },
    profiles: { default: { description: 'every tool' }, 'echo-only': { tools: { allow: ['echo.*'] } } },
  });
  served = await startHttpServe({ configDir: config.dir, env: { XDG_STATE_HOME: stateHome, TEST_OPENAI_KEY: 'sk-test' } });
  await waitFor(async () => (await fetch(`${served.base}/readyz`)).status === 200 || undefined, 30_000, 'readyz');

  const alice = await connectHttpClient(served.mcpUrl, TOKEN_ALICE);
  const bob = await connectHttpClient(served.mcpUrl, TOKEN_BOB);
  clients.push(alice, bob);
  aliceSelection = (await selectTools(alice, { query: 'read the notes file', sessionId: 'conv-1' })).runId;
  // The same request again: the definitions are already held, so they go out names-only.
  await selectTools(alice, { query: 'read the notes file', sessionId: 'conv-1' });
  await selectTools(alice, { query: 'echo a message back', sessionId: 'conv-1' });
  await evalTool(alice, 'echo.echo', { message: 'hi' }, { sessionId: 'conv-1' });
  await evalTool(alice, 'filesystem.read_text_file', { path: join(files, 'notes.md') }, { sessionId: 'conv-1' });
  await evalTool(alice, 'echo.nothing', {}, { sessionId: 'conv-1' });
  // Request text is whatever a conversation said: the pages must show markup in it as text.
  bobSelection = (await selectTools(bob, { query: `bob wants an echo ${MARKUP}` })).runId;
  // Traces are written in the background: wait until all seven of alice's and bob's are readable.
  await waitFor(
    async () => {
      const response = await fetch(`${served.base}/ui/api/runs`, { headers: { Authorization: `Bearer ${TOKEN_ALICE}` } });
      const { runs } = (await response.json()) as { runs: { tokens?: unknown; kind: string }[] };
      return runs.length === 6 && runs.every((run) => run.kind === 'eval' || run.tokens) ? true : undefined;
    },
    20_000,
    "alice's six runs with token counts",
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.allSettled(clients.map((client) => client.close()));
  await served?.stop();
  await model?.close();
  await config?.cleanup();
  for (const dir of [files, stateHome, shotDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  expect(pageErrors).toEqual([]);
  pageErrors.length = 0;
});

describe('the dashboard of serve --http', () => {
  it('refuses the API without a token or with an unknown one, and shows a login page', async () => {
    expect((await fetch(`${served.base}/ui/api/servers`)).status).toBe(401);
    const wrong = await fetch(`${served.base}/ui/api/runs`, { headers: { Authorization: 'Bearer not-a-caller' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_token' });

    const page = await openPage(`${served.base}/ui/runs`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.locator('main').textContent()).not.toContain('read the notes file');
    await shot(page, 'login');
    // A wrong token typed in is refused with a line saying so; the right one opens the page.
    await page.locator('input[name=token]').fill('not-a-caller');
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await page.locator('#login-error').waitFor();
    await page.locator('input[name=token]').fill(TOKEN_ALICE);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect(await page.locator('#who').textContent()).toContain('caller alice');
    await page.close();
  });

  it('shows the servers: state, tools, last error and retry time', async () => {
    const page = await openPage(`${served.base}/ui/servers#token=${TOKEN_ALICE}`);
    await page.locator('table.servers').waitFor();
    // The token left the address bar at once.
    expect(page.url()).not.toContain(TOKEN_ALICE);
    const row = (name: string) => page.locator('table.servers tr', { has: page.locator(`td:text-is("${name}")`) });
    await expect.poll(() => row('echo').locator('td').nth(1).textContent()).toBe('up');
    expect(Number(await row('echo').locator('td').nth(2).textContent())).toBeGreaterThanOrEqual(4);
    expect(Number(await row('filesystem').locator('td').nth(2).textContent())).toBeGreaterThan(5);
    expect(await row('broken').locator('td').nth(1).textContent()).not.toBe('up');
    expect(await row('broken').locator('td').nth(4).textContent()).not.toBe('—');
    await expect.poll(() => row('held').locator('td').nth(1).textContent()).toBe('up quarantined');
    expect(await row('held').locator('td').nth(2).textContent()).toBe('0');
    expect(await row('held').locator('td').nth(3).textContent()).toBe('2');
    // The retry time is shown as the gateway reports it (a server is "down" with a time after repeated failures).
    const response = await fetch(`${served.base}/ui/api/servers`, { headers: { Authorization: `Bearer ${TOKEN_ALICE}` } });
    const { gateways } = (await response.json()) as { gateways: { servers: { name: string; downUntil?: string }[] }[] };
    const broken = gateways[0]!.servers.find((server) => server.name === 'broken')!;
    const retry = await row('broken').locator('td').nth(5).textContent();
    expect(retry).toBe(broken.downUntil ? broken.downUntil.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
    await shot(page, 'servers');
    await page.close();
  });

  it("lists the caller's own runs, filters them, and shows one run's ranking beside the choice", async () => {
    const page = await openPage(`${served.base}/ui/runs#token=${TOKEN_ALICE}`);
    await page.locator('table.runs').waitFor();
    expect(await page.locator('table.runs tr').count()).toBe(7);
    const text = await page.locator('main').textContent();
    expect(text).toContain('read the notes file');
    expect(text).toContain('TOOL_NOT_FOUND');
    // Bob's request is his own.
    expect(text).not.toContain('bob wants an echo');
    await shot(page, 'runs');

    await page.locator('input[name=tool]').fill('echo.*');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.locator('table.runs tr').count()).toBe(4);
    expect(page.url()).toContain('tool=echo.*');

    await page.goto(`${served.base}/ui/runs?id=${aliceSelection}`);
    await page.locator('table.ranking').waitFor();
    expect(await page.locator('q.request').textContent()).toBe('read the notes file');
    const first = page.locator('table.ranking tr').nth(1).locator('td');
    expect(await first.nth(0).textContent()).toBe('1');
    expect(await first.nth(1).textContent()).toMatch(/^filesystem\./);
    expect(Number(await first.nth(2).textContent())).toBeGreaterThan(0);
    // The model's choice and reason stand beside the ranking: its first pick was the third candidate.
    const third = await page.locator('table.ranking tr').nth(3).locator('td').nth(1).textContent();
    expect(await first.nth(3).textContent()).toBe(third);
    expect(await first.nth(4).textContent()).toBe(`picked ${third!}`);
    expect(await page.locator('main').textContent()).toContain('mode llm');
    expect(await page.locator('main').textContent()).toMatch(/tokens sent \(full catalog [\d,]+\)/);
    await shot(page, 'run');

    const other = await fetch(`${served.base}/ui/api/runs/${bobSelection}`, {
      headers: { Authorization: `Bearer ${TOKEN_ALICE}` },
    });
    expect(other.status).toBe(404);
    await page.close();
  });

  it('charts tokens sent against the full catalog, with names-only hits', async () => {
    const page = await openPage(`${served.base}/ui/savings#token=${TOKEN_ALICE}`);
    await page.locator('.chart svg').waitFor();
    const cards = await page.locator('.card').allTextContents();
    expect(cards[0]).toBe('3selections');
    const sent = Number(cards[1]!.replace(/\D/g, ''));
    const catalog = Number(cards[2]!.replace(/\D/g, ''));
    expect(sent).toBeGreaterThan(0);
    expect(catalog).toBeGreaterThan(sent);
    expect(cards[4]).toMatch(/^[1-9]\d*names-only hits$/);
    expect(await page.locator('.chart rect.sent').count()).toBeGreaterThanOrEqual(1);
    // The style sheet applies (the page's Content-Security-Policy allows its own, and no inline style).
    expect(
      await page
        .locator('.swatch.sent')
        .evaluate(
          (node) =>
            (globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } }).getComputedStyle(node)
              .backgroundColor,
        ),
    ).toBe('rgb(37, 99, 235)');
    await shot(page, 'savings');
    await page.close();
  });

  it("tries automatic_mcp with the caller's profile", async () => {
    const page = await openPage(`${served.base}/ui/try#token=${TOKEN_BOB}`);
    await page.locator('textarea[name=query]').fill('echo a message back');
    // Bob has one profile, so it is the only one offered.
    expect(await page.locator('select[name=profile] option').allTextContents()).toEqual(['echo-only']);
    await page.getByRole('button', { name: 'Select tools' }).click();
    await page.locator('table.tools').waitFor();
    const names = await page.locator('table.tools td.mono').allTextContents();
    expect(names).toContain('echo.echo');
    expect(names.every((name) => name.startsWith('echo.'))).toBe(true);
    await shot(page, 'try');
    await page.close();
  });
});

describe('automcp ui', () => {
  let ui: ChildProcess;
  let base: string;

  beforeAll(async () => {
    ui = spawn(process.execPath, [CLI_PATH, 'ui', '--port', '0', '--config', config.dir], {
      cwd: REPO_ROOT,
      env: { ...process.env, XDG_STATE_HOME: stateHome, TEST_OPENAI_KEY: 'sk-test' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    ui.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await waitFor(() => /automcp ui: open (\S+)/.exec(stderr)?.[1], 30_000, `the ui's address; stderr:\n${stderr}`);
    base = url.replace(/\/ui$/, '');
  }, 60_000);

  afterAll(async () => {
    if (ui && ui.exitCode === null) {
      const exited = new Promise((done) => ui.once('exit', done));
      ui.kill('SIGTERM');
      await exited;
    }
  });

  it('shows every caller’s runs from the state directory, without a token, on loopback only', async () => {
    const page = await openPage(`${base}/ui/runs`);
    await page.locator('table.runs').waitFor();
    const text = await page.locator('main').textContent();
    expect(text).toContain('read the notes file');
    expect(text).toContain(`bob wants an echo ${MARKUP}`);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.title()).toBe('automcp');
    await page.locator('input[name=caller]').fill('bob');
    await page.getByRole('button', { name: 'Filter' }).click();
    // Bob's selection, and the one the try page made for him above (a try is a recorded run).
    await expect.poll(() => page.locator('table.runs tr').count()).toBe(3);
    // The gateway that serves HTTP is a running gateway of this state directory.
    await page.goto(`${base}/ui/servers`);
    await page.locator('table.servers').waitFor();
    expect(await page.locator('main h2').first().textContent()).toContain(`pid ${String(served.process.child.pid)}`);
    await page.close();

    const status = await new Promise<number>((done, fail) => {
      const port = new URL(base).port;
      httpRequest({ host: '127.0.0.1', port, path: '/ui/api/servers', headers: { Host: 'evil.example' } }, (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      })
        .on('error', fail)
        .end();
    });
    expect(status).toBe(403);
    // Without tokens, a request another site's form could send (not JSON) is refused.
    const form = await fetch(`${base}/ui/api/try`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'query=read',
    });
    expect(form.status).toBe(415);
  });

  it('tries a selection for a chosen profile with a gateway of its own', async () => {
    const page = await openPage(`${base}/ui/try`);
    await page.locator('select[name=profile]').waitFor();
    expect(await page.locator('select[name=profile] option').allTextContents()).toEqual(['default', 'echo-only']);
    await page.locator('select[name=profile]').selectOption('echo-only');
    await page.locator('textarea[name=query]').fill('add two numbers');
    await page.getByRole('button', { name: 'Select tools' }).click();
    await page.locator('table.tools').waitFor({ timeout: 30_000 });
    const names = await page.locator('table.tools td.mono').allTextContents();
    expect(names).toContain('echo.add');
    expect(names.every((name) => name.startsWith('echo.'))).toBe(true);
    expect(await page.locator('#try-result').textContent()).toContain('profile echo-only');
    await page.close();
  });
});

// Keep the folder for screenshots present even on a fresh clone.
if (SHOTS) await mkdir(SHOTS, { recursive: true });
