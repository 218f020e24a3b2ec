/**
 * The `--embeddings` options of `bench selection` and `bench suite`: an embedding model configured as
 * `selector.embeddings` is in runtime.yaml, and the comparison they run (bench/embeddings.ts) printed
 * as one table per set: the lexical ranking, the ranking by meaning alone and the fusion at each weight,
 * next to plain BM25 from the same run.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { EmbeddingsSuiteSet, EmbeddingsVariant } from '../bench/embeddings.js';
import { memoEmbedder } from '../bench/embeddings.js';
import type { SelectionBenchOptions } from '../bench/selection.js';
import type { SuiteOptions } from '../bench/suite.js';
import { createLogger } from '../logging/logger.js';
import { resolveEmbeddingModel } from '../selection/embeddings.js';
import { EMBEDDINGS_WEIGHT } from '../selection/hybrid.js';
import { ToolVectors } from '../selection/vectors.js';
import { UsageError } from './failure.js';

/** The parsed embeddings options. */
export interface BenchEmbeddingsOptions {
  embeddings?: string;
  embeddingsProvider: 'openai' | 'ollama';
  embeddingsModel: string;
  embeddingsWeights: number[];
  embeddingsTimeoutMs: number;
  embeddingsKeyEnv?: string;
  vectorCache?: string;
}

/** Adds `--embeddings` and its settings to a bench command. */
export function addEmbeddingsOptions(command: Command): Command {
  return command
    .option(
      '--embeddings <url>',
      'compare lexical, embeddings-only and hybrid rankings, with the embedding model at this URL (as selector.embeddings.baseUrl)',
    )
    .addOption(
      new Option('--embeddings-provider <which>', 'as selector.embeddings.provider')
        .choices(['openai', 'ollama'])
        .default('openai'),
    )
    .option('--embeddings-model <name>', 'as selector.embeddings.model', 'default')
    .option('--embeddings-key-env <name>', 'as selector.embeddings.apiKeyEnv')
    .option(
      '--embeddings-weights <list>',
      `fusion weights of the ranking by meaning against the lexical 1, comma-separated (default ${EMBEDDINGS_WEIGHT}; choose on --half even)`,
      weights,
      [EMBEDDINGS_WEIGHT],
    )
    .option('--embeddings-timeout-ms <n>', 'as selector.embeddings.timeoutMs (a batch of tools may take 6×)', positive, 30_000)
    .option(
      '--vector-cache <dir>',
      'a state directory whose tool vector file is read and written (tools embedded once across runs)',
    );
}

/** The tool vectors and query memo for `--embeddings`, or undefined without it. */
export async function benchVectorsFor(options: BenchEmbeddingsOptions) {
  if (options.embeddings === undefined) return undefined;
  const model = await resolveEmbeddingModel({
    embeddings: {
      provider: options.embeddingsProvider,
      model: options.embeddingsModel,
      baseUrl: options.embeddings,
      timeoutMs: options.embeddingsTimeoutMs,
      ...(options.embeddingsKeyEnv !== undefined ? { apiKeyEnv: options.embeddingsKeyEnv } : {}),
    },
  });
  if (!model.embedder) throw new UsageError(`no embedding model: ${model.state.kind === 'off' ? model.state.reason : 'none'}`);
  const memo = memoEmbedder(model.embedder);
  const vectors = new ToolVectors({
    model: { ...model, embedder: memo },
    // Warnings (an unreadable cache, a failing service) go to stderr; stdout holds the report.
    logger: createLogger({ level: 'warn' }),
    ...(options.vectorCache !== undefined ? { stateDir: options.vectorCache } : {}),
  });
  return { vectors, weights: options.embeddingsWeights, prewarm: memo.prewarm };
}

/** What {@link benchVectorsFor} gives. */
type BenchVectors = NonNullable<Awaited<ReturnType<typeof benchVectorsFor>>>;

/** `bench selection --embeddings`: the comparison over one dataset, as text or JSON. */
export async function compareSelection({
  base,
  embeddings,
  label,
  json,
}: {
  base: Omit<SelectionBenchOptions, 'embeddings'>;
  embeddings: BenchVectors;
  label: string;
  json?: boolean;
}): Promise<string> {
  const { runEmbeddingsComparison } = await import('../bench/embeddings.js');
  const variants = await runEmbeddingsComparison({ ...base, ...embeddings });
  return json ? `${JSON.stringify({ variants }, null, 2)}\n` : formatComparison(label, variants);
}

/** `bench suite --embeddings`: the comparison over the four dev sets, as text or JSON. */
export async function compareSuite({
  suite,
  embeddings,
  json,
}: {
  suite: SuiteOptions;
  embeddings: BenchVectors;
  json?: boolean;
}): Promise<string> {
  const { runEmbeddingsSuite } = await import('../bench/embeddings.js');
  const sets = await runEmbeddingsSuite({ ...suite, ...embeddings });
  return json
    ? `${JSON.stringify({ datasets: suite.datasets, half: suite.half, sets }, null, 2)}\n`
    : formatSuiteComparison(sets);
}

/** One set's comparison as a table. */
export function formatComparison(label: string, variants: readonly EmbeddingsVariant[]): string {
  const first = variants[0]!.report;
  const ks = first.metrics.map((m) => m.k);
  const name = (variant: EmbeddingsVariant) =>
    variant.name === 'hybrid'
      ? `hybrid (weight ${variant.weight})`
      : variant.name === 'embeddings'
        ? 'embeddings only'
        : 'automcp lexical';
  const row = (title: string, recalls: readonly number[], candidates: number | undefined) =>
    `${title.padEnd(26)}${recalls.map((value) => value.toFixed(3).padStart(11)).join('')}${candidates !== undefined ? candidates.toFixed(3).padStart(20) : ''}`;
  const model = variants.find((variant) => variant.report.embeddings)?.report.embeddings?.model ?? '';
  return [
    `${label} · ${first.tools} tools on ${first.servers} servers · ${first.queries} queries (${first.half}) · embeddings ${model}`,
    `${''.padEnd(26)}${ks.map((k) => `Recall@${k}`.padStart(11)).join('')}${`cand. recall@${first.candidateRecall.candidates}`.padStart(20)}`,
    ...variants.map((variant) =>
      row(
        name(variant),
        variant.report.metrics.map((m) => m.recall),
        variant.report.candidateRecall.recall,
      ),
    ),
    row(
      'plain BM25',
      first.baseline.map((m) => m.recall),
      undefined,
    ),
    '',
  ].join('\n');
}

/** The suite's comparisons, one table per set. */
export function formatSuiteComparison(sets: readonly EmbeddingsSuiteSet[]): string {
  return `${sets.map((set) => formatComparison(set.label, set.variants)).join('\n')}`;
}

function weights(value: string): number[] {
  const list = value.split(',').map((part) => Number(part.trim()));
  if (list.length === 0 || list.some((weight) => !Number.isFinite(weight) || weight <= 0)) {
    throw new InvalidArgumentError('expected comma-separated positive numbers, e.g. 0.5,1,2');
  }
  return list;
}

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer of milliseconds');
  return parsed;
}
