/** `automcp install` and `uninstall`: print what changed in the client's file (and in runtime.yaml with --replace). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { install, uninstall, type InstallContext } from '../clients/install.js';
import { currentPlatform } from '../clients/paths.js';
import { isClientError, type ClientName } from '../clients/types.js';
import { resolveStateDir } from '../state/stateDir.js';
import { printImport } from './import.js';

function context(): InstallContext {
  const platform = currentPlatform();
  const cli = fileURLToPath(new URL('./main.js', import.meta.url));
  // Run from npx's cache: the entry must not point into it (see InstallContext.npx).
  const npxBin = join(dirname(process.execPath), process.platform === 'win32' ? 'npx.cmd' : 'npx');
  const fromNpx = cli.split(/[\\/]/).includes('_npx');
  return {
    platform,
    stateDir: resolveStateDir({ env: platform.env }),
    node: process.execPath,
    cli,
    ...(fromNpx ? { npx: existsSync(npxBin) ? npxBin : 'npx' } : {}),
  };
}

/** Runs install; returns the exit code. */
export async function installCommand(options: {
  client: ClientName;
  profile?: string;
  replace?: boolean;
  config?: string;
  file?: string;
  dryRun?: boolean;
}): Promise<number> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  try {
    const report = await install(options, context());
    if (report.imported !== undefined) printImport(report.imported, options.dryRun === true);
    if (options.dryRun) {
      out(report.diff.trimEnd());
      out('Dry run: nothing was written.');
      return 0;
    }
    if (report.backup !== null) out(`Backup of ${report.file}: ${report.backup}`);
    if (report.removed.length > 0) out(`Removed from ${options.client} (now behind automcp): ${report.removed.join(', ')}`);
    out(`Wrote the automcp entry into ${report.file}:`);
    out(`  ${[report.launch.command, ...report.launch.args].join(' ')}`);
    out(`Restart ${options.client} to pick it up. To undo: automcp uninstall --client ${options.client}`);
    return 0;
  } catch (error) {
    if (!isClientError(error)) throw error;
    process.stderr.write(`automcp: ${error.message}\n`);
    return 1;
  }
}

/** Runs uninstall; returns the exit code. */
export async function uninstallCommand(options: { client: ClientName; file?: string }): Promise<number> {
  try {
    const report = await uninstall(options, context());
    const lines = {
      restored: `Restored ${report.file} as it was before automcp install.`,
      'removed-entry': `Removed the automcp entry from ${report.file} (the file changed since install, so the rest is left as it is).${
        report.backup !== null ? ` The file as it was before install: ${report.backup}` : ''
      }`,
      'not-installed': `automcp is not in ${report.file}; nothing changed.`,
    } as const;
    process.stdout.write(`${lines[report.action]}\n`);
    return 0;
  } catch (error) {
    if (!isClientError(error)) throw error;
    process.stderr.write(`automcp: ${error.message}\n`);
    return 1;
  }
}
