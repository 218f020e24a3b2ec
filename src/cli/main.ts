#!/usr/bin/env node
/**
 * The `automcp` command. The only module (with its siblings in cli/) that writes to stdout or exits;
 * configuration errors print what to fix and exit 1.
 */
import v8 from 'node:v8';
import { Command, InvalidArgumentError } from 'commander';
import { isConfigError } from '../errors.js';
import { VERSION } from '../gateway/server.js';
import { addAdoptCommands } from './adopt.js';
import { addLoadCommand } from './benchLoad.js';
import { createBenchCommand } from './bench.js';
import { applyHeapGrowing, type HeapGrowing } from './heap.js';
import { demoCommand } from './demo.js';
import { checkCommand, selectCommand, toolsCommand } from './inspect.js';
import { serveCommand } from './serve.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './serveHttp.js';
import { statusCommand } from './status.js';
import { trustCommand } from './trust.js';

// Before anything is loaded: a 10k-tool catalog otherwise peaks at twice its RSS in garbage (heap.ts).
let heap: HeapGrowing;
try {
  heap = applyHeapGrowing({ env: process.env, execArgv: process.execArgv, setFlags: (flags) => v8.setFlagsFromString(flags) });
} catch (error) {
  process.stderr.write(`automcp: ${(error as Error).message}\n`);
  process.exit(1);
}

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 50) throw new InvalidArgumentError('expected an integer from 1 to 50');
  return parsed;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new InvalidArgumentError('expected a port from 0 to 65535 (0: any free port)');
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
  .description('run the stdio MCP server (what an MCP client config starts), or with --http the Streamable HTTP server')
  .option(...configOption)
  .option(...profileOption)
  .option('--http', 'serve Streamable HTTP at /mcp instead of stdio (callers and tokens from runtime.yaml)')
  .option('--host <address>', 'address to listen on with --http', DEFAULT_HOST)
  .option('--port <n>', 'port to listen on with --http (0: any free port)', port, DEFAULT_PORT)
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
  .option('--explain', "show the lexical ranking, the LLM's choice and its reasons side by side")
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
  .description('validate the configuration, connect to every server, report tools per server and the selector')
  .option(...configOption)
  .option(...profileOption)
  .option('--json', 'print the report as JSON')
  .option('--probe', 'send the selector.llm model one small selection request and report it')
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

// bench selection|overhead, plus bench load against a running serve --http.
const bench = createBenchCommand({ heap });
addLoadCommand(bench);
program.addCommand(bench);

program
  .command('status')
  .description('show the servers of every running automcp serve: state, pid, tools, last error')
  .option(...configOption)
  .option('--json', 'print the status as JSON')
  .action(async (options) => {
    process.exitCode = await statusCommand(options);
  });

program
  .command('trust')
  .description('accept the current tool definitions of a server (releases tools held back by pinDefinitions)')
  .argument('<server>', 'the server name in runtime.yaml')
  .option(...configOption)
  .option('--json', 'print what was trusted as JSON')
  .option('--verbose', 'debug logging on stderr')
  .action(async (server: string, options) => {
    process.exitCode = await trustCommand(server, options);
  });

addAdoptCommands(program);

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
