/**
 * The observer seam of the core: each tool call is reported exactly once with its runId, caller,
 * mode or server, outcome and duration; an observer that throws never breaks a call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { combineObservers, type EvalEvent, type SelectionEvent } from '../../src/gateway/observer.js';
import {
  automaticMcp,
  callTool,
  errorPayload,
  FakeDownstream,
  makeProfile,
  startInProcessGateway,
  textOf,
  toolDefinition,
  type InProcessGateway,
} from '../helpers/inprocess.js';

const math = () =>
  new FakeDownstream('math', [
    {
      definition: toolDefinition('add', 'Add two numbers and return the sum.', {
        inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
      }),
      handler: (args) => ({ content: [{ type: 'text', text: String(Number(args.a) + Number(args.b)) }] }),
    },
    {
      definition: toolDefinition('fail', 'A tool that reports failure.'),
      handler: () => ({ isError: true, content: [{ type: 'text', text: 'nope' }] }),
    },
  ]);

describe('the gateway observer', () => {
  let running: InProcessGateway | undefined;
  afterEach(async () => running?.close());

  it('reports each selection and each eval once, with caller, runId, mode, server and outcome', async () => {
    const selections: SelectionEvent[] = [];
    const evals: EvalEvent[] = [];
    running = await startInProcessGateway({
      servers: [math()],
      observer: { onSelection: (event) => selections.push(event), onEval: (event) => evals.push(event) },
    });
    const client = await running.connect(makeProfile('default'), { caller: 'carol' });
    const selecting = performance.now();
    const output = await automaticMcp(client, { query: 'add two numbers' });
    const selectionMs = performance.now() - selecting;
    expect(selections).toHaveLength(1);
    expect(selections[0]).toMatchObject({ runId: output.runId, caller: 'carol', mode: 'lexical', output });
    expect(selections[0]!.profile.name).toBe('default');
    // The selection's own time: some, and no more than the call around it took.
    expect(selections[0]!.durationMs).toBeGreaterThan(0);
    expect(selections[0]!.durationMs).toBeLessThanOrEqual(selectionMs);

    const evaluating = performance.now();
    expect(textOf(await callTool(client, 'automatic_eval', { toolName: 'math.add', arguments: { a: 2, b: 3 } }))).toBe('5');
    await callTool(client, 'automatic_eval', { toolName: 'math.fail' });
    errorPayload(await callTool(client, 'automatic_eval', { toolName: 'math.add', arguments: { a: 'x' } }));
    errorPayload(await callTool(client, 'automatic_eval', { toolName: 'math.nothing' }));
    errorPayload(await callTool(client, 'automatic_eval', { arguments: {} }));
    const evalMs = performance.now() - evaluating;
    expect(evals.every((event) => event.durationMs > 0)).toBe(true);
    expect(evals.reduce((sum, event) => sum + event.durationMs, 0)).toBeLessThanOrEqual(evalMs);
    expect(evals.map((event) => [event.toolName, event.server, event.outcome])).toEqual([
      ['math.add', 'math', 'ok'],
      ['math.fail', 'math', 'tool_error'],
      ['math.add', 'math', 'INVALID_ARGUMENTS'],
      ['math.nothing', undefined, 'TOOL_NOT_FOUND'],
      ['', undefined, 'INVALID_INPUT'],
    ]);
    expect(evals.every((event) => event.caller === 'carol' && /^r_/.test(event.runId))).toBe(true);
    expect(new Set(evals.map((event) => event.runId)).size).toBe(evals.length);
  });

  it('keeps answering when the observer throws', async () => {
    running = await startInProcessGateway({
      servers: [math()],
      observer: {
        onSelection: () => {
          throw new Error('observer broke');
        },
        onEval: () => {
          throw new Error('observer broke');
        },
      },
    });
    const client = await running.connect(makeProfile('default'));
    expect((await automaticMcp(client, { query: 'add two numbers' })).tools.length).toBeGreaterThan(0);
    expect(textOf(await callTool(client, 'automatic_eval', { toolName: 'math.add', arguments: { a: 1, b: 1 } }))).toBe('2');
  });
});

describe('combineObservers', () => {
  it('tells every observer even when one throws, then rethrows the first error', () => {
    const heard: string[] = [];
    const combined = combineObservers(
      {
        onEval: () => {
          throw new Error('first broke');
        },
      },
      undefined,
      { onEval: (event) => heard.push(event.runId) },
    )!;
    const event = {
      runId: 'r_1',
      caller: 'a',
      profile: makeProfile('default'),
      session: 's',
      toolName: 'x.y',
      outcome: 'ok',
      durationMs: 1,
    };
    expect(() => combined.onEval!(event)).toThrow('first broke');
    expect(heard).toEqual(['r_1']);
    expect(combineObservers(undefined)).toBeUndefined();
  });
});
