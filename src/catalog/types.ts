/** The catalog's record of one downstream tool, as the gateway exposes it. */

/** What a client receives for a tool: the exposed definition (CONTRACT §1, `tools[]` minus `hash`). */
export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** One tool in the catalog. */
export interface CatalogTool {
  /** Qualified name `<server>.<tool>`. */
  name: string;
  server: string;
  /** The downstream name, unchanged. */
  tool: string;
  definition: ToolDefinition;
  /** xxHash64 of the canonical definition. */
  hash: string;
}

/** One server's part of the catalog. */
export interface CatalogServer {
  name: string;
  description: string;
  tools: readonly CatalogTool[];
}
