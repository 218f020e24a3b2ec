/**
 * The relay between one downstream server and the upstream connections, in process: which peer a
 * server's request goes to (the only one that used the process, related to its call in flight), what
 * is refused (no user, two users, a client without the capability), the call's timeout held while an
 * elicitation waits, and the upstream peer's log level filter.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ClientCapabilities, RequestId, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DownstreamRelay, RELAYED_CAPABILITIES, type UpstreamPeer } from '../../src/downstream/relay.js';
import { GatewayPeer } from '../../src/gateway/relayPeer.js';
import { createLogger } from '../../src/logging/logger.js';

const logger = createLogger({ level: 'silent' });

/** An upstream peer that answers every request itself and records what it was asked. */
function fakePeer(caller: string, capabilities: ClientCapabilities) {
  const asked: { method: string; related: RequestId | undefined }[] = [];
  const peer: UpstreamPeer = {
    caller,
    closed: false,
    pinnedRoots: undefined,
    capabilities: () => capabilities,
    async request(request: ServerRequest, related) {
      asked.push({ method: request.method, related });
      if (request.method === 'elicitation/create') return { action: 'decline' };
      return { model: `model-of-${caller}`, role: 'assistant', content: { type: 'text', text: caller } };
    },
    log: vi.fn(),
    notify: vi.fn(),
    sawResult: vi.fn(),
  };
  return { peer, asked };
}

/** A deadline that never ends. */
const idle = () => ({ signal: new AbortController().signal, hold: () => () => undefined });

let server: Server;
let client: Client;
let relay: DownstreamRelay;

beforeEach(async () => {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  server = new Server({ name: 'downstream', version: '1' }, { capabilities: {} });
  client = new Client({ name: 'automcp', version: '1' }, { capabilities: RELAYED_CAPABILITIES });
  relay = new DownstreamRelay('downstream', logger);
  relay.install(client);
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
});

afterEach(async () => {
  await client.close();
});

const sample = () => server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 10 });

describe('DownstreamRelay', () => {
  it('refuses a request when no client has used the server yet', async () => {
    await expect(sample()).rejects.toThrow(/no client has called this server yet/);
  });

  it('sends a request to the one peer that uses the server, related to its call in flight', async () => {
    const { peer, asked } = fakePeer('alice', { sampling: {} });
    const end = relay.begin({ peer, requestId: 41, deadline: idle() });
    const answer = await sample();
    end();
    expect(answer.model).toBe('model-of-alice');
    expect(asked).toEqual([{ method: 'sampling/createMessage', related: 41 }]);
  });

  it('refuses, naming the callers, when two connections share the process', async () => {
    const alice = fakePeer('alice', { sampling: {} });
    const bob = fakePeer('bob', { sampling: {} });
    relay.use(bob.peer);
    const end = relay.begin({ peer: alice.peer, requestId: 1, deadline: idle() });
    await expect(sample()).rejects.toThrow(/\(bob, alice\) share this server process, so the request cannot be attributed/);
    end();
    expect(alice.asked).toEqual([]);
    expect(bob.asked).toEqual([]);
  });

  it('forgets connections that closed, so they are neither kept alive nor block attribution', async () => {
    const gone = { ...fakePeer('gone', { sampling: {} }).peer, closed: true };
    const { peer, asked } = fakePeer('alice', { sampling: {} });
    relay.use(gone);
    relay.use(peer);
    expect(relay.users).toBe(1);
    await sample();
    expect(asked.map((entry) => entry.method)).toEqual(['sampling/createMessage']);
  });

  it('passes the end of a URL elicitation to the client it went to', async () => {
    const { peer } = fakePeer('frank', { elicitation: { url: {} } });
    relay.use(peer);
    await server.createElicitationCompletionNotifier('e42')();
    await vi.waitFor(() => expect(peer.notify).toHaveBeenCalled());
    expect(peer.notify).toHaveBeenCalledWith(
      { method: 'notifications/elicitation/complete', params: { elicitationId: 'e42' } },
      undefined,
    );
  });

  it('tells the server that the calling client lacks the capability', async () => {
    const { peer, asked } = fakePeer('carol', {});
    relay.use(peer);
    await expect(sample()).rejects.toThrow(/caller "carol"\) does not support sampling/);
    await expect(
      server.elicitInput({ mode: 'url', url: 'https://example.com', message: 'go', elicitationId: 'e1' }),
    ).rejects.toThrow(/does not support url-mode elicitation/);
    expect(asked).toEqual([]);
  });

  it('holds the call’s timeout while an elicitation waits for its answer', async () => {
    const { peer } = fakePeer('dave', { elicitation: {} });
    const events: string[] = [];
    const end = relay.begin({
      peer,
      requestId: 7,
      deadline: {
        signal: new AbortController().signal,
        hold: () => {
          events.push('hold');
          return () => void events.push('release');
        },
      },
    });
    const answer = await server.elicitInput({ message: 'name?', requestedSchema: { type: 'object', properties: {} } });
    end();
    expect(answer.action).toBe('decline');
    expect(events).toEqual(['hold', 'release']);
  });
});

describe('GatewayPeer', () => {
  it('passes log messages at or above the level the client set, related to the call', () => {
    const notification = vi.fn(async () => undefined);
    const upstream = { notification, transport: {}, getClientCapabilities: () => ({}) } as unknown as Server;
    const peer = new GatewayPeer({ server: upstream, caller: 'erin', logger });
    peer.log({ level: 'debug', logger: 'everything', data: 'before any setLevel' }, undefined);
    peer.setLevel('warning');
    peer.log({ level: 'info', logger: 'everything', data: 'dropped' }, 3);
    peer.log({ level: 'error', logger: 'everything', data: 'kept' }, 3);
    expect(notification.mock.calls).toEqual([
      [
        { method: 'notifications/message', params: { level: 'debug', logger: 'everything', data: 'before any setLevel' } },
        undefined,
      ],
      [
        { method: 'notifications/message', params: { level: 'error', logger: 'everything', data: 'kept' } },
        { relatedRequestId: 3 },
      ],
    ]);
  });

  it('remembers which server returned each resource URI', () => {
    const upstream = { transport: undefined } as unknown as Server;
    const peer = new GatewayPeer({ server: upstream, caller: 'erin', logger });
    peer.sawResult('everything', {
      content: [
        { type: 'resource_link', uri: 'demo://a', name: 'a' },
        { type: 'resource', resource: { uri: 'demo://b', text: 'b' } },
        { type: 'text', text: 'demo://c' },
      ],
    });
    expect([peer.serverOf('demo://a'), peer.serverOf('demo://b'), peer.serverOf('demo://c')]).toEqual([
      'everything',
      'everything',
      undefined,
    ]);
    expect(peer.closed).toBe(true);
  });
});
