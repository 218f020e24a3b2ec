/**
 * Two HTTP callers, each with a client that answers sampling requests in its own name, calling the
 * real `server-everything` at the same time through `automcp serve --http`: a relayed request never
 * reaches the caller whose call did not cause it. A server process shared by both refuses what it
 * cannot attribute; `instances: per-caller` gives each caller its own process and its own answers.
 */
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingServer, writeConfigDir, type TempConfig } from './helpers/config.js';
import { evalTool } from './helpers/gateway.js';
import { startHttpServe, type HttpServed } from './helpers/http.js';

const TOKENS = { alice: 'alice-relay-token-1111', bob: 'bob-relay-token-2222' } as const;
type Name = keyof typeof TOKENS;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let config: TempConfig;
let served: HttpServed;
const clients = {} as Record<Name, Client>;
/** The prompts each caller's client was asked to sample. */
const sampled: Record<Name, string[]> = { alice: [], bob: [] };

async function connect(name: Name): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(served.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${TOKENS[name]}` } },
  });
  const client = new Client({ name, version: '0.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const first = request.params.messages[0]?.content;
    sampled[name].push(first && 'text' in first ? String(first.text) : '');
    return { model: `model-of-${name}`, role: 'assistant', content: { type: 'text', text: `answered by ${name}` } };
  });
  await client.connect(transport);
  return client;
}

function text(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

beforeAll(async () => {
  config = await writeConfigDir({
    runtime: {
      servers: { shared: everythingServer(), own: everythingServer({ instances: 'per-caller' }) },
      callers: {
        alice: { profile: 'default', tokenSha256: sha256(TOKENS.alice) },
        bob: { profile: 'default', tokenSha256: sha256(TOKENS.bob) },
      },
    },
    profiles: { default: {} },
  });
  served = await startHttpServe({ configDir: config.dir });
  clients.alice = await connect('alice');
  clients.bob = await connect('bob');
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(Object.values(clients).map((client) => client.close()));
  await served?.stop();
  await config?.cleanup();
});

describe('two HTTP callers', () => {
  it('get each their own answers from per-caller instances, at the same time', async () => {
    const [alice, bob] = await Promise.all([
      evalTool(clients.alice, 'own.trigger-sampling-request', { prompt: 'from-alice' }),
      evalTool(clients.bob, 'own.trigger-sampling-request', { prompt: 'from-bob' }),
    ]);
    expect(text(alice)).toContain('answered by alice');
    expect(text(bob)).toContain('answered by bob');
    expect(sampled.alice.join()).not.toContain('from-bob');
    expect(sampled.bob.join()).not.toContain('from-alice');
  });

  it('never get the other caller’s request from a shared process: what cannot be attributed is refused', async () => {
    // Both have used the shared process, so a request from it could belong to either.
    await Promise.all([
      evalTool(clients.alice, 'shared.echo', { message: 'hi' }),
      evalTool(clients.bob, 'shared.echo', { message: 'hi' }),
    ]);
    const before = { alice: sampled.alice.length, bob: sampled.bob.length };
    const [alice, bob] = await Promise.all([
      evalTool(clients.alice, 'shared.trigger-sampling-request', { prompt: 'shared-alice' }),
      evalTool(clients.bob, 'shared.trigger-sampling-request', { prompt: 'shared-bob' }),
    ]);
    for (const result of [alice, bob]) {
      expect(result.isError).toBe(true);
      expect(text(result)).toContain('cannot be attributed');
    }
    expect(sampled.alice.length).toBe(before.alice);
    expect(sampled.bob.length).toBe(before.bob);
    expect(served.logLines().some((line) => line.msg?.toString().includes('no single client'))).toBe(true);
  });
});
