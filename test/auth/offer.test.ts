/**
 * Sign-in offered through the calling client: a gateway whose remote server lost its sign-in asks a
 * client that declared URL-mode elicitation to open the authorization URL, completes the sign-in
 * through its own loopback redirect and retries the call; a client without the capability, or a person
 * who declines, gets DOWNSTREAM_UNAVAILABLE with the command. Real HTTP on 127.0.0.1, nothing else.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { signIn } from '../../src/auth/login.js';
import { parseRuntime } from '../../src/config/load.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { startProtectedServer, type ProtectedServer } from '../fixtures/oauth/protectedServer.js';
import { makeProfile } from '../helpers/inprocess.js';

let stateDir: string | undefined;
let server: ProtectedServer | undefined;
let gateway: Gateway | undefined;
const clients: Client[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  await gateway?.close();
  gateway = undefined;
  await server?.close();
  server = undefined;
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function signedInGateway({ signedIn = true }: { signedIn?: boolean } = {}): Promise<void> {
  stateDir = await mkdtemp(join(tmpdir(), 'automcp-offer-'));
  server = await startProtectedServer();
  const spec = { name: 'tracker', url: server.url };
  if (signedIn) await signIn({ spec, stateDir, onAuthorizationUrl: async (url) => void (await fetch(url)) });
  const config = parseRuntime({
    file: join(stateDir, 'runtime.yaml'),
    text: JSON.stringify({ version: 1, servers: { tracker: { url: server.url } } }),
    env: {},
  });
  gateway = await createGateway({ config, stateDir, logger: createSilentLogger(), traces: false });
  await gateway.start();
}

/** An upstream client; with `answer`, it declares URL-mode elicitation and answers with it. */
async function upstream(answer?: (url: string) => Promise<'accept' | 'decline'>): Promise<{ client: Client; asked: string[] }> {
  const asked: string[] = [];
  const client = new Client(
    { name: 'offer-test', version: '0.0.0' },
    { capabilities: answer ? { elicitation: { url: {} } } : {} },
  );
  if (answer) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      const url = (request.params as { url: string }).url;
      asked.push(url);
      return { action: await answer(url) };
    });
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await gateway!.connect({ transport: serverSide, profile: makeProfile('default') });
  await client.connect(clientSide);
  clients.push(client);
  return { client, asked };
}

async function echo(client: Client, text: string): Promise<CallToolResult> {
  return (await client.callTool({
    name: 'automatic_eval',
    arguments: { toolName: 'tracker.echo', arguments: { text } },
  })) as CallToolResult;
}

function text(result: CallToolResult): string {
  return (result.content[0] as { text: string }).text;
}

describe('sign-in offered through the calling client', () => {
  it('asks a client with URL-mode elicitation to open the sign-in URL, then retries the call', async () => {
    await signedInGateway();
    // The person opens the URL and approves (the test authorization server approves at once).
    const { client, asked } = await upstream(async (url) => {
      await fetch(url);
      return 'accept';
    });
    expect(text(await echo(client, 'one'))).toBe('echo: one');

    server!.revokeAll();
    const result = await echo(client, 'two');
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe('echo: two');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/\/authorize\?.*redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fcallback/);
    expect(server!.grants.filter((grant) => grant === 'authorization_code')).toHaveLength(2);
  });

  it('signs in to a server nobody signed in to yet, from the first call naming its tool', async () => {
    await signedInGateway({ signedIn: false });
    const { client, asked } = await upstream(async (url) => {
      await fetch(url);
      return 'accept';
    });
    expect(text(await echo(client, 'first'))).toBe('echo: first');
    expect(asked).toHaveLength(1);
    expect(server!.registered).toHaveLength(1);
  });

  it('gives DOWNSTREAM_UNAVAILABLE with the command to a client without it, and to a person who declines', async () => {
    await signedInGateway();
    const plain = await upstream();
    const declining = await upstream(async () => 'decline');
    expect(text(await echo(plain.client, 'one'))).toBe('echo: one');

    server!.revokeAll();
    for (const { client } of [plain, declining]) {
      const result = await echo(client, 'two');
      expect(result.isError).toBe(true);
      expect(JSON.parse(text(result))).toMatchObject({
        error: { code: 'DOWNSTREAM_UNAVAILABLE' },
        reason: 'sign-in required',
        command: 'automcp login tracker',
      });
    }
    expect(declining.asked).toHaveLength(1);
  });
});
