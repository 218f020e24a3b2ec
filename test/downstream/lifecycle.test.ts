/**
 * Downstream behaviour through the real gateway wiring with in-memory transports: paginated tool
 * lists, upstream cancellation reaching the downstream server, and a restart after the connection drops.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CancelledNotificationSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRuntime } from '../../src/config/load.js';
import { profileSchema } from '../../src/config/schema.js';
import { createGateway, type Gateway } from '../../src/gateway/create.js';

const profile = { ...profileSchema.parse({}), name: 'default' };
const config = parseRuntime({
  file: '/tmp/automcp-lifecycle/runtime.yaml',
  text: 'version: 1\nservers:\n  paged: {command: unused}\n',
});

/** A downstream server with 25 tools served 10 per page, a tool that waits to be cancelled, and a counter of starts. */
function createPagedServer(events: { starts: number; cancelled: number; waiting?: number }) {
  const tools: Tool[] = Array.from({ length: 25 }, (_, index) => ({
    name: `tool_${index}`,
    description: `Numbered tool ${index}`,
    inputSchema: { type: 'object', properties: {} },
  }));
  tools.push({ name: 'wait_forever', description: 'Waits until cancelled', inputSchema: { type: 'object' } });
  const server = new Server({ name: 'paged', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    const start = Number(request.params?.cursor ?? 0);
    const next = start + 10;
    return { tools: tools.slice(start, next), ...(next < tools.length ? { nextCursor: String(next) } : {}) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    if (request.params.name === 'wait_forever') {
      events.waiting = (events.waiting ?? 0) + 1;
      await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()));
      return { content: [{ type: 'text', text: 'cancelled' }] };
    }
    return { content: [{ type: 'text', text: `ran ${request.params.name}` }] };
  });
  server.setNotificationHandler(CancelledNotificationSchema, async () => {
    events.cancelled += 1;
  });
  events.starts += 1;
  return server;
}

describe('downstream connections', () => {
  let gateway: Gateway | undefined;
  const downstreams: Server[] = [];

  afterEach(async () => {
    await gateway?.close();
    for (const server of downstreams.splice(0)) await server.close();
    gateway = undefined;
  });

  async function setup() {
    const events = { starts: 0, cancelled: 0, waiting: 0 };
    gateway = await createGateway({
      config,
      transports: () => {
        const [gatewaySide, serverSide] = InMemoryTransport.createLinkedPair();
        const server = createPagedServer(events);
        downstreams.push(server);
        void server.connect(serverSide);
        return gatewaySide;
      },
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await gateway.connect({ transport: serverSide, profile });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(clientSide);
    return { gateway, client, events };
  }

  it('follows nextCursor until every page is read', async () => {
    const { gateway: started } = await setup();
    await started.start();
    // The gateway's own automcp.* tools are in the catalog too; this test is about the paged server.
    const names = started.catalog
      .tools()
      .map((tool) => tool.name)
      .filter((name) => name.startsWith('paged.'));
    expect(names).toHaveLength(26);
    expect(names).toContain('paged.tool_0');
    expect(names).toContain('paged.tool_24');
    expect(names).toContain('paged.wait_forever');
  });

  it('cancels the downstream call when the upstream request is cancelled', async () => {
    const { client, events } = await setup();
    const controller = new AbortController();
    const call = client.callTool({ name: 'automatic_eval', arguments: { toolName: 'paged.wait_forever' } }, undefined, {
      signal: controller.signal,
    });
    // Cancel only once the call has reached the server.
    await expect.poll(() => events.waiting, { timeout: 5000 }).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect.poll(() => events.cancelled, { timeout: 2000 }).toBe(1);
  });

  it('does not start a stopped server for a name its known tool list lacks', async () => {
    const { client, events, gateway: started } = await setup();
    await started.start();
    await downstreams[0]!.close();
    await expect.poll(() => started.registry.status()[0]?.state).toBe('closed');
    const result = (await client.callTool({
      name: 'automatic_eval',
      arguments: { toolName: 'paged.no_such_tool' },
    })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(JSON.parse((result.content[0] as { text: string }).text).error.code).toBe('TOOL_NOT_FOUND');
    expect(events.starts).toBe(1);
  });

  it('starts the server again on the next call after its connection drops', async () => {
    const { client, events, gateway: started } = await setup();
    await started.start();
    expect(events.starts).toBe(1);
    await downstreams[0]!.close();
    await expect.poll(() => started.registry.status()[0]?.state).toBe('closed');
    const result = (await client.callTool({ name: 'automatic_eval', arguments: { toolName: 'paged.tool_3' } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: 'text', text: 'ran tool_3' }]);
    expect(events.starts).toBe(2);
  });
});

/** The error an eval fails with, or undefined when it succeeds. */
async function evalError(gateway: Gateway, ...args: Parameters<Gateway['core']['automaticEval']>): Promise<unknown> {
  return gateway.core.automaticEval(...args).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('a server that cannot start', () => {
  const broken = parseRuntime({
    file: '/tmp/automcp-broken/runtime.yaml',
    text: 'version: 1\nservers:\n  broken: {command: /nonexistent/automcp-missing-server}\n',
  });

  it('answers DOWNSTREAM_UNAVAILABLE naming the server for a name the profile allows', async () => {
    const gateway = await createGateway({ config: broken });
    try {
      const status = await gateway.start();
      expect(status[0]?.state).toBe('failed');
      const result = await evalError(gateway, { toolName: 'broken.do_thing' }, { caller: 'c', profile, connectionId: 'x' });
      expect(result).toMatchObject({ code: 'DOWNSTREAM_UNAVAILABLE', data: { server: 'broken' } });
    } finally {
      await gateway.close();
    }
  });

  it('reveals nothing to a readOnly profile, which cannot be judged before the tools are known', async () => {
    const gateway = await createGateway({ config: broken });
    const readOnly = { ...profileSchema.parse({ tools: { readOnly: true } }), name: 'reader' };
    try {
      await gateway.start();
      const result = await evalError(
        gateway,
        { toolName: 'broken.do_thing' },
        { caller: 'c', profile: readOnly, connectionId: 'x' },
      );
      expect(result).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    } finally {
      await gateway.close();
    }
  });

  it('reveals nothing for a name the profile denies', async () => {
    const gateway = await createGateway({ config: broken });
    const denying = { ...profileSchema.parse({ tools: { deny: ['broken.*'] } }), name: 'denying' };
    try {
      await gateway.start();
      const result = await evalError(
        gateway,
        { toolName: 'broken.do_thing' },
        { caller: 'c', profile: denying, connectionId: 'x' },
      );
      expect(result).toMatchObject({ code: 'TOOL_NOT_FOUND', data: { didYouMean: [] } });
    } finally {
      await gateway.close();
    }
  });
});

describe('races', () => {
  it('refuses a start requested while the server is stopping, and leaves nothing running', async () => {
    let open = 0;
    const gateway = await createGateway({
      config,
      transports: () => {
        const [gatewaySide, serverSide] = InMemoryTransport.createLinkedPair();
        const server = createPagedServer({ starts: 0, cancelled: 0 });
        open += 1;
        server.onclose = () => void (open -= 1);
        void server.connect(serverSide);
        return gatewaySide;
      },
    });
    try {
      await gateway.start();
      const connection = gateway.registry.connection('paged')!;
      const closing = connection.close();
      await expect(connection.ensure()).rejects.toThrow(/stopping/);
      await closing;
      expect(connection.state).toBe('closed');
      expect(open).toBe(0);
      // Once stopped, the next call may start it again.
      await connection.ensure();
      expect(connection.state).toBe('up');
      expect(open).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it('keeps the newest tool list when re-lists after list_changed answer out of order', async () => {
    let names = ['a'];
    let lists = 0;
    // The first re-list (after the initial list) answers only when the test releases it, with what was
    // current when it was asked; the second re-list answers at once.
    let releaseLate!: () => void;
    const late = new Promise<void>((resolve) => (releaseLate = resolve));
    let lateAnswered = false;
    const server = new Server({ name: 'shifty', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      const snapshot = names.map((name) => ({ name, description: `tool ${name}`, inputSchema: { type: 'object' as const } }));
      lists += 1;
      if (lists === 2) {
        await late;
        lateAnswered = true;
      }
      return { tools: snapshot };
    });
    server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [] }));
    const gateway = await createGateway({
      config: parseRuntime({
        file: '/tmp/automcp-shifty/runtime.yaml',
        text: 'version: 1\nservers:\n  shifty: {command: unused}\n',
      }),
      transports: () => {
        const [gatewaySide, serverSide] = InMemoryTransport.createLinkedPair();
        void server.connect(serverSide);
        return gatewaySide;
      },
    });
    try {
      await gateway.start();
      names = ['b'];
      await server.sendToolListChanged();
      await expect.poll(() => lists, { timeout: 5000 }).toBe(2);
      names = ['c'];
      await server.sendToolListChanged();
      const shifty = () =>
        gateway.catalog
          .tools()
          .map((tool) => tool.name)
          .filter((name) => !name.startsWith('automcp.'));
      await expect.poll(shifty, { timeout: 5000 }).toEqual(['shifty.c']);
      releaseLate();
      await expect.poll(() => lateAnswered, { timeout: 5000 }).toBe(true);
      // A call answered after the late list: by then the gateway has read that list too.
      await gateway.registry.call('shifty', { tool: 'c', arguments: {}, timeoutMs: 5000 });
      expect(lists).toBe(3);
      expect(shifty()).toEqual(['shifty.c']);
    } finally {
      await gateway.close();
      await server.close();
    }
  });
});

describe('a server that failed at start', () => {
  it('is started again in the background once its backoff has run out, and its tools become selectable', async () => {
    let time = 1_000_000;
    let attempts = 0;
    const events = { starts: 0, cancelled: 0 };
    const gateway = await createGateway({
      config,
      clock: { now: () => time },
      transports: () => {
        attempts += 1;
        if (attempts === 1) throw new Error('transient spawn failure');
        const [gatewaySide, serverSide] = InMemoryTransport.createLinkedPair();
        void createPagedServer(events).connect(serverSide);
        return gatewaySide;
      },
    });
    const context = { caller: 'c', profile, connectionId: 'x' };
    try {
      expect((await gateway.start())[0]?.state).toBe('failed');
      // Within the backoff: no retry, nothing to select.
      time += 1_000;
      expect((await gateway.core.automaticMcp({ query: 'numbered tool' }, context)).tools).toEqual([]);
      expect(attempts).toBe(1);
      // Past it: the selection triggers a retry in the background; a later selection sees the tools.
      time += 1_500;
      await gateway.core.automaticMcp({ query: 'numbered tool' }, context);
      expect(attempts).toBe(2);
      await expect.poll(() => gateway.registry.status()[0]?.state).toBe('up');
      const later = await gateway.core.automaticMcp({ query: 'numbered tool', limit: 3, fresh: true }, context);
      expect(later.tools).toHaveLength(3);
    } finally {
      await gateway.close();
    }
  });
});
