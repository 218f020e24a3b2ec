/**
 * `automatic_eval` uses its `sessionId`: the session is resolved as for `automatic_mcp` (the sessionId,
 * else the connection's default conversation) and goes into the eval's log record and its report to the
 * observer, so an eval can be tied to the selection that found its tool.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EvalEvent, SelectionEvent } from '../../src/gateway/observer.js';
import {
  automaticMcp,
  callTool,
  capturedLogger,
  FakeDownstream,
  makeProfile,
  startInProcessGateway,
  toolDefinition,
  type InProcessGateway,
} from '../helpers/inprocess.js';

const echo = () =>
  new FakeDownstream('echo', [
    {
      definition: toolDefinition('say', 'Say a message back.'),
      handler: () => ({ content: [{ type: 'text', text: 'said' }] }),
    },
  ]);

let running: InProcessGateway | undefined;
afterEach(async () => running?.close());

describe('automatic_eval and its session', () => {
  it('reports the session it spoke for, resolved as automatic_mcp resolves it', async () => {
    const selections: SelectionEvent[] = [];
    const evals: EvalEvent[] = [];
    const { logger, records } = capturedLogger();
    running = await startInProcessGateway({
      servers: [echo()],
      gatewayOptions: { logger },
      observer: { onSelection: (event) => selections.push(event), onEval: (event) => evals.push(event) },
    });
    const client = await running.connect(makeProfile('default'));
    await automaticMcp(client, { query: 'say a message' });
    await automaticMcp(client, { query: 'say a message', sessionId: 'conv-9' });
    await callTool(client, 'automatic_eval', { toolName: 'echo.say' });
    await callTool(client, 'automatic_eval', { toolName: 'echo.say', sessionId: 'conv-9' });
    await callTool(client, 'automatic_eval', { toolName: 'echo.say', sessionId: 'not valid!' });

    const connectionSession = selections[0]!.sessionId;
    expect(connectionSession).toMatch(/^#c_/);
    expect(selections[1]!.sessionId).toBe('conv-9');
    expect(evals.map((event) => [event.outcome, event.sessionId])).toEqual([
      ['ok', connectionSession],
      ['ok', 'conv-9'],
      // A sessionId that does not parse names no session.
      ['INVALID_INPUT', undefined],
    ]);
    // The eval log line is written just after the result is sent.
    const logged = () => records.filter((record) => record.msg === 'automatic_eval').map((record) => record.session);
    await expect.poll(logged).toEqual([connectionSession, 'conv-9', undefined]);
    const context = { caller: 'default', profile: makeProfile('default'), connectionId: '#c_x' };
    expect(running.gateway.core.sessionKeyFor(context, 'conv-9')).toEqual({ caller: 'default', sessionId: 'conv-9' });
    expect(running.gateway.core.sessionKeyFor(context, undefined)).toEqual({ caller: 'default', sessionId: '#c_x' });
    expect(running.gateway.core.sessionKeyFor({ caller: 'default', profile: context.profile }, undefined)).toBeUndefined();
  });
});
