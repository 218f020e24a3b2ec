/** Cursor: `~/.cursor/mcp.json` for every project, `.cursor/mcp.json` in a project; servers under `mcpServers`. */
import { mcpServersFormat } from './claudeDesktop.js';
import { pathsOf } from './paths.js';
import type { ClientFormat } from './types.js';

/** Cursor's format. */
export const cursor: ClientFormat = mcpServersFormat('cursor', (platform) => {
  const { join } = pathsOf(platform);
  return [
    { file: join(platform.home, '.cursor', 'mcp.json'), scope: 'user' },
    { file: join(platform.cwd, '.cursor', 'mcp.json'), scope: 'project' },
  ];
});
