/**
 * The LLM selector wired by createGateway: an injected chat model answers automatic_mcp over MCP, the
 * run is logged with the model's trace, and a configured model without its key gives one warning and
 * lexical selection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseRuntime, type RuntimeConfig } from '../../src/config/load.js';
import { choose, ScriptedChatModel, type RecordedCall } from '../helpers/fakeChatModels.js';
import {
  automaticMcp,
  capturedLogger,
  FakeDownstream,
  makeProfile,
  startInProcessGateway,
  toolDefinition,
  type InProcessGateway,
} from '../helpers/inprocess.js';

const ok = () => ({ content: [{ type: 'text' as const, text: 'ok' }] });
const files = () =>
  new FakeDownstream(
    'files',
    ['read_text_file', 'write_file', 'list_directory', 'search_files'].map((name) => ({
      definition: toolDefinition(name, `${name.replace(/_/g, ' ')} on disk`),
      handler: ok,
    })),
  );

/** runtime.yaml with one fake server and this `selector.llm`. */
function runtimeWith(llm: Record<string, unknown>): RuntimeConfig {
  return parseRuntime({
    file: '/tmp/automcp-inprocess/runtime.yaml',
    text: JSON.stringify({ version: 1, servers: { files: { command: 'fake-server' } }, selector: { candidates: 3, llm } }),
    env: {},
  });
}

let running: InProcessGateway | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('createGateway with a chat model', () => {
  it('an injected model chooses for automatic_mcp, and the run is logged with its trace', async () => {
    const calls: RecordedCall[] = [];
    const chat = new ScriptedChatModel([choose('files.search_files', 'files.read_text_file')], calls);
    const { logger, records } = capturedLogger();
    running = await startInProcessGateway({
      servers: [files()],
      config: runtimeWith({ provider: 'openai', model: 'gpt-4.1-mini', apiKeyEnv: 'NOT_SET_ANYWHERE' }),
      gatewayOptions: { chatModel: chat, logger, env: {} },
    });
    expect(running.gateway.selectorState).toMatchObject({ kind: 'llm', model: 'gpt-4.1-mini' });
    const client = await running.connect(makeProfile('default', { description: 'Finds and reads files.' }));
    const output = await automaticMcp(client, { query: 'search and read files on disk' });
    expect(output.mode).toBe('llm');
    expect(output.tools.map((tool) => tool.name)).toEqual(['files.search_files', 'files.read_text_file']);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.messages[1]!.text.match(/^\d+\. /gm)).toHaveLength(3);
    expect(calls[0]!.messages[1]!.text).toContain('Finds and reads files.');
    const line = records.find((record) => record.msg === 'automatic_mcp');
    expect(line).toMatchObject({
      runId: output.runId,
      mode: 'llm',
      llm: { model: 'openai:gpt-4.1-mini', candidates: 3, usage: { totalTokens: 110 } },
    });
    expect(records.some((record) => String(record.msg).startsWith('selector.llm is not used'))).toBe(false);
  });

  it('a configured model without its key: lexical, one warning at start-up, and the probe says why', async () => {
    const { logger, records } = capturedLogger();
    running = await startInProcessGateway({
      servers: [files()],
      config: runtimeWith({ provider: 'anthropic', model: 'claude-haiku-4-5', apiKeyEnv: 'AUTOMCP_TEST_KEY' }),
      gatewayOptions: { logger, env: {} },
    });
    const client = await running.connect(makeProfile('default'));
    expect((await automaticMcp(client, { query: 'read a file' })).mode).toBe('lexical');
    expect((await automaticMcp(client, { query: 'write a file' })).mode).toBe('lexical');
    const warnings = records.filter((record) => String(record.msg).startsWith('selector.llm is not used'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, provider: 'anthropic', model: 'claude-haiku-4-5' });
    expect(warnings[0]!.msg).toContain('AUTOMCP_TEST_KEY');
    expect(await running.gateway.probeSelector()).toMatchObject({
      ok: false,
      error: expect.stringContaining('AUTOMCP_TEST_KEY'),
    });
  });
});
