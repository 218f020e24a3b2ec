/**
 * What the real `server-everything` asks of the client during a call reaches the client through
 * `automcp serve` (stdio): sampling, elicitation (form and URL; accept, decline, cancel), roots and
 * their changes, log messages, and resource links that the client can read back. A client that
 * declares none of these capabilities gets the server's clear error instead, and a call waiting on a
 * person's answer is not cut off by the eval timeout.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  type CallToolResult,
  type ElicitResult,
  type LoggingMessageNotification,
  type Root,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingServer, writeConfigDir, type TempConfig } from './helpers/config.js';
import { evalTool, errorPayload, serveGateway, type ServedGateway } from './helpers/gateway.js';

/** The eval timeout of the profile: shorter than the wait of the slow elicitation below. */
const EVAL_TIMEOUT_MS = 1_500;

interface Script {
  elicit: (request: { mode?: string }, signal: AbortSignal) => ElicitResult | Promise<ElicitResult>;
  roots: Root[];
  logs: LoggingMessageNotification['params'][];
  sampled: string[];
}

function capableClient(script: Script): Client {
  const client = new Client(
    { name: 'capable', version: '0.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const first = request.params.messages[0]?.content;
    const text = first && 'text' in first ? String(first.text) : '';
    script.sampled.push(text);
    return { model: 'fake-model', role: 'assistant', content: { type: 'text', text: `sampled: ${text}` } };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request, extra) => script.elicit(request.params, extra.signal));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: script.roots }));
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    script.logs.push(notification.params);
  });
  return client;
}

function text(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

let config: TempConfig;
let capable: ServedGateway;
let plain: ServedGateway;
/** A capable client whose profile pins roots. */
let pinned: ServedGateway;
const pinnedScript: Script = {
  elicit: () => ({ action: 'cancel' }),
  roots: [{ uri: 'file:///tmp/client-root' }],
  logs: [],
  sampled: [],
};
const script: Script = {
  elicit: () => ({ action: 'cancel' }),
  roots: [{ uri: 'file:///tmp/first-root', name: 'first' }],
  logs: [],
  sampled: [],
};

beforeAll(async () => {
  config = await writeConfigDir({
    runtime: { servers: { everything: everythingServer() } },
    profiles: {
      default: { eval: { timeoutMs: EVAL_TIMEOUT_MS } },
      pinned: { roots: [{ uri: 'file:///srv/pinned-root', name: 'pinned' }] },
    },
  });
  [capable, plain, pinned] = await Promise.all([
    serveGateway({ configDir: config.dir, client: capableClient(script) }),
    serveGateway({ configDir: config.dir }),
    serveGateway({ configDir: config.dir, profile: 'pinned', client: capableClient(pinnedScript) }),
  ]);
});

afterAll(async () => {
  await Promise.all([capable?.close(), plain?.close(), pinned?.close()]);
  await config?.cleanup();
});

describe('a client that declares sampling, elicitation and roots', () => {
  it('answers the server’s sampling request, and the server returns the answer', async () => {
    const result = await evalTool(capable.client, 'everything.trigger-sampling-request', { prompt: 'a haiku' });
    expect(result.isError).toBeFalsy();
    expect(script.sampled.at(-1)).toContain('a haiku');
    expect(text(result)).toContain('sampled: ');
    expect(text(result)).toContain('fake-model');
  });

  it.each([
    ['accept', { action: 'accept', content: { name: 'Ada', check: true, email: 'ada@example.com' } }, 'Ada'],
    ['decline', { action: 'decline' }, 'declined'],
    ['cancel', { action: 'cancel' }, 'cancel'],
  ] as const)('relays a form elicitation the user answers with %s', async (_action, answer, expected) => {
    script.elicit = () => answer as ElicitResult;
    const result = await evalTool(capable.client, 'everything.trigger-elicitation-request', {});
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain(expected);
  });

  it('relays a URL-mode elicitation', async () => {
    let seen: { mode?: string; url?: string } | undefined;
    script.elicit = (request) => {
      seen = request as { mode?: string; url?: string };
      return { action: 'accept' };
    };
    const result = await evalTool(capable.client, 'everything.trigger-url-elicitation', { url: 'https://example.com/auth' });
    expect(seen).toMatchObject({ mode: 'url', url: 'https://example.com/auth' });
    expect(text(result)).toContain('completed the URL elicitation');
  });

  it('does not let the eval timeout cut off a call while a person answers an elicitation', async () => {
    script.elicit = async () => {
      await delay(EVAL_TIMEOUT_MS * 2);
      return { action: 'decline' };
    };
    const result = await evalTool(capable.client, 'everything.trigger-elicitation-request', {});
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain('declined');
  });

  it('cancels the elicitation a person is answering when the call is cancelled', async () => {
    let asked = false;
    let cancelled = false;
    script.elicit = (_request, signal) =>
      new Promise<ElicitResult>((resolve) => {
        asked = true;
        signal.addEventListener('abort', () => {
          cancelled = true;
          resolve({ action: 'cancel' });
        });
      });
    const controller = new AbortController();
    const call = evalTool(capable.client, 'everything.trigger-elicitation-request', {}, { signal: controller.signal });
    await expect.poll(() => asked, { timeout: 10_000 }).toBe(true);
    controller.abort('the user gave up');
    await expect(call).rejects.toThrow();
    await expect.poll(() => cancelled, { timeout: 10_000 }).toBe(true);
  });

  it('gives the server the client’s roots, and their changes', async () => {
    const first = await evalTool(capable.client, 'everything.get-roots-list', {});
    expect(text(first)).toContain('file:///tmp/first-root');
    script.roots = [{ uri: 'file:///tmp/second-root', name: 'second' }];
    await capable.client.sendRootsListChanged();
    await expect
      .poll(async () => text(await evalTool(capable.client, 'everything.get-roots-list', {})), { timeout: 10_000 })
      .toContain('file:///tmp/second-root');
  });

  it('passes the server’s log messages on, named after the server', async () => {
    const before = script.logs.length;
    const result = await evalTool(capable.client, 'everything.toggle-simulated-logging', {});
    expect(result.isError).toBeFalsy();
    await expect.poll(() => script.logs.length, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(script.logs.at(-1)).toMatchObject({ logger: 'everything' });
    await evalTool(capable.client, 'everything.toggle-simulated-logging', {});
  });

  it('reads the resource links a tool returned, and only those', async () => {
    const result = await evalTool(capable.client, 'everything.get-resource-links', { count: 2 });
    const links = result.content.filter((block) => block.type === 'resource_link');
    expect(links.length).toBe(2);
    for (const link of links) {
      const read = await capable.client.readResource({ uri: link.uri });
      expect(read.contents[0]?.uri).toBe(link.uri);
    }
    await expect(capable.client.readResource({ uri: 'demo://resource/static/document/secret.md' })).rejects.toThrow(
      /no tool returned/,
    );
    expect(await capable.client.listResources()).toEqual({ resources: [] });
  });
});

describe('a client that declares none of them', () => {
  it('gets the server’s error saying the client lacks sampling', async () => {
    const result = await evalTool(plain.client, 'everything.trigger-sampling-request', { prompt: 'x' });
    const shown = result.isError ? text(result) : '';
    expect(result.isError).toBe(true);
    expect(shown).toMatch(/does not support sampling/);
    expect(() => errorPayload(result)).toThrow();
  });

  it('cannot read resource links returned to another connection', async () => {
    const result = await evalTool(capable.client, 'everything.get-resource-links', { count: 1 });
    const link = result.content.find((block) => block.type === 'resource_link');
    expect(link).toBeDefined();
    await expect(plain.client.readResource({ uri: link!.type === 'resource_link' ? link!.uri : '' })).rejects.toThrow(
      /no tool returned/,
    );
  });
});

describe('a profile that pins roots', () => {
  it('gives the server the profile’s roots instead of the client’s', async () => {
    const result = await evalTool(pinned.client, 'everything.get-roots-list', {});
    expect(text(result)).toContain('file:///srv/pinned-root');
    expect(text(result)).not.toContain('file:///tmp/client-root');
  });
});
