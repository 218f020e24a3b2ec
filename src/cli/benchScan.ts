/**
 * `automcp bench scan`: false positives of poisoning detection on real catalogs and what it catches
 * of a poisoned set (bench/scan.ts). Figures go to stdout; a missed attack makes the exit code 1.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DatasetError, loadDataset } from '../bench/dataset.js';
import { formatScanReport, runScanBench } from '../bench/scan.js';

interface ScanOptions {
  dataset: string[];
  attacks?: string;
  worst: number;
  json?: boolean;
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a whole number');
  return parsed;
}

/** The `scan` subcommand of `bench`. */
export function scanCommand(): Command {
  return new Command('scan')
    .description('poisoning detection: false-positive rate on real catalogs, and detection of a poisoned set')
    .requiredOption('--dataset <files...>', 'datasets whose tools count as benign (CONTRACT §5 format)')
    .option('--attacks <file>', 'poisoned definitions, {"tools": [{"class", "source", "tool"}]}; each must be caught')
    .option('--worst <n>', 'flagged benign tools to list', count, 20)
    .option('--json', 'print the report as JSON')
    .action(async (options: ScanOptions) => {
      try {
        const datasets = await Promise.all(options.dataset.map((file) => loadDataset(file)));
        const report = await runScanBench({
          datasets,
          worst: options.worst,
          ...(options.attacks !== undefined ? { attacksFile: options.attacks } : {}),
        });
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatScanReport(report));
        if (report.attacks && report.attacks.caught < report.attacks.total) process.exitCode = 1;
      } catch (error) {
        if (!(error instanceof DatasetError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        process.stderr.write(`automcp: ${(error as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
