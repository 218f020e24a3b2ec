/** Every client format by name, and the format of a file given by path (`import --from PATH`). */
import { basename } from 'node:path';
import { claudeCode } from './claudeCode.js';
import { claudeDesktop } from './claudeDesktop.js';
import { codex } from './codex.js';
import { cursor } from './cursor.js';
import { parseJsonc } from './json.js';
import { vscode } from './vscode.js';
import { windsurf } from './windsurf.js';
import type { ClientFormat, ClientName } from './types.js';

/** The formats by client name. */
export const CLIENTS: Readonly<Record<ClientName, ClientFormat>> = {
  'claude-desktop': claudeDesktop,
  'claude-code': claudeCode,
  cursor,
  vscode,
  windsurf,
  codex,
};

/**
 * The format of a file named on the command line: TOML is Codex; JSON with `servers` is VS Code;
 * `~/.claude.json` (or JSON with `projects`) is Claude Code; any other `mcpServers` JSON reads as Claude
 * Desktop's, which Cursor and Windsurf share (Windsurf's `serverUrl` included).
 */
export function formatOfFile(file: string, text: string): ClientFormat {
  if (file.endsWith('.toml')) return codex;
  const data = parseJsonc(text, file);
  if (data.servers !== undefined && data.mcpServers === undefined) return vscode;
  if (basename(file) === '.claude.json' || data.projects !== undefined) return claudeCode;
  if (basename(file) === 'mcp_config.json') return windsurf;
  return claudeDesktop;
}
