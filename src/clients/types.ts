/**
 * What every MCP client format shares: where a client keeps its configuration, how its server entries
 * read in automcp's terms, and how automcp's own entry is written into it.
 */

/** The clients `automcp import --from` and `automcp install --client` know. */
export const CLIENT_NAMES = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'codex'] as const;
/** One of {@link CLIENT_NAMES}. */
export type ClientName = (typeof CLIENT_NAMES)[number];

/** Is `name` a known client? */
export function isClientName(name: string): name is ClientName {
  return (CLIENT_NAMES as readonly string[]).includes(name);
}

/** The machine a client runs on: where home and the OS's config folders are. Injected so tests can point them anywhere. */
export interface Platform {
  os: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
  /** The user's home folder. */
  home: string;
  /** The folder project-scoped files are looked up in (`.mcp.json`, `.cursor/mcp.json`, `.vscode/mcp.json`). */
  cwd: string;
}

/** One config file of a client. */
export interface Location {
  file: string;
  /** `user` files apply everywhere; `project` files to the folder they sit in. */
  scope: 'user' | 'project';
}

/** A server entry as automcp's runtime.yaml writes it. */
export interface ServerEntry {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  enabled?: boolean;
}

/** A server entry read from a client file, converted; `warnings` name whatever could not be carried over. */
export interface ReadServer {
  /** The name the client gave it. */
  name: string;
  /** Where in the file it is (`mcpServers.github`, `projects["/p"].mcpServers.x`): for messages. */
  where: string;
  /** True for entries in the container `install --replace` empties (the file's own top-level servers). */
  topLevel: boolean;
  /** Absent when the entry cannot be imported (the reason is in `warnings`). */
  server?: ServerEntry;
  /** True when the entry starts automcp itself. */
  isAutomcp: boolean;
  warnings: string[];
}

/** How automcp starts itself from a client: absolute paths, since clients start servers from folders of their own. */
export interface LaunchSpec {
  command: string;
  args: string[];
}

/** One client's configuration format. */
export interface ClientFormat {
  name: ClientName;
  /** Files the client reads; the first is where `install` writes. */
  locations(platform: Platform): Location[];
  /** Server entries in the text of one of its files. */
  read(text: string, location: Location, platform: Platform): { servers: ReadServer[]; warnings: string[] };
  /** The text with automcp's entry set; with `only`, every other top-level entry is removed. Formatting is kept. */
  write(text: string, launch: LaunchSpec, options: { only: boolean }): string;
  /** The text without automcp's entry. */
  remove(text: string): string;
}

/** The name automcp's own entry has in every client. */
export const ENTRY_NAME = 'automcp';

/** A mistake the user can fix (a client with no config file, a file that does not parse): printed as one line. */
export class ClientError extends Error {
  override readonly name = 'ClientError';
}

/** Is `error` a {@link ClientError}? */
export function isClientError(error: unknown): error is ClientError {
  return error instanceof ClientError;
}
