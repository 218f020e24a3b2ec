/**
 * Cancelling an `automatic_mcp` request ends it where it waits — for a chat model that never answers,
 * or for servers still starting — instead of holding on until the model's timeout or the start-up
 * grace runs out; and a cancelled selection records nothing in its session. The model here stalls for
 * good (it ignores its signal) and every timeout is a minute, so only the cancellation can end a call.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRuntime, type RuntimeConfig } from '../../src/config/load.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { choose, ScriptedChatModel, type RecordedCall } from '../helpers/fakeChatModels.js';
import {
  automaticMcp,
  FakeDownstream,
  makeProfile,
  runtimeFor,
  startInProcessGateway,
  toolDefinition,
  type InProcessGateway,
} from '../helpers/inprocess.js';

const ok = () => ({ content: [{ type: 'text' as const, text: 'ok' }] });
const files = () =>
  new FakeDownstream(
    'files',
    ['read_text_file', 'write_file', 'list_directory'].map((name) => ({
      definition: toolDefinition(name, `${name.replace(/_/g, ' ')} on disk`),
      handler: ok,
    })),
  );

/** One fake server and a model whose timeout is a minute: far past any wait of this test. */
const runtime = (): RuntimeConfig =>
  parseRuntime({
    file: '/tmp/automcp-inprocess/runtime.yaml',
    text: JSON.stringify({
      version: 1,
      servers: { files: { command: 'fake-server' } },
      selector: { llm: { provider: 'openai', model: 'gpt-4.1-mini', apiKeyEnv: 'UNUSED', timeoutMs: 60_000 } },
    }),
    env: {},
  });

let running: InProcessGateway | undefined;
let bare: Gateway | undefined;
afterEach(async () => {
  await running?.close();
  await bare?.close();
  running = undefined;
  bare = undefined;
});

describe('cancelling automatic_mcp', () => {
  it('over MCP: the model call is aborted when the client cancels, and the session records nothing', async () => {
    const calls: RecordedCall[] = [];
    const chat = new ScriptedChatModel([{ stall: true }, choose('files.read_text_file')], calls);
    running = await startInProcessGateway({
      servers: [files()],
      config: runtime(),
      gatewayOptions: { chatModel: chat, env: {} },
    });
    const client = await running.connect(makeProfile('default'));
    const controller = new AbortController();
    const pending = client.callTool(
      { name: 'automatic_mcp', arguments: { query: 'read a text file', sessionId: 's1' } },
      undefined,
      {
        signal: controller.signal,
      },
    );
    const settled = pending.catch(() => undefined);
    await expect.poll(() => calls.length).toBe(1);
    expect(calls[0]!.aborted).toBe(false);
    controller.abort('the user moved on');
    await settled;
    // The gateway got notifications/cancelled and aborted the model call it was waiting on.
    await expect.poll(() => calls[0]!.aborted).toBe(true);
    // The cancelled call sent nothing, so the next one (the model answers now) sends the definition in full.
    const next = await automaticMcp(client, { query: 'read a text file', sessionId: 's1' });
    expect(next.mode).toBe('llm');
    expect(next.tools.map((tool) => tool.name)).toEqual(['files.read_text_file']);
    expect(next.unchanged).toEqual([]);
  });

  it('in the core: a cancelled selection rejects with the reason while the model still has not answered', async () => {
    const calls: RecordedCall[] = [];
    const chat = new ScriptedChatModel([{ stall: true }], calls);
    running = await startInProcessGateway({
      servers: [files()],
      config: runtime(),
      gatewayOptions: { chatModel: chat, env: {} },
    });
    const controller = new AbortController();
    const events: string[] = [];
    const selection = running.gateway.core
      .automaticMcp(
        { query: 'read a text file' },
        { caller: 'c', profile: makeProfile('default'), connectionId: 'conn' },
        { signal: controller.signal },
      )
      .then(
        () => events.push('answered'),
        (error: unknown) => events.push(`rejected: ${String(error)}`),
      );
    await expect.poll(() => calls.length).toBe(1);
    events.push('cancel');
    controller.abort('cancelled upstream');
    await selection;
    expect(events).toEqual(['cancel', expect.stringMatching(/^rejected: .*cancelled upstream/)]);
    expect(calls[0]!.aborted).toBe(true);
    expect(running.gateway.sessions.size()).toBe(0);
  });

  it('in the core: a cancelled selection stops waiting for servers that are still starting', async () => {
    // A server whose handshake never completes: the first selection would wait the whole grace period.
    bare = await createGateway({
      config: runtimeFor(['silent']),
      transports: () => InMemoryTransport.createLinkedPair()[0],
      startupGraceMs: 60_000,
      sweepIntervalMs: false,
    });
    const controller = new AbortController();
    const events: string[] = [];
    const selection = bare.core
      .automaticMcp(
        { query: 'anything' },
        { caller: 'c', profile: makeProfile('default'), connectionId: 'conn' },
        { signal: controller.signal },
      )
      .then(
        () => events.push('answered'),
        (error: unknown) => events.push(`rejected: ${String(error)}`),
      );
    await expect.poll(() => bare!.registry.status()[0]?.state).toBe('starting');
    events.push('cancel');
    controller.abort('cancelled upstream');
    await selection;
    expect(events).toEqual(['cancel', expect.stringMatching(/^rejected: .*cancelled upstream/)]);
  });
});
