/**
 * The tool list of one downstream server, as the catalog sees it. A list is read whole (every page),
 * and a list requested later always wins: two `notifications/tools/list_changed` in a row can be
 * answered out of order, and the older answer must not overwrite the newer one. The list also says
 * which tools the SDK client must call itself rather than the short lane of toolCalls.ts.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { needsClient } from './toolCalls.js';

/** The latest tool list of a server, handed to the catalog as it changes. */
export class ToolList {
  readonly #onTools: (tools: Tool[]) => void | Promise<void>;
  readonly #timeoutMs: number;
  /** Numbers list requests so a late answer to an older one never overwrites a newer list. */
  #requests = 0;
  #applied = 0;
  /** Tools the SDK client must call itself (output schema, tasks): see toolCalls.ts. */
  #clientOnly = new Set<string>();

  constructor({ onTools, timeoutMs }: { onTools: (tools: Tool[]) => void | Promise<void>; timeoutMs: number }) {
    this.#onTools = onTools;
    this.#timeoutMs = timeoutMs;
  }

  /** True when calls to `tool` must go through the SDK client. */
  clientOnly(tool: string): boolean {
    return this.#clientOnly.has(tool);
  }

  /**
   * Reads `client`'s tool list and hands it to the catalog, unless a list requested later has already
   * been applied; resolves once what the catalog returned has settled.
   */
  async refresh(client: Client): Promise<Tool[]> {
    const request = ++this.#requests;
    const tools = await listAllTools(client, this.#timeoutMs);
    if (request > this.#applied) {
      this.#applied = request;
      this.#clientOnly = new Set(tools.filter(needsClient).map((tool) => tool.name));
      await this.#onTools(tools);
    }
    return tools;
  }
}

/** Reads the whole tool list, following pagination. */
export async function listAllTools(client: Client, timeoutMs: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, { timeout: timeoutMs });
    tools.push(...page.tools);
    cursor = page.nextCursor;
    // A server that hands back a cursor it already gave would loop forever.
    if (cursor !== undefined && seen.has(cursor)) break;
    if (cursor !== undefined) seen.add(cursor);
  } while (cursor);
  return tools;
}
