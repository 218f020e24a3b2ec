/**
 * Claude Desktop: `claude_desktop_config.json` in the OS's application-settings folder (`Claude/`),
 * servers under `mcpServers`.
 */
import { parseJsonc, plainEntry, readServers, removeEntry, writeEntry } from './json.js';
import { appConfigDir, pathsOf } from './paths.js';
import type { ClientFormat } from './types.js';

/**
 * The `mcpServers` JSON shape that Claude Desktop, Cursor and Windsurf share. Windsurf spells a remote
 * server's address `serverUrl`; it is read as `url` in all of them.
 */
export function mcpServersFormat(name: ClientFormat['name'], locations: ClientFormat['locations']): ClientFormat {
  return {
    name,
    locations,
    read(text, location, platform) {
      const data = parseJsonc(text, location.file);
      const container = data.mcpServers as Record<string, unknown> | undefined;
      const mapped =
        container !== null && typeof container === 'object'
          ? Object.fromEntries(Object.entries(container).map(([key, value]) => [key, withUrl(value)]))
          : container;
      return {
        servers: readServers(mapped, { prefix: 'mcpServers', topLevel: true, context: { home: platform.home } }),
        warnings: [],
      };
    },
    write: (text, launch, options) => writeEntry(text, 'mcpServers', plainEntry(launch), options),
    remove: (text) => removeEntry(text, 'mcpServers'),
  };
}

/** Claude Desktop's format. */
export const claudeDesktop: ClientFormat = mcpServersFormat('claude-desktop', (platform) => [
  { file: pathsOf(platform).join(appConfigDir(platform), 'Claude', 'claude_desktop_config.json'), scope: 'user' },
]);

function withUrl(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const { serverUrl, ...rest } = value as Record<string, unknown>;
  return serverUrl !== undefined && rest.url === undefined ? { ...rest, url: serverUrl } : value;
}
