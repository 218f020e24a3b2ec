/**
 * What `automcp trust <server>` does, apart from printing: start that one server, list its tools,
 * and record their current definition hashes as the trusted ones, reporting what changed against the
 * hashes trusted before. The old hashes are read under the same lock as the new ones are written, so
 * the report is exactly what this run replaced, even with gateways writing the file at the same time.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { Catalog } from '../catalog/catalog.js';
import { loadHasher } from '../catalog/hash.js';
import type { ServerSpec } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import { TrustStore } from '../state/trustFile.js';
import { DownstreamConnection } from './connection.js';
import { createProcessGuard } from './processes.js';
import { createTransportFactory, type TransportFactory } from './transport.js';

/** One tool whose trusted hash this run set: new (`before` null) or changed. */
export interface TrustedChange {
  tool: string;
  before: string | null;
  after: string;
}

/** What one trust run accepted. */
export interface TrustReport {
  server: string;
  /** How many tool definitions are now trusted. */
  trusted: number;
  changes: TrustedChange[];
  /** Tools trusted before that the server no longer lists (their hashes are dropped). */
  removed: string[];
}

/** How to reach one server outside a gateway (`automcp trust`, `automcp review`). */
export interface ReachOptions {
  spec: ServerSpec;
  /** The state directory: where a remote server's sign-in is kept. */
  stateDir: string;
  /** Where relative commands and paths of the server entry are resolved (the configuration's folder). */
  cwd: string;
  logger: Logger;
  /** How to reach the server; default: the real transports, children watched by a process guard. */
  transports?: TransportFactory;
}

/**
 * Starts `spec`'s server, lists its tools and stops it. Throws when the server cannot be started or
 * listed; the server is stopped either way.
 */
export async function listServerTools({ spec, stateDir, cwd, logger, transports }: ReachOptions): Promise<Tool[]> {
  const guard = transports ? undefined : createProcessGuard({ logger, watchdog: true });
  let tools: Tool[] = [];
  const connection = new DownstreamConnection({
    spec,
    logger,
    transports: transports ?? createTransportFactory({ logger, cwd, ...(guard ? { guard } : {}), signIn: { stateDir } }),
    onTools: (listed) => {
      tools = listed;
    },
  });
  try {
    await connection.ensure();
  } finally {
    await connection.close();
    guard?.close();
  }
  return tools;
}

/**
 * Starts `spec`'s server, lists its tools and trusts their current definitions in `stateDir`. Throws
 * when the server cannot be started or listed; the server is stopped either way.
 */
export async function trustServer(options: ReachOptions & { stateDir: string }): Promise<TrustReport> {
  const { spec, stateDir } = options;
  const tools = await listServerTools(options);
  const catalog = new Catalog(await loadHasher());
  const current = tools.map((tool) => catalog.toCatalogTool(spec.name, tool));
  const { before } = await new TrustStore({ stateDir }).replace(
    spec.name,
    current.map((tool) => ({ name: tool.name, hash: tool.hash })),
  );
  const changes = current.flatMap((tool) => {
    const previous = before.get(tool.name);
    return previous === tool.hash ? [] : [{ tool: tool.name, before: previous ?? null, after: tool.hash }];
  });
  const listed = new Set(current.map((tool) => tool.name));
  const removed = [...before.keys()].filter((name) => !listed.has(name));
  return { server: spec.name, trusted: current.length, changes, removed };
}
