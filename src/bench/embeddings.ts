/**
 * The embeddings comparison of `bench selection --embeddings URL` and `bench suite --embeddings URL`:
 * the same queries ranked lexically, by meaning alone, and fused at each weight asked for, in one run
 * with one set of tool vectors — so the three differ only in the ranking. Fusion weights are meant to
 * be chosen on `--half even` and reported on `--half odd`.
 *
 * Query vectors are kept in memory for the run (every variant asks for the same texts) and computed up
 * front in batches, which a local encoder answers several times faster per text than one at a time.
 */
import { join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Embedder } from '../selection/embeddings.js';
import type { ToolVectors } from '../selection/vectors.js';
import { loadDataset, type Dataset } from './dataset.js';
import { chosenQueries, runSelectionBench, type SelectionBenchOptions, type SelectionReport } from './selection.js';
import { SUITE_FILES, SUITE_SAMPLE, type SuiteOptions } from './suite.js';

/** Texts per request when query vectors are computed up front. */
const PREWARM_BATCH = 64;

/** One ranking of the comparison and what it measured. */
export interface EmbeddingsVariant {
  /** `lexical`, `embeddings` (the ranking by meaning alone) or `hybrid`. */
  name: 'lexical' | 'embeddings' | 'hybrid';
  /** The weight of the ranking by meaning against the lexical ranking's 1; absent for `lexical`. */
  weight?: number;
  report: SelectionReport;
}

/** An embedder that answers each text once per run, and can be asked for many texts up front. */
export function memoEmbedder(inner: Embedder): Embedder & { prewarm(texts: readonly string[]): Promise<void> } {
  const memo = new Map<string, number[]>();
  const embedDocuments = async (texts: string[]) => {
    const missing = [...new Set(texts.filter((text) => !memo.has(text)))];
    if (missing.length > 0) {
      // One more try: a local encoder on a busy machine may drop a connection, and a run is long.
      const vectors = await inner.embedDocuments(missing).catch(() => inner.embedDocuments(missing));
      missing.forEach((text, i) => memo.set(text, vectors[i]!));
    }
    return texts.map((text) => memo.get(text)!);
  };
  return {
    embedDocuments,
    embedQuery: async (text) => (await embedDocuments([text]))[0]!,
    async prewarm(texts) {
      for (let at = 0; at < texts.length; at += PREWARM_BATCH) await embedDocuments(texts.slice(at, at + PREWARM_BATCH));
    },
  };
}

/** Runs the lexical, embeddings-only and hybrid rankings (one per weight) over the same queries. */
export async function runEmbeddingsComparison(
  options: Omit<SelectionBenchOptions, 'embeddings'> & {
    vectors: ToolVectors;
    weights: readonly number[];
    /** Computes the query vectors up front (see {@link memoEmbedder}). */
    prewarm?: (texts: readonly string[]) => Promise<void>;
  },
): Promise<EmbeddingsVariant[]> {
  const { vectors, weights, prewarm, ...base } = options;
  const queries = chosenQueries(base.dataset, base.half ?? 'all', base.sample);
  try {
    await prewarm?.(queries.flatMap((query) => [query.query, ...((query as { needs?: string[] }).needs ?? [])]));
  } catch (error) {
    throw new GatewayError('INVALID_INPUT', `the embeddings service failed: ${(error as Error).message}`);
  }
  const variants: EmbeddingsVariant[] = [{ name: 'lexical', report: await runSelectionBench(base) }];
  for (const weight of [Infinity, ...weights]) {
    const report = await runSelectionBench({ ...base, embeddings: { vectors, weight } });
    variants.push({
      name: Number.isFinite(weight) ? 'hybrid' : 'embeddings',
      ...(Number.isFinite(weight) ? { weight } : {}),
      report,
    });
  }
  return variants;
}

/** One set of the suite and its comparison. */
export interface EmbeddingsSuiteSet {
  label: string;
  variants: EmbeddingsVariant[];
}

/** The comparison over the four sets of the selection dev suite (suite.ts). */
export async function runEmbeddingsSuite(
  options: SuiteOptions & Pick<Parameters<typeof runEmbeddingsComparison>[0], 'vectors' | 'weights' | 'prewarm'>,
): Promise<EmbeddingsSuiteSet[]> {
  const {
    datasets,
    onSet,
    modelFor,
    decompose,
    compact,
    ks,
    profile,
    candidates,
    half,
    sample,
    onProgress,
    vectors,
    weights,
    prewarm,
  } = options;
  const metatool = await loadDataset(join(datasets, SUITE_FILES.metatool));
  const tasks = await loadDataset(join(datasets, SUITE_FILES.tasks));
  const distractors = await loadDataset(join(datasets, SUITE_FILES.distractors));
  const sets: [string, Dataset, Dataset[]][] = [
    ['MetaTool', metatool, []],
    ['MetaTool + ToolGym distractors', metatool, [distractors]],
    ['toolgym-tasks', tasks, []],
    ['toolgym-tasks + ToolGym distractors', tasks, [distractors]],
  ];
  const results: EmbeddingsSuiteSet[] = [];
  for (const [label, dataset, extra] of sets) {
    onSet?.(label);
    const model = await modelFor?.(dataset);
    const variants = await runEmbeddingsComparison({
      dataset,
      distractors: extra,
      profile,
      ks,
      candidates,
      half,
      sample: sample ?? SUITE_SAMPLE,
      vectors,
      weights,
      ...(prewarm ? { prewarm } : {}),
      ...(model ? { model } : {}),
      ...(decompose ? { decompose } : {}),
      ...(compact ? { compact: true } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
    results.push({ label, variants });
  }
  return results;
}
