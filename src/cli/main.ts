#!/usr/bin/env node
/**
 * The `automcp` command. The only module (with its siblings in cli/) that writes to stdout or exits;
 * a failure the person can fix prints one line saying what to fix and exits 1 (failure.ts).
 *
 * Each command's module is loaded when that command runs: every MCP client spawns its own `serve`, and
 * it should not pay for loading what only `bench`, `demo` or `check` use.
 */
import v8 from 'node:v8';
import { Command, InvalidArgumentError } from 'commander';
import { VERSION } from '../gateway/server.js';
import { describeFailure } from './failure.js';
import { addAdoptCommands } from './adopt.js';
import { applyHeapGrowing, type HeapGrowing } from './heap.js';
import { checkServeOptions, DEFAULT_HOST, DEFAULT_PORT } from './serveOptions.js';

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
  .option('--host <address>', `address to listen on with --http (default: ${DEFAULT_HOST})`)
  .option('--port <n>', `port to listen on with --http (default: ${DEFAULT_PORT}; 0: any free port)`, port)
  .option('--verbose', 'debug logging on stderr')
  .action(async (options) => {
    checkServeOptions(options);
    const { serveCommand } = await import('./serve.js');
    await serveCommand(options);
  });

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
  .action(async (query: string[], options) => {
    const { selectCommand } = await import('./inspect.js');
    await selectCommand(query.join(' '), options);
  });

program
  .command('tools')
  .description('list the catalog this profile sees')
  .option(...configOption)
  .option(...profileOption)
  .option('--json', 'print the definitions as JSON')
  .option('--verbose', 'debug logging on stderr')
  .action(async (options) => {
    const { toolsCommand } = await import('./inspect.js');
    await toolsCommand(options);
  });

program
  .command('check')
  .description('validate the configuration, connect to every server, report tools per server and the selector')
  .option(...configOption)
  .option(...profileOption)
  .option('--json', 'print the report as JSON')
  .option('--probe', 'send the selector.llm model one small selection request and report it')
  .option('--verbose', 'debug logging on stderr')
  .action(async (options) => {
    const { checkCommand } = await import('./inspect.js');
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
    const { demoCommand } = await import('./demo.js');
    process.exitCode = await demoCommand(options);
  });

// bench selection|overhead|startup, plus bench load against a running serve --http. Its subcommands are
// defined where their runners are, so the group is loaded for every command but `serve`.
if (process.argv[2] !== 'serve') {
  const [{ createBenchCommand }, { addLoadCommand }] = await Promise.all([import('./bench.js'), import('./benchLoad.js')]);
  const bench = createBenchCommand({ heap });
  addLoadCommand(bench);
  program.addCommand(bench);
}

program
  .command('status')
  .description('show the servers of every running automcp serve: state, pid, tools, last error')
  .option(...configOption)
  .option('--json', 'print the status as JSON')
  .action(async (options) => {
    const { statusCommand } = await import('./status.js');
    process.exitCode = await statusCommand(options);
  });

program
  .command('reload')
  .description('make every running automcp serve of this config read runtime.yaml and the profiles again now')
  .option(...configOption)
  .option('--json', "print each gateway's outcome as JSON")
  .action(async (options) => {
    const { reloadCommand } = await import('./reload.js');
    process.exitCode = await reloadCommand(options);
  });

program
  .command('learned')
  .description('show what selection learned from use, per profile and tool; --forget clears it')
  .option(...configOption)
  .option('--profile <name>', 'only this profile (default: every profile with learned evidence)')
  .option('--forget [tool]', 'forget what was learned for this qualified tool name, or everything')
  .option('--json', 'print as JSON')
  .action(async (options) => {
    const { learnedCommand } = await import('./learned.js');
    process.exitCode = await learnedCommand(options);
  });

program
  .command('trust')
  .description('accept the current tool definitions of a server (releases tools held back by pinDefinitions)')
  .argument('<server>', 'the server name in runtime.yaml')
  .option(...configOption)
  .option('--json', 'print what was trusted as JSON')
  .option('--verbose', 'debug logging on stderr')
  .action(async (server: string, options) => {
    const { trustCommand } = await import('./trust.js');
    process.exitCode = await trustCommand(server, options);
  });

const review = program
  .command('review')
  .description('show what a server would add (tools, schemas, poisoning findings) before its tools reach any caller')
  .argument('[server]', 'the server name in runtime.yaml (default: list the servers waiting for review)')
  .option(...configOption)
  .option('--json', 'print the review as JSON')
  .option('--verbose', 'debug logging on stderr')
  .action(async (server: string | undefined, options) => {
    const { reviewCommand } = await import('./review.js');
    process.exitCode = await reviewCommand(server, options);
  });

review
  .command('approve')
  .description("approve a server's current tool definitions and entry: releases quarantine and accepts findings")
  .argument('<server>', 'the server name in runtime.yaml')
  .option(...configOption)
  .option('--digest <hex>', 'the digest `automcp review SERVER` printed: refuse if the server now lists anything else')
  .option('--json', 'print what was approved as JSON')
  .option('--verbose', 'debug logging on stderr')
  .action(async (server: string, options, command: Command) => {
    const { approveCommand } = await import('./review.js');
    process.exitCode = await approveCommand(server, { ...command.parent?.opts(), ...options });
  });

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 3600) throw new InvalidArgumentError('expected seconds from 1 to 3600');
  return parsed;
}

program
  .command('login')
  .description('sign in to a remote server that asks for it (OAuth in the browser); the tokens stay in the state directory')
  .argument('<server>', 'the server name in runtime.yaml (a `url` server)')
  .option(...configOption)
  .option('--timeout <seconds>', 'how long to wait for the browser (default 300)', seconds)
  .option('--no-browser', 'only print the sign-in URL (for a machine without a browser)')
  .option('--json', 'print the result as JSON')
  .action(async (server: string, options) => {
    const { loginCommand } = await import('./login.js');
    process.exitCode = await loginCommand(server, options);
  });

program
  .command('logout')
  .description("forget a remote server's sign-in")
  .argument('<server>', 'the server name in runtime.yaml')
  .option(...configOption)
  .action(async (server: string, options) => {
    const { logoutCommand } = await import('./login.js');
    process.exitCode = await logoutCommand(server, options);
  });

const runs = program
  .command('runs')
  .description('list the run traces of automatic_mcp and automatic_eval calls, newest first')
  .option(...configOption)
  .option('--caller <name>', 'only this caller')
  .option('--since <when>', 'only runs since a duration ago (30m, 1h, 2d) or a date')
  .option('--tool <glob>', 'only calls of a matching tool, and selections that chose one')
  .option('--limit <n>', 'most runs to list (default 50)')
  .option('--json', 'print the records as JSON')
  .action(async (options) => {
    const { runsCommand } = await import('./runs.js');
    process.exitCode = await runsCommand(options);
  });

runs
  .command('show')
  .description("show one run: for a selection, the lexical ranking beside the model's choice and reasons")
  .argument('<runId>', 'the runId automatic_mcp returned, or one `automcp runs` lists')
  .option(...configOption)
  .option('--json', 'print the record as JSON')
  .action(async (runId: string, options, command: Command) => {
    const { runShowCommand } = await import('./runs.js');
    process.exitCode = await runShowCommand(runId, { ...command.parent?.opts(), ...options });
  });

addAdoptCommands(program);

program
  .command('ui')
  .description('serve the dashboard (servers, runs, savings, try) on loopback, from the state directory')
  .option(...configOption)
  .option(...profileOption)
  .option('--host <address>', 'loopback address to listen on (default: 127.0.0.1)')
  .option('--port <n>', 'port to listen on (default: 8932; 0: any free port)', port)
  .option('--verbose', 'debug logging on stderr')
  .action(async (options) => {
    const { uiCommand } = await import('./ui.js');
    await uiCommand(options);
  });

try {
  await program.parseAsync(process.argv);
  // One-shot commands are done: do not wait on stray handles of stopped children.
  if (program.args[0] !== 'serve' && program.args[0] !== 'ui') process.exit(process.exitCode ?? 0);
} catch (error) {
  process.stderr.write(describeFailure(error, { verbose: process.argv.includes('--verbose') }));
  process.exit(1);
}
