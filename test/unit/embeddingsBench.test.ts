import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/bench/dataset.js';
import { memoEmbedder, runEmbeddingsComparison } from '../../src/bench/embeddings.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { resolveEmbeddingModel, type Embedder } from '../../src/selection/embeddings.js';
import { ToolVectors } from '../../src/selection/vectors.js';
import { REPO_ROOT } from '../helpers/config.js';
import { fakeVector } from '../helpers/fakeEmbeddings.js';
import { makeProfile } from '../helpers/inprocess.js';

const TINY = join(REPO_ROOT, 'test', 'fixtures', 'datasets', 'tiny.json');

describe('bench selection --embeddings', () => {
  it('ranks the same queries lexically, by meaning alone and fused, asking the model once per text', async () => {
    const tiny = await loadDataset(TINY);
    const dataset = {
      ...tiny,
      queries: [
        { id: 's1', query: 'peruse the manuscript', expected: [['files.read_file']] },
        { id: 's2', query: 'read a file from disk', expected: [['files.read_file']] },
      ],
    };
    const texts: string[] = [];
    const inner: Embedder = {
      embedDocuments: async (batch) => {
        texts.push(...batch);
        return batch.map(fakeVector);
      },
      embedQuery: async (text) => fakeVector(text),
    };
    const memo = memoEmbedder(inner);
    const model = await resolveEmbeddingModel({ embeddings: undefined, embedder: memo });
    const vectors = new ToolVectors({ model, logger: createSilentLogger() });
    const variants = await runEmbeddingsComparison({
      dataset,
      profile: makeProfile('default'),
      ks: [1, 5],
      candidates: 40,
      vectors,
      weights: [0.5, 1],
      prewarm: memo.prewarm,
    });
    expect(variants.map((variant) => [variant.name, variant.weight])).toEqual([
      ['lexical', undefined],
      ['embeddings', undefined],
      ['hybrid', 0.5],
      ['hybrid', 1],
    ]);
    const recall5 = variants.map((variant) => variant.report.metrics.find((m) => m.k === 5)!.recall);
    // The first query shares no word with its tool: only a ranking by meaning finds it.
    expect(recall5).toEqual([0.5, 1, 1, 1]);
    expect(variants[0]!.report.embeddings).toBeUndefined();
    expect(variants[3]!.report.embeddings).toEqual({ model: 'injected:injected', weight: 1 });
    // Each tool and each query was embedded once over the four runs.
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts).toHaveLength(5 + 2);
  });
});
