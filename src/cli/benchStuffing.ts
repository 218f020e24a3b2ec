/**
 * `automcp bench stuffing`: a keyword-stuffed tool built from each dev set's own requests joins the
 * catalog; how often it reaches the top 5, and what it costs in recall, for automcp, for the ranker
 * without its breadth defence, and for plain BM25 (src/bench/stuffing.ts). A table, or JSON.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { QueryHalf } from '../bench/selection.js';
import { SUITE_SAMPLE } from '../bench/suite.js';
import { profileSchema, runtimeSchema } from '../config/schema.js';

interface StuffingOptions {
  datasets?: string;
  half: QueryHalf;
  sample: number;
  json?: boolean;
}

/** The `stuffing` subcommand of `bench`. */
export function stuffingCommand(): Command {
  return new Command('stuffing')
    .description('add a tool stuffed with the request words of each dev set: how often it reaches the top 5, next to plain BM25')
    .option(
      '--datasets <dir>',
      'folder with metatool.json, toolgym-tasks.json, toolgym-catalog.json (default: $AUTOMCP_DATASETS, else ../shared/datasets)',
    )
    .option('--half <which>', 'all queries, or every other one by position: all | even | odd', half, 'all')
    .option('--sample <n>', `queries per set at most, spread evenly (default ${SUITE_SAMPLE})`, positive, SUITE_SAMPLE)
    .option('--json', 'print the report as JSON')
    .action(async (options: StuffingOptions) => {
      // Loaded here, not at start: only this command needs them.
      const [{ DatasetError }, { resolveDatasets }, { formatStuffing, runStuffingBench, worstShare }] = await Promise.all([
        import('../bench/dataset.js'),
        import('../bench/suite.js'),
        import('../bench/stuffing.js'),
      ]);
      try {
        const datasets = await resolveDatasets(options.datasets);
        const sets = await runStuffingBench({
          datasets,
          profile: { ...profileSchema.parse({}), name: 'default' },
          candidates: runtimeSchema.parse({ version: 1 }).selector.candidates,
          half: options.half,
          sample: options.sample,
          onStep: (label) => {
            if (process.stderr.isTTY) process.stderr.write(`stuffing: ${label}\n`);
          },
        });
        const worst = {
          automcp: worstShare(sets, 'automcp'),
          undefended: worstShare(sets, 'undefended'),
          bm25: worstShare(sets, 'bm25'),
        };
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ datasets, half: options.half, worst, sets }, null, 2)}\n`
            : formatStuffing(sets, options.half),
        );
      } catch (error) {
        if (!(error instanceof DatasetError)) throw error;
        process.stderr.write(`automcp: dataset error in ${error.message}\n`);
        process.exitCode = 1;
      }
    });
}

function half(value: string): QueryHalf {
  if (value !== 'all' && value !== 'even' && value !== 'odd') throw new InvalidArgumentError('expected all, even or odd');
  return value;
}

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}
