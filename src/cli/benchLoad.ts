/**
 * `automcp bench load`: drives a running `automcp serve --http` with concurrent clients and prints
 * throughput, latency percentiles, errors and the gateway's memory. Exits non-zero when any call failed.
 */
import { Command, InvalidArgumentError } from 'commander';
import { runLoad, type LatencySummary, type LoadReport } from '../bench/load.js';

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

/** Adds the `load` subcommand to `bench`. */
export function addLoadCommand(bench: Command): Command {
  return bench
    .command('load')
    .description('load-test a running `automcp serve --http` with concurrent clients')
    .option('--url <url>', 'the MCP endpoint', 'http://127.0.0.1:8931/mcp')
    .option('--clients <n>', 'concurrent MCP clients', positive, 50)
    .option('--calls <n>', 'calls in total, shared by the clients', positive, 2000)
    .option('--token <token>', 'bearer token of a caller (default: $AUTOMCP_TOKEN)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { url: string; clients: number; calls: number; token?: string; json?: boolean }) => {
      const token = options.token ?? (process.env.AUTOMCP_TOKEN || undefined);
      let report: LoadReport;
      try {
        report = await runLoad({
          url: options.url,
          clients: options.clients,
          calls: options.calls,
          ...(token !== undefined ? { token } : {}),
        });
      } catch (error) {
        // Most often the gateway is not running at --url, or the token is not a caller's.
        process.stderr.write(`automcp bench load: cannot run against ${options.url}: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const ms = (value: number) => `${value.toFixed(1)} ms`;
        const row = (name: string, s: LatencySummary) =>
          `${name.padEnd(16)} ${String(s.count).padStart(6)}  p50 ${ms(s.p50).padStart(10)}  p99 ${ms(s.p99).padStart(10)}  max ${ms(s.max).padStart(10)}`;
        const mib = (bytes?: number) => (bytes === undefined ? 'n/a (no /metrics)' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
        process.stdout.write(
          [
            `${report.calls} calls by ${report.clients} clients against ${report.url} in ${(report.durationMs / 1000).toFixed(2)} s`,
            `throughput       ${report.callsPerSecond.toFixed(1)} calls/s`,
            row('all calls', report.latency),
            row('automatic_mcp', report.byTool.automatic_mcp),
            row('automatic_eval', report.byTool.automatic_eval),
            `errors           ${report.errors}`,
            ...report.errorSamples.map((sample) => `  ${sample}`),
            `gateway RSS      ${mib(report.rssBeforeBytes)} before, ${mib(report.rssAfterBytes)} after`,
            '',
          ].join('\n'),
        );
      }
      process.exitCode = report.errors > 0 ? 1 : 0;
    });
}
