#!/usr/bin/env node
/**
 * The `automcp` command. The only module (with its siblings in cli/) that writes to stdout or exits;
 * configuration errors print what to fix and exit 1.
 */
import { Command, InvalidArgumentError } from 'commander';
import { isConfigError } from '../errors.js';
import { VERSION } from '../gateway/server.js';
import { createBenchCommand } from './bench.js';
import { demoCommand } from './demo.js';
import { checkCommand, selectCommand, toolsCommand } from './inspect.js';
import { serveCommand } from './serve.js';

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 50) throw new InvalidArgumentError('expected an integer from 1 to 50');
  return parsed;
}

const program = new Command()
  .name('automcp')
  .description('An MCP gateway: two tools upstream, every server you use behind them.')
  .version(VERSION);

const configOption = ['--config <path>', 'runtime.yaml or its folder (default: $AUTOMCP_CONFIG, else ./runtime.yaml)'] as const;
const profileOption = ['--profile <name>', 'caller profile (default: $AUTOMCP_PROFILE, else "default")'] as const;

program
  .command('serve')
  .description('run the stdio MCP server (what an MCP client config starts)')
  .option(...configOption)
  .option(...profileOption)
  .option('--verbose', 'debug logging on stderr')
  .action(async (options) => serveCommand(options));

program
  .command('select')
  .description('show what automatic_mcp would return for a task')
  .argument('<query...>', 'the task, in plain words')
  .option(...configOption)
  .option(...profileOption)
  .option('--session <id>', 'sessionId to use (a one-shot command starts with an empty session store)')
  .option('--fresh', 'forget what the session was sent first')
  .option('--limit <n>', 'most tools to return', integer)
  .option('--json', 'print the automatic_mcp output as JSON')
  .option('--verbose', 'debug logging on stderr')
  .action(async (query: string[], options) => selectCommand(query.join(' '), options));

program
  .command('tools')
  .description('list the catalog this profile sees')
  .option(...configOption)
  .option(...profileOption)
  .option('--json', 'print the definitions as JSON')
  .option('--verbose', 'debug logging on stderr')
  .action(async (options) => toolsCommand(options));

program
  .command('check')
  .description('validate the configuration, connect to every server, report tools per server')
  .option(...configOption)
  .option(...profileOption)
  .option('--json', 'print the report as JSON')
  .option('--verbose', 'debug logging on stderr')
  .action(async (options) => {
    process.exitCode = await checkCommand(options);
  });

program
  .command('demo')
  .description('run the bundled runtime.yaml against real servers and show a scripted session')
  .option(
    '--config <path>',
    'another runtime.yaml with the same filesystem, memory and everything servers (default: the bundled one)',
  )
  .option('--verbose', 'gateway logs on stderr')
  .action(async (options) => {
    process.exitCode = await demoCommand(options);
  });

program.addCommand(createBenchCommand());

try {
  await program.parseAsync(process.argv);
  // One-shot commands are done: do not wait on stray handles of stopped children.
  if (program.args[0] !== 'serve') process.exit(process.exitCode ?? 0);
} catch (error) {
  if (isConfigError(error)) {
    process.stderr.write(`automcp: configuration error in ${error.message}\n`);
  } else {
    process.stderr.write(`automcp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
}
