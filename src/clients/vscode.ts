/**
 * VS Code: `mcp.json` in the user settings folder (`Code/User/`) and `.vscode/mcp.json` in a workspace.
 * Servers are under `servers` (not `mcpServers`) with a `type`; `inputs` declares prompts that values
 * reference as `${input:id}` — automcp cannot prompt, so those become variables to set in `.env`, with a warning.
 */
import { parseJsonc, readServers, removeEntry, writeEntry } from './json.js';
import { appConfigDir, pathsOf } from './paths.js';
import type { ClientFormat } from './types.js';

/** VS Code's format. */
export const vscode: ClientFormat = {
  name: 'vscode',
  locations(platform) {
    const { join } = pathsOf(platform);
    return [
      { file: join(appConfigDir(platform), 'Code', 'User', 'mcp.json'), scope: 'user' },
      { file: join(platform.cwd, '.vscode', 'mcp.json'), scope: 'project' },
    ];
  },
  read(text, location, platform) {
    const { dirname } = pathsOf(platform);
    const data = parseJsonc(text, location.file);
    const inputs = new Map<string, string>();
    if (Array.isArray(data.inputs)) {
      for (const input of data.inputs as { id?: unknown; description?: unknown }[]) {
        if (typeof input?.id === 'string') inputs.set(input.id, typeof input.description === 'string' ? input.description : '');
      }
    }
    const workspace = dirname(location.file).endsWith('.vscode') ? dirname(dirname(location.file)) : undefined;
    const servers = readServers(data.servers, {
      prefix: 'servers',
      topLevel: true,
      context: { home: platform.home, inputs, ...(workspace !== undefined ? { workspace } : {}) },
    });
    const warnings =
      data.servers === undefined && data.mcpServers !== undefined
        ? [`${location.file}: VS Code reads \`servers\`, not \`mcpServers\`; nothing imported from it`]
        : [];
    return { servers, warnings };
  },
  write: (text, launch, options) =>
    writeEntry(text, 'servers', { type: 'stdio', command: launch.command, args: launch.args }, options),
  remove: (text) => removeEntry(text, 'servers'),
};
