/**
 * selector.serverFirst wired by createGateway from runtime.yaml: the server call reads each server's
 * runtime.yaml description, and the picked server's tool reaches the model over MCP.
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
const server = (name: string, tools: [string, string][]) =>
  new FakeDownstream(
    name,
    tools.map(([tool, description]) => ({ definition: toolDefinition(tool, description), handler: ok })),
  );

function runtime(selector: Record<string, unknown>): RuntimeConfig {
  return parseRuntime({
    file: '/tmp/automcp-inprocess/runtime.yaml',
    text: JSON.stringify({
      version: 1,
      servers: {
        files: { command: 'fake-server' },
        mail: { command: 'fake-server', description: 'Electronic mail: email people' },
      },
      selector: { candidates: 3, llm: { provider: 'openai', model: 'gpt-4.1-mini', apiKeyEnv: 'NOT_SET_ANYWHERE' }, ...selector },
    }),
    env: {},
  });
}

const servers = () => [
  server('files', [
    ['read_text_file', 'read a text file on disk'],
    ['list_directory', 'list a directory on disk'],
    ['write_file', 'write a file on disk'],
    ['search_files', 'search files on disk'],
  ]),
  server('mail', [['deliver', 'Deliver a message to a recipient.']]),
];

let running: InProcessGateway | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('selector.serverFirst in runtime.yaml', () => {
  it('the server call reads the runtime.yaml description; the picked server’s tool reaches the choice', async () => {
    const calls: RecordedCall[] = [];
    const chat = new ScriptedChatModel([{ args: { servers: ['mail'] } }, choose('files.list_directory', 'mail.deliver')], calls);
    const { logger, records } = capturedLogger();
    running = await startInProcessGateway({
      servers: servers(),
      config: runtime({ serverFirst: true }),
      gatewayOptions: { chatModel: chat, logger, env: {} },
    });
    const client = await running.connect(makeProfile('default'));
    const output = await automaticMcp(client, { query: 'list the files on disk and email the listing to Bob' });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.messages[1]!.text).toContain('mail: Electronic mail: email people');
    expect(calls[0]!.messages[1]!.text).toContain('files: read_text_file (read a text file on disk)');
    // The profile's limit (8) is above selector.candidates (3): the server's tool still goes among the 3 shown.
    expect(calls[1]!.messages[1]!.text).toMatch(/^3\. mail\.deliver: /m);
    expect(output.mode).toBe('llm');
    expect(output.tools.map((tool) => tool.name)).toEqual(['files.list_directory', 'mail.deliver']);
    expect(records.find((record) => record.msg === 'automatic_mcp')).toMatchObject({ llm: { servers: ['mail'] } });
  });

  it('off: the same request never shows the model the mail tool', async () => {
    const calls: RecordedCall[] = [];
    const chat = new ScriptedChatModel([choose('files.list_directory')], calls);
    running = await startInProcessGateway({
      servers: servers(),
      config: runtime({}),
      gatewayOptions: { chatModel: chat, logger: capturedLogger().logger, env: {} },
    });
    const client = await running.connect(makeProfile('default'));
    await automaticMcp(client, { query: 'list the files on disk and email the listing to Bob' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.messages[1]!.text).not.toContain('mail.deliver');
  });
});
