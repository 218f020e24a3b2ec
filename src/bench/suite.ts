/**
 * The selection dev suite: four catalogs that differ in what a ranker can lean on — one-tool servers
 * without schemas (MetaTool), multi-tool servers with real schemas and requests written as users write
 * them (toolgym-tasks), and each of them lost among the ~10k tools of the ToolGym Smithery catalog — run
 * in one go, each figure next to plain BM25 measured in the same run. A ranker change that helps one of
 * them and hurts another shows up here as a fit, not an improvement.
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Profile } from '../config/load.js';
import { DatasetError, loadDataset, type Dataset } from './dataset.js';
import { runSelectionBench, type QueryHalf, type SelectionBenchOptions, type SelectionReport } from './selection.js';

/** The dataset files the suite reads, by their names in shared/datasets. */
export const SUITE_FILES = {
  metatool: 'metatool.json',
  tasks: 'toolgym-tasks.json',
  distractors: 'toolgym-catalog.json',
} as const;

/**
 * Queries per set and half: MetaTool's 10,000+ per half are sampled at even steps (the file is sorted by
 * tool) so the suite runs in minutes on two cores; toolgym-tasks' 200 per half all run.
 */
export const SUITE_SAMPLE = 2000;

/** One set of the suite and what it measured. */
export interface SuiteSet {
  label: string;
  report: SelectionReport;
}

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  /** Folder holding the {@link SUITE_FILES}. */
  datasets: string;
  profile: Profile;
  candidates: number;
  half: QueryHalf;
  ks: readonly number[];
  /** Queries per set at most (spread evenly); default {@link SUITE_SAMPLE}. */
  sample?: number;
  onSet?: (label: string) => void;
  /** The chat model behind the LLM node for a set (the oracle needs the set's labels); none: lexical. */
  modelFor?: (dataset: Dataset) => Promise<SelectionBenchOptions['model'] | undefined>;
  /** With a model: the decompose stage and compact lines (runtime.yaml `selector.decompose`, `selector.compact`). */
  decompose?: boolean | 'always';
  compact?: boolean;
  /** With a model: the server-first stage and the rewrite (runtime.yaml `selector.serverFirst`, `selector.rewrite`). */
  serverFirst?: boolean | 'lexical';
  rewrite?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The folder to read datasets from: `--datasets`, else `$AUTOMCP_DATASETS`, else `../shared/datasets`
 * (a clone or worktree next to shared/). Fails with what to pass when it holds no suite file.
 */
export async function resolveDatasets(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const folder = resolve(explicit ?? env.AUTOMCP_DATASETS ?? '../shared/datasets');
  const missing: string[] = [];
  for (const file of Object.values(SUITE_FILES)) {
    await access(join(folder, file)).catch(() => missing.push(file));
  }
  if (missing.length > 0) {
    throw new DatasetError(folder, [
      `missing ${missing.join(', ')}: pass --datasets DIR or set AUTOMCP_DATASETS to the folder that holds them`,
    ]);
  }
  return folder;
}

/** The four sets of the suite: label, the dataset whose queries run, the files that join its catalog. */
export async function loadSuiteSets(datasets: string): Promise<[string, Dataset, Dataset[]][]> {
  const metatool = await loadDataset(join(datasets, SUITE_FILES.metatool));
  const tasks = await loadDataset(join(datasets, SUITE_FILES.tasks));
  const distractors = await loadDataset(join(datasets, SUITE_FILES.distractors));
  return [
    ['MetaTool', metatool, []],
    ['MetaTool + ToolGym distractors', metatool, [distractors]],
    ['toolgym-tasks', tasks, []],
    ['toolgym-tasks + ToolGym distractors', tasks, [distractors]],
  ];
}

/** Runs the four sets one after the other (one catalog in memory at a time). */
export async function runSuite(options: SuiteOptions): Promise<SuiteSet[]> {
  const results: SuiteSet[] = [];
  for (const [label, dataset, extra] of await loadSuiteSets(options.datasets)) {
    options.onSet?.(label);
    const model = await options.modelFor?.(dataset);
    const report = await runSelectionBench({
      dataset,
      distractors: extra,
      profile: options.profile,
      ks: options.ks,
      candidates: options.candidates,
      half: options.half,
      sample: options.sample ?? SUITE_SAMPLE,
      ...(model ? { model } : {}),
      ...(options.decompose ? { decompose: options.decompose } : {}),
      ...(options.compact ? { compact: true } : {}),
      ...(options.serverFirst ? { serverFirst: options.serverFirst } : {}),
      ...(options.rewrite ? { rewrite: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    results.push({ label, report });
  }
  return results;
}

/** Mean over the sets of automcp's Recall@k minus plain BM25's, at the k given. */
export function meanRecallDelta(sets: readonly SuiteSet[], k: number): number {
  const deltas = sets.map(({ report }) => {
    const ours = report.metrics.find((m) => m.k === k)?.recall ?? 0;
    const theirs = report.baseline.find((m) => m.k === k)?.recall ?? 0;
    return ours - theirs;
  });
  return deltas.reduce((sum, value) => sum + value, 0) / Math.max(deltas.length, 1);
}
