/**
 * The catalog: every downstream tool the gateway knows, by qualified name, with its hash. Each server
 * owns its part, replaced whole when its tool list is (re)read, and `version` moves on every change
 * so indexes and caller views know when to rebuild.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson, type Hasher } from './hash.js';
import { qualifyName } from './naming.js';
import type { CatalogServer, CatalogTool, ToolDefinition } from './types.js';

/** A catalog change: which server's part changed and which tools changed definition. */
export interface CatalogChange {
  server: string;
  changed: { name: string; before: string; after: string }[];
}

/** All downstream tools, grouped by server. */
export class Catalog {
  readonly #hasher: Hasher;
  readonly #servers = new Map<string, CatalogServer>();
  readonly #byName = new Map<string, CatalogTool>();
  readonly #listeners = new Set<(change: CatalogChange) => void>();
  #all: CatalogTool[] | undefined;
  #version = 0;

  constructor(hasher: Hasher) {
    this.#hasher = hasher;
  }

  /** Moves on every change; indexes keyed by it rebuild lazily. */
  get version(): number {
    return this.#version;
  }

  /**
   * Declares a server before its tools are known, fixing its place in the catalog's order: tools are
   * listed in configuration order, whichever server happens to answer first.
   */
  declareServer(server: string, description: string): void {
    if (!this.#servers.has(server)) this.#servers.set(server, { name: server, description, tools: [] });
  }

  /** Replaces `server`'s tools with a freshly listed set. Returns what changed. */
  setServerTools(server: string, description: string, tools: readonly Tool[]): CatalogChange {
    const previous = this.#servers.get(server);
    const entries = tools.map((tool) => this.toCatalogTool(server, tool));
    const change: CatalogChange = { server, changed: [] };
    for (const entry of entries) {
      const before = previous?.tools.find((tool) => tool.name === entry.name);
      if (before && before.hash !== entry.hash) change.changed.push({ name: entry.name, before: before.hash, after: entry.hash });
    }
    const same =
      previous !== undefined &&
      previous.description === description &&
      previous.tools.length === entries.length &&
      previous.tools.every((tool, index) => tool.hash === entries[index]?.hash);
    if (same) return change;
    for (const tool of previous?.tools ?? []) this.#byName.delete(tool.name);
    for (const entry of entries) this.#byName.set(entry.name, entry);
    this.#servers.set(server, { name: server, description, tools: entries });
    this.#touch(change);
    return change;
  }

  /** Drops a server's part (a server removed from the configuration). */
  removeServer(server: string): void {
    const previous = this.#servers.get(server);
    if (!previous) return;
    for (const tool of previous.tools) this.#byName.delete(tool.name);
    this.#servers.delete(server);
    this.#touch({ server, changed: [] });
  }

  /** The tool with this qualified name, if any server exposes it. */
  get(name: string): CatalogTool | undefined {
    return this.#byName.get(name);
  }

  /** Every tool, grouped by server in configuration order. The array is reused until a change. */
  tools(): readonly CatalogTool[] {
    this.#all ??= [...this.#servers.values()].flatMap((server) => server.tools);
    return this.#all;
  }

  /** The servers that have a part in the catalog. */
  servers(): readonly CatalogServer[] {
    return [...this.#servers.values()];
  }

  /** The server entry (for its description). */
  server(name: string): CatalogServer | undefined {
    return this.#servers.get(name);
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: (change: CatalogChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Builds the catalog record of a downstream tool: qualified name, exposed definition, hash. */
  toCatalogTool(server: string, tool: Tool): CatalogTool {
    const name = qualifyName(server, tool.name);
    const definition: ToolDefinition = {
      name,
      description: tool.description ?? tool.title ?? '',
      inputSchema: tool.inputSchema as Record<string, unknown>,
      ...(tool.outputSchema ? { outputSchema: tool.outputSchema as Record<string, unknown> } : {}),
      ...(tool.annotations ? { annotations: tool.annotations as Record<string, unknown> } : {}),
    };
    return { name, server, tool: tool.name, definition, hash: this.#hasher.h64(canonicalJson(definition)) };
  }

  #touch(change: CatalogChange): void {
    this.#version += 1;
    this.#all = undefined;
    for (const listener of this.#listeners) listener(change);
  }
}
