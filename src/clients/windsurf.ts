/**
 * Windsurf: `~/.codeium/windsurf/mcp_config.json`, servers under `mcpServers`; remote servers are
 * spelled `serverUrl` there.
 */
import { mcpServersFormat } from './claudeDesktop.js';
import { pathsOf } from './paths.js';
import type { ClientFormat } from './types.js';

/** Windsurf's format. */
export const windsurf: ClientFormat = mcpServersFormat('windsurf', (platform) => [
  { file: pathsOf(platform).join(platform.home, '.codeium', 'windsurf', 'mcp_config.json'), scope: 'user' },
]);
