/**
 * The commands that bring automcp into an existing setup: `init`, `import`, `install`, `uninstall`.
 * Their modules load only when one of them runs, so `serve` starts without the YAML and TOML editors.
 */
import { Option, type Command } from 'commander';
import { CLIENT_NAMES } from '../clients/types.js';

const clientOption = () =>
  new Option('--client <name>', 'the MCP client').choices(CLIENT_NAMES as unknown as string[]).makeOptionMandatory();
const fileOption = ['--file <path>', "the client's config file (default: where the client keeps it on this OS)"] as const;

/** Adds init, import, install and uninstall to `program`. */
export function addAdoptCommands(program: Command): void {
  program
    .command('init')
    .description('write a starter runtime.yaml and profiles to $XDG_CONFIG_HOME/automcp (default ~/.config/automcp)')
    .option('--here', 'write them in the current folder instead')
    .option('--force', 'overwrite files that exist')
    .action(async (options) => {
      process.exitCode = await (await import('./init.js')).initCommand(options);
    });

  program
    .command('import')
    .description("merge the MCP servers of a client's config into runtime.yaml (secrets go to .env beside it)")
    .requiredOption('--from <client|path>', `${CLIENT_NAMES.join(', ')}, or a config file`)
    .option('--config <path>', 'runtime.yaml or its folder (default: the usual lookup; created when there is none)')
    .option('--dry-run', 'print the diff of runtime.yaml and write nothing')
    .action(async (options) => {
      process.exitCode = await (await import('./import.js')).importCommand(options);
    });

  program
    .command('install')
    .description("write automcp's entry into a client's config (a backup of the file first)")
    .addOption(clientOption())
    .option('--profile <name>', 'the profile this client uses')
    .option('--replace', "import the client's servers behind automcp and leave automcp its only entry")
    .option('--config <path>', 'the runtime.yaml the entry serves (default: the usual lookup)')
    .option(...fileOption)
    .option('--dry-run', 'print the changes and write nothing')
    .action(async (options) => {
      process.exitCode = await (await import('./install.js')).installCommand(options);
    });

  program
    .command('uninstall')
    .description("take automcp out of a client's config (restores the backup when the file is as install left it)")
    .addOption(clientOption())
    .option(...fileOption)
    .action(async (options) => {
      process.exitCode = await (await import('./install.js')).uninstallCommand(options);
    });
}
