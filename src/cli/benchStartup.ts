/**
 * `automcp bench startup`: how long a client waits for `tools/list` after spawning `automcp serve`, and
 * how much memory the gateway holds after its first selection, over N runs with a warm catalog cache.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import type { StartupReport, Spread } from '../bench/startup.js';

const BUNDLED = fileURLToPath(new URL('../../runtime.yaml', import.meta.url));
const ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));

interface StartupOptions {
  runs: number;
  config?: string;
  entry?: string;
  json?: boolean;
}

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

/** The `startup` subcommand of `bench`. */
export function startupCommand(): Command {
  return new Command('startup')
    .description('spawn `automcp serve` N times: time to a tools/list answer, and gateway RSS after the first selection')
    .option('--runs <n>', 'measured runs (after one that warms the catalog cache)', positive, 5)
    .option('--config <path>', 'runtime.yaml or its folder (default: the bundled one)')
    .option('--entry <file>', 'another build of the automcp CLI to measure the same way (its dist/cli/main.js)')
    .option('--json', 'print the report as JSON')
    .action(async (options: StartupOptions) => {
      // Loaded here, not at start: only this command needs them.
      const [{ runStartupBench }, { loadConfig }] = await Promise.all([
        import('../bench/startup.js'),
        import('../config/load.js'),
      ]);
      const config = await loadConfig({ path: options.config ?? BUNDLED });
      if (config.selector.llm) {
        process.stderr.write(
          `automcp bench startup: note: ${config.file} configures selector.llm (${config.selector.llm.provider}); the targets are for no model\n`,
        );
      }
      let report: StartupReport;
      try {
        report = await runStartupBench({
          runs: options.runs,
          entry: resolve(options.entry ?? ENTRY),
          config: config.file,
          servers: config.servers.length,
        });
      } catch (error) {
        // Most often serve itself could not start (its stderr is in the message), or a server never listed its tools.
        process.stderr.write(`automcp bench startup: ${(error as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStartup(report));
    });
}

function formatStartup(report: StartupReport): string {
  const line = (label: string, s: Spread, unit: string, digits: number) =>
    `${label.padEnd(24)} min ${s.min.toFixed(digits).padStart(7)} · median ${s.median.toFixed(digits).padStart(7)} · max ${s.max.toFixed(digits).padStart(7)} ${unit}`;
  return (
    [
      `start-up: ${report.runs} runs of \`serve\` with a warm catalog cache · ${report.config} · node ${report.node}`,
      line('spawn → tools/list', report.toolsListMs, 'ms', 0),
      line('first automatic_mcp', report.selectionMs, 'ms', 0),
      line('gateway RSS after it', report.rssMB, 'MB', 1),
    ].join('\n') + '\n'
  );
}
