/**
 * In-process gateways for tests: fake downstream MCP servers (SDK `Server`s with tools the test
 * defines) reached through `InMemoryTransport` pairs, a gateway built by `createGateway` with those
 * transports injected, and SDK clients connected to it upstream. No processes, no network, no sleeps.
 */
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Catalog, CatalogChange } from '../../src/catalog/catalog.js';
import type { Profile, RuntimeConfig } from '../../src/config/load.js';
import { parseRuntime } from '../../src/config/load.js';
import { profileSchema } from '../../src/config/schema.js';
import type { TransportFactory } from '../../src/downstream/transport.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway/create.js';
import type { AutomaticMcpOutput } from '../../src/gateway/core.js';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import type { GatewayObserver } from '../../src/gateway/observer.js';
import type { SessionStore } from '../../src/session/store.js';
import type { Clock } from '../../src/session/memory.js';

/** What a fake tool's handler receives besides its arguments. */
export type HandlerExtra = RequestHandlerExtra<ServerRequest, ServerNotification> & {
  /** The server side of this connection's transport: close it to simulate a crash. */
  transport: InMemoryTransport;
};

/** A tool of a fake server: its advertised definition and what a call does. */
export interface FakeTool {
  definition: Tool;
  handler: (args: Record<string, unknown>, extra: HandlerExtra) => CallToolResult | Promise<CallToolResult>;
}

/** A downstream MCP server that lives in the test process. Each (re)connection gets a fresh SDK Server. */
export class FakeDownstream {
  readonly name: string;
  tools: FakeTool[];
  /** Every call the server received, in order. */
  readonly calls: { tool: string; arguments: Record<string, unknown> }[] = [];
  /** How many times the gateway connected to this server. */
  connections = 0;
  readonly #live = new Set<Server>();

  constructor(name: string, tools: FakeTool[]) {
    this.name = name;
    this.tools = tools;
  }

  /** Replaces the tool list and sends `notifications/tools/list_changed` on every live connection. */
  async setTools(tools: FakeTool[], { notify = true }: { notify?: boolean } = {}): Promise<void> {
    this.tools = tools;
    if (notify) await Promise.all([...this.#live].map((server) => server.sendToolListChanged()));
  }

  /** Connects a fresh SDK server to `transport`. */
  serve(transport: InMemoryTransport): void {
    this.connections += 1;
    const server = new Server({ name: this.name, version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: this.tools.map((tool) => tool.definition) }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const args = request.params.arguments ?? {};
      this.calls.push({ tool: request.params.name, arguments: args });
      const tool = this.tools.find((entry) => entry.definition.name === request.params.name);
      if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
      return tool.handler(args, { ...extra, transport });
    });
    server.onclose = () => this.#live.delete(server);
    this.#live.add(server);
    void server.connect(transport);
  }
}

/** A transport factory that reaches each named fake server through a new in-memory pair. */
export function inMemoryTransports(
  servers: readonly FakeDownstream[],
  { fail = new Set<string>() }: { fail?: ReadonlySet<string> } = {},
): TransportFactory {
  const byName = new Map(servers.map((server) => [server.name, server]));
  return (spec) => {
    const server = byName.get(spec.name);
    if (!server || fail.has(spec.name)) throw new Error(`cannot start "${spec.name}"`);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    server.serve(serverSide);
    return clientSide;
  };
}

/** A runtime config with one stdio entry per server name (the command is never run). */
export function runtimeFor(
  servers: readonly (string | { name: string; description?: string; timeoutMs?: number })[],
  session: { ttlSeconds?: number; maxSessions?: number } = {},
): RuntimeConfig {
  const entries = Object.fromEntries(
    servers.map((server) => {
      const entry = typeof server === 'string' ? { name: server } : server;
      return [
        entry.name,
        {
          command: 'fake-server',
          ...(entry.description !== undefined ? { description: entry.description } : {}),
          ...(entry.timeoutMs !== undefined ? { timeoutMs: entry.timeoutMs } : {}),
        },
      ];
    }),
  );
  return parseRuntime({
    file: '/tmp/automcp-inprocess/runtime.yaml',
    text: JSON.stringify({ version: 1, servers: entries, session }),
    env: {},
  });
}

/** A profile from the YAML-shaped fields of CONTRACT §2. */
export function makeProfile(name: string, fields: Record<string, unknown> = {}): Profile {
  return { ...profileSchema.parse(fields), name };
}

/** A clock the test moves by hand (starts above 0: lru-cache reads a 0 start as "no TTL"). */
export class FakeClock implements Clock {
  #now = 1_000_000;
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** A gateway wired to fake servers, with helpers to open upstream clients. */
export interface InProcessGateway {
  gateway: Gateway;
  clock: FakeClock;
  /** Opens an upstream connection for `profile` (as `caller`, default the profile name). */
  connect(profile: Profile, options?: { caller?: string }): Promise<Client>;
  /** Resolves on the next catalog change. */
  nextCatalogChange(): Promise<CatalogChange>;
  close(): Promise<void>;
}

/** Builds a gateway over `servers` and starts it. */
export async function startInProcessGateway({
  servers,
  config,
  fail,
  gatewayOptions = {},
  observer,
  sessions,
}: {
  servers: readonly FakeDownstream[];
  config?: RuntimeConfig;
  fail?: ReadonlySet<string>;
  /** More createGateway options: a chat model, the environment its key is read from, a logger, a state directory. */
  gatewayOptions?: Pick<GatewayOptions, 'chatModel' | 'env' | 'logger' | 'stateDir' | 'traces' | 'traceTokens'>;
  /** Told once per tool call. */
  observer?: GatewayObserver;
  /** A session store instead of the configured one. */
  sessions?: SessionStore;
}): Promise<InProcessGateway> {
  const clock = new FakeClock();
  let counter = 0;
  const gateway = await createGateway({
    config: config ?? runtimeFor(servers.map((server) => server.name)),
    transports: inMemoryTransports(servers, fail ? { fail } : {}),
    clock,
    newId: () => (counter++).toString(16).padStart(8, '0'),
    ...gatewayOptions,
    ...(observer ? { observer } : {}),
    ...(sessions ? { sessions } : {}),
  });
  await gateway.start();
  const clients: Client[] = [];
  return {
    gateway,
    clock,
    async connect(profile, options = {}) {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await gateway.connect({ transport: serverSide, profile, ...(options.caller ? { caller: options.caller } : {}) });
      const client = new Client({ name: 'inprocess-test', version: '0.0.0' }, { capabilities: {} });
      await client.connect(clientSide);
      clients.push(client);
      return client;
    },
    nextCatalogChange: () => onceChanged(gateway.catalog),
    async close() {
      await Promise.allSettled(clients.map((client) => client.close()));
      await gateway.close();
    },
  };
}

function onceChanged(catalog: Catalog): Promise<CatalogChange> {
  return new Promise((resolve) => {
    const off = catalog.onChange((change) => {
      off();
      resolve(change);
    });
  });
}

/** Calls `automatic_mcp` and returns its structured output (fails the test on an error result). */
export async function automaticMcp(client: Client, args: Record<string, unknown>): Promise<AutomaticMcpOutput> {
  const result = (await client.callTool({ name: 'automatic_mcp', arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`automatic_mcp failed: ${textOf(result)}`);
  return result.structuredContent as AutomaticMcpOutput;
}

/** Calls a tool and returns the raw result. */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The parsed JSON payload of a gateway error result. */
export function errorPayload(result: CallToolResult): {
  error: { code: string; message: string };
  [key: string]: unknown;
} {
  if (!result.isError) throw new Error(`expected an error result, got ${JSON.stringify(result)}`);
  if (result.content.length !== 1) throw new Error(`expected one content block, got ${result.content.length}`);
  return JSON.parse(textOf(result)) as { error: { code: string; message: string } };
}

/** The text of the first content block. */
export function textOf(result: CallToolResult): string {
  const block = result.content[0];
  if (!block || block.type !== 'text') throw new Error(`expected a text block, got ${JSON.stringify(block)}`);
  return block.text;
}

/** A tool definition with an object inputSchema. */
export function toolDefinition(name: string, description: string, extra: Partial<Tool> = {}): Tool {
  return { name, description, inputSchema: { type: 'object', properties: {} }, ...extra };
}

/** A logger at `info` whose JSON lines land, parsed, in `records`. */
export function capturedLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), records };
}
