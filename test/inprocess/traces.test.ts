/**
 * Run traces written by a real in-process gateway: one record per automatic_mcp and automatic_eval call
 * with the request, the lexical ranks, the model's reasons and tokens; no argument values or results
 * unless `traces.includeArguments`; queries by caller, time and tool; records survive a restart; and a
 * state directory that cannot be written costs one warning while every call still succeeds.
 */
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRuntime, type RuntimeConfig } from '../../src/config/load.js';
import { countJsonTokens } from '../../src/tokens/count.js';
import type { EvalTrace, SelectionTrace } from '../../src/traces/record.js';
import { choose, ScriptedChatModel } from '../helpers/fakeChatModels.js';
import { makeTempDir } from '../helpers/config.js';
import {
  automaticMcp,
  callTool,
  capturedLogger,
  errorPayload,
  FakeDownstream,
  makeProfile,
  startInProcessGateway,
  textOf,
  toolDefinition,
  type InProcessGateway,
} from '../helpers/inprocess.js';

const SECRET = 'hunter2-do-not-store';

const notes = () =>
  new FakeDownstream('notes', [
    {
      definition: toolDefinition('save_note', 'Save a note with a title and a body.', {
        inputSchema: { type: 'object', properties: { title: { type: 'string' }, body: { type: 'string' } }, required: ['title'] },
      }),
      handler: (args) => ({ content: [{ type: 'text', text: `saved ${String(args.title)} (${String(args.body)})` }] }),
    },
    {
      definition: toolDefinition('list_notes', 'List every saved note.'),
      handler: () => ({ content: [{ type: 'text', text: 'none' }] }),
    },
    {
      definition: toolDefinition('delete_note', 'Delete a note by title.'),
      handler: () => ({ content: [{ type: 'text', text: 'gone' }] }),
    },
  ]);

function runtime(traces: Record<string, unknown> = {}, selector: Record<string, unknown> = {}): RuntimeConfig {
  return parseRuntime({
    file: '/tmp/automcp-inprocess/runtime.yaml',
    text: JSON.stringify({ version: 1, servers: { notes: { command: 'fake-server' } }, traces, selector }),
    env: {},
  });
}

let stateDir: string;
let running: InProcessGateway | undefined;
beforeEach(async () => {
  stateDir = await makeTempDir('automcp-traces-');
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  await chmod(stateDir, 0o700).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
});

async function segmentText(): Promise<string> {
  const dir = join(stateDir, 'runs');
  const names = await readdir(dir);
  return (await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')))).join('');
}

describe('run traces of a gateway', () => {
  it('writes one record per call, with ranks, reasons and tokens, and never argument values by default', async () => {
    const chat = new ScriptedChatModel([choose('notes.save_note', 'notes.list_notes')]);
    running = await startInProcessGateway({
      servers: [notes()],
      config: runtime({ countTokens: true }, { candidates: 3, llm: { provider: 'openai', model: 'gpt-4.1-mini' } }),
      gatewayOptions: { chatModel: chat, env: {}, stateDir },
    });
    const client = await running.connect(makeProfile('default'), { caller: 'alice' });
    const output = await automaticMcp(client, { query: 'save a note', sessionId: 'conv-1', limit: 2 });
    const saved = await callTool(client, 'automatic_eval', {
      toolName: 'notes.save_note',
      arguments: { title: 'pin', body: SECRET },
      sessionId: 'conv-1',
    });
    expect(textOf(saved)).toContain(SECRET);
    errorPayload(await callTool(client, 'automatic_eval', { toolName: 'notes.nothing', arguments: { body: SECRET } }));

    const traces = running.gateway.traces!;
    const [missing, evaluated, selected] = await traces.list();
    expect(selected).toMatchObject({
      kind: 'selection',
      runId: output.runId,
      caller: 'alice',
      profile: 'default',
      session: 'conv-1',
      request: { query: 'save a note', limit: 2, fresh: false },
      mode: 'llm',
      chosen: ['notes.save_note', 'notes.list_notes'],
      sent: { full: 2, unchanged: 0 },
      llm: {
        model: 'openai:gpt-4.1-mini',
        chosen: [
          { name: 'notes.save_note', reason: 'because notes.save_note' },
          { name: 'notes.list_notes', reason: 'because notes.list_notes' },
        ],
        usage: { totalTokens: 110 },
      },
    });
    // The token cost is counted off the call's path and written with the record: the response as sent
    // and the caller's whole catalog (counted per definition, so within a few tokens of the whole text).
    const tokens = (selected as SelectionTrace).tokens!;
    expect(Math.abs(tokens.sent - countJsonTokens(output))).toBeLessThanOrEqual(3);
    const catalog = countJsonTokens(running.gateway.core.fullCatalog(makeProfile('default')));
    expect(Math.abs(tokens.catalog! - catalog)).toBeLessThanOrEqual(3);
    const candidates = (selected as SelectionTrace).candidates;
    expect(candidates.map((entry) => entry.rank)).toEqual(candidates.map((_, index) => index + 1));
    expect(candidates[0]!.name).toBe('notes.save_note');
    expect(evaluated).toMatchObject({
      kind: 'eval',
      caller: 'alice',
      session: 'conv-1',
      tool: 'notes.save_note',
      server: 'notes',
      outcome: 'ok',
    });
    expect(missing).toMatchObject({ kind: 'eval', tool: 'notes.nothing', outcome: 'error', errorCode: 'TOOL_NOT_FOUND' });
    expect(missing!.session).toMatch(/^#c_/);
    expect(await traces.get(output.runId)).toEqual(selected);
    // Neither the argument values nor the result reached the disk.
    const text = await segmentText();
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
    expect(text).not.toContain(SECRET);
    expect(evaluated).not.toHaveProperty('arguments');
    expect(evaluated).not.toHaveProperty('result');
  });

  it('keeps argument values and results with traces.includeArguments', async () => {
    running = await startInProcessGateway({
      servers: [notes()],
      config: runtime({ includeArguments: true }),
      gatewayOptions: { stateDir },
    });
    const client = await running.connect(makeProfile('default'));
    await callTool(client, 'automatic_eval', { toolName: 'notes.save_note', arguments: { title: 'pin', body: SECRET } });
    const [record] = await running.gateway.traces!.list();
    expect(record).toMatchObject({
      kind: 'eval',
      arguments: { title: 'pin', body: SECRET },
      result: { content: [{ type: 'text', text: `saved pin (${SECRET})` }] },
    });
  });

  it('leaves the token counts out with traces.countTokens: false', async () => {
    running = await startInProcessGateway({
      servers: [notes()],
      config: runtime({ countTokens: false }),
      gatewayOptions: { stateDir },
    });
    const client = await running.connect(makeProfile('default'));
    await automaticMcp(client, { query: 'save a note' });
    const [record] = await running.gateway.traces!.list();
    expect(record).toMatchObject({ kind: 'selection', chosen: expect.arrayContaining(['notes.save_note']) });
    expect(record).not.toHaveProperty('tokens');
  });

  it('answers queries by caller, time and tool, newest first', async () => {
    running = await startInProcessGateway({ servers: [notes()], config: runtime(), gatewayOptions: { stateDir } });
    const alice = await running.connect(makeProfile('default'), { caller: 'alice' });
    const bob = await running.connect(makeProfile('default'), { caller: 'bob' });
    await automaticMcp(alice, { query: 'list every note', limit: 1 });
    running.clock.advance(3_600_000);
    const since = running.clock.now();
    await callTool(bob, 'automatic_eval', { toolName: 'notes.list_notes' });
    await callTool(alice, 'automatic_eval', { toolName: 'notes.delete_note' });
    await automaticMcp(bob, { query: 'save a note', limit: 1 });
    const traces = running.gateway.traces!;

    const tools = (records: { kind: string }[]) =>
      records.map((record) => (record.kind === 'eval' ? (record as EvalTrace).tool : (record as SelectionTrace).chosen.join()));
    expect(tools(await traces.list({ caller: 'alice' }))).toEqual(['notes.delete_note', 'notes.list_notes']);
    expect(tools(await traces.list({ since }))).toEqual(['notes.save_note', 'notes.delete_note', 'notes.list_notes']);
    // A tool filter finds the calls of the tool and the selections that chose it.
    expect((await traces.list({ tool: 'notes.list_notes' })).map((record) => [record.kind, record.caller])).toEqual([
      ['eval', 'bob'],
      ['selection', 'alice'],
    ]);
    expect(tools(await traces.list({ tool: 'notes.*_note', kind: 'eval' }))).toEqual(['notes.delete_note']);
    expect(await traces.list({ limit: 2 })).toHaveLength(2);
    expect(await traces.list({ caller: 'carol' })).toEqual([]);
  });

  it('keeps the records of an earlier gateway, and adds to them after a restart', async () => {
    running = await startInProcessGateway({ servers: [notes()], config: runtime(), gatewayOptions: { stateDir } });
    const first = await automaticMcp(await running.connect(makeProfile('default')), { query: 'save a note' });
    // Closing flushes what is still buffered.
    await running.close();
    running = await startInProcessGateway({ servers: [notes()], config: runtime(), gatewayOptions: { stateDir } });
    // Each fake clock starts at the same instant; the restarted gateway's runs come later.
    running.clock.advance(60_000);
    const client = await running.connect(makeProfile('default'));
    await callTool(client, 'automatic_eval', { toolName: 'notes.list_notes' });
    const [evaluated, selected] = await running.gateway.traces!.list();
    expect(evaluated).toMatchObject({ kind: 'eval', tool: 'notes.list_notes' });
    expect(selected).toMatchObject({ kind: 'selection', runId: first.runId, request: { query: 'save a note' } });
  });

  it('keeps no traces with traces.enabled false, nor without a state directory', async () => {
    running = await startInProcessGateway({
      servers: [notes()],
      config: runtime({ enabled: false }),
      gatewayOptions: { stateDir },
    });
    await automaticMcp(await running.connect(makeProfile('default')), { query: 'save a note' });
    expect(running.gateway.traces).toBeUndefined();
    await running.close();
    running = await startInProcessGateway({ servers: [notes()], config: runtime() });
    expect(running.gateway.traces).toBeUndefined();
    expect(await readdir(stateDir)).not.toContain('runs');
  });

  it('a state directory that cannot be written: one warning, and every call succeeds', async () => {
    // Modes do not bind root, so as root a file stands where the runs folder would be created.
    if (process.getuid?.() === 0) await writeFile(join(stateDir, 'runs'), 'not a folder');
    else await chmod(stateDir, 0o500);
    const { logger, records } = capturedLogger();
    running = await startInProcessGateway({ servers: [notes()], config: runtime(), gatewayOptions: { stateDir, logger } });
    const client = await running.connect(makeProfile('default'));
    for (let round = 0; round < 3; round++) {
      expect((await automaticMcp(client, { query: 'save a note', fresh: true })).tools.length).toBeGreaterThan(0);
      expect(textOf(await callTool(client, 'automatic_eval', { toolName: 'notes.list_notes' }))).toBe('none');
      await running.gateway.traces!.flush();
    }
    const warnings = records.filter((record) => String(record.msg).startsWith('cannot write run traces'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, dir: join(stateDir, 'runs') });
    expect(await running.gateway.traces!.list()).toEqual([]);
  });

  it('writes again, and says so, once the folder can be written', async () => {
    await writeFile(join(stateDir, 'runs'), 'not a folder');
    const { logger, records } = capturedLogger();
    running = await startInProcessGateway({ servers: [notes()], config: runtime(), gatewayOptions: { stateDir, logger } });
    const client = await running.connect(makeProfile('default'));
    await automaticMcp(client, { query: 'save a note' });
    await running.gateway.traces!.flush();
    await rm(join(stateDir, 'runs'));
    await mkdir(join(stateDir, 'runs'));
    const output = await automaticMcp(client, { query: 'list every note' });
    expect(await running.gateway.traces!.get(output.runId)).toMatchObject({ runId: output.runId });
    expect(records.filter((record) => String(record.msg).startsWith('cannot write run traces'))).toHaveLength(1);
    expect(records.some((record) => record.msg === 'run traces are written again')).toBe(true);
  });
});
