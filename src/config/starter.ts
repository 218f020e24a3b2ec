/**
 * The starter configuration `automcp init` writes (and `automcp import` / `install` when there is no
 * runtime.yaml yet): a runtime.yaml with no servers, and two profiles.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The starter runtime.yaml. */
export const STARTER_RUNTIME = `# automcp: the MCP servers behind the gateway (reference: docs/configuration.md).
# Bring in the servers your MCP clients already use:
#   automcp import --from claude-desktop     (or claude-code, cursor, vscode, windsurf, codex, or a file)
# or list them here, e.g.
#   github:
#     command: npx
#     args: [-y, "@modelcontextprotocol/server-github"]
#     env: {GITHUB_PERSONAL_ACCESS_TOKEN: "\${GITHUB_TOKEN}"}
# \${VAR} reads the environment, else the .env file beside this one (keep secrets there, mode 0600).
version: 1
profilesDir: ./profiles

servers: {}
`;

/** The starter profiles, by name. */
export const STARTER_PROFILES: Readonly<Record<string, string>> = {
  default: `# The default caller: sees and may use every tool.
description: A general assistant that may use every configured tool.
tools:
  allow: ['*']
selection:
  limit: 8
`,
  readonly: `# A caller that looks things up and never changes anything (serve --profile readonly).
description: Answers questions; never changes anything.
instructions: Prefer tools that read; never pick tools that write, move or delete.
tools:
  allow: ['*']
  readOnly: true
selection:
  limit: 5
`,
};

/** What {@link writeStarter} did, file by file. */
export interface StarterReport {
  written: string[];
  /** Files that existed and were left alone. */
  kept: string[];
}

/** Writes the starter into `dir` (creating it); existing files are kept unless `force`. */
export async function writeStarter({ dir, force = false }: { dir: string; force?: boolean }): Promise<StarterReport> {
  const report: StarterReport = { written: [], kept: [] };
  await mkdir(join(dir, 'profiles'), { recursive: true });
  const files: [string, string][] = [
    [join(dir, 'runtime.yaml'), STARTER_RUNTIME],
    ...Object.entries(STARTER_PROFILES).map(([name, text]): [string, string] => [join(dir, 'profiles', `${name}.yaml`), text]),
  ];
  for (const [file, text] of files) {
    try {
      await writeFile(file, text, { flag: force ? 'w' : 'wx' });
      report.written.push(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      report.kept.push(file);
    }
  }
  return report;
}
