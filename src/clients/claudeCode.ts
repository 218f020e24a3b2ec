/**
 * Claude Code: user-scope servers under `mcpServers` in `~/.claude.json` (in `$CLAUDE_CONFIG_DIR` when
 * set), local-scope servers under `projects["<folder>"].mcpServers` of the same file, and project-scope
 * servers in `.mcp.json` of the project. Import reads the current folder's local and project scopes too;
 * install writes the user scope.
 */
import { parseJsonc, readServers, removeEntry, writeEntry } from './json.js';
import { pathsOf } from './paths.js';
import type { ClientFormat } from './types.js';

/** Claude Code's format. */
export const claudeCode: ClientFormat = {
  name: 'claude-code',
  locations(platform) {
    const { join } = pathsOf(platform);
    const dir = platform.env.CLAUDE_CONFIG_DIR || platform.home;
    return [
      { file: join(dir, '.claude.json'), scope: 'user' },
      { file: join(platform.cwd, '.mcp.json'), scope: 'project' },
    ];
  },
  read(text, location, platform) {
    const data = parseJsonc(text, location.file);
    const context = { home: platform.home };
    const servers = readServers(data.mcpServers, { prefix: 'mcpServers', topLevel: true, context });
    const projects = data.projects as Record<string, { mcpServers?: unknown }> | undefined;
    const local = location.scope === 'user' ? projects?.[platform.cwd]?.mcpServers : undefined;
    if (local !== undefined) {
      servers.push(
        ...readServers(local, { prefix: `projects[${JSON.stringify(platform.cwd)}].mcpServers`, topLevel: false, context }),
      );
    }
    return { servers, warnings: [] };
  },
  write: (text, launch, options) =>
    writeEntry(text, 'mcpServers', { type: 'stdio', command: launch.command, args: launch.args, env: {} }, options),
  remove: (text) => removeEntry(text, 'mcpServers'),
};
