import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import type { CatalogTool } from '../../src/catalog/types.js';
import { CallerViews } from '../../src/catalog/view.js';
import { createLlmRerank } from '../../src/selection/llm.js';
import { resolveEmbeddingModel, type Embedder } from '../../src/selection/embeddings.js';
import { createEmbeddingsStage, fuseRankings, RRF_K } from '../../src/selection/hybrid.js';
import { GraphSelector } from '../../src/selection/selector.js';
import { ToolVectors } from '../../src/selection/vectors.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { fakeVector } from '../helpers/fakeEmbeddings.js';
import { makeProfile } from '../helpers/inprocess.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (name: string, description: string): Tool => ({ name, description, inputSchema: { type: 'object' } });
const fake = (name: string): CatalogTool => ({
  name,
  server: 's',
  tool: name,
  hash: '0000000000000000',
  definition: { name, description: '', inputSchema: {} },
});

describe('reciprocal rank fusion', () => {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(fake) as [CatalogTool, CatalogTool, CatalogTool, CatalogTool];
  const ranked = (...tools: CatalogTool[]) => tools.map((entry, i) => ({ tool: entry, score: 10 - i }));

  it('puts a tool both rankings hold above tools only one of them holds', () => {
    const fused = fuseRankings(
      [
        { ranked: ranked(a, b, c), weight: 1 },
        { ranked: ranked(d, c), weight: 1 },
      ],
      10,
    );
    expect(fused.map((entry) => entry.tool.name)).toEqual(['c', 'a', 'd', 'b']);
    expect(fused[0]!.score).toBeCloseTo(1 / (RRF_K + 3) + 1 / (RRF_K + 2));
  });

  it('weights one ranking over the other, and cuts to the limit', () => {
    const lists = (weight: number) => [
      { ranked: ranked(a, b), weight: 1 },
      { ranked: ranked(c, d), weight },
    ];
    expect(fuseRankings(lists(2), 2).map((entry) => entry.tool.name)).toEqual(['c', 'd']);
    expect(fuseRankings(lists(0.5), 2).map((entry) => entry.tool.name)).toEqual(['a', 'b']);
  });
});

/** A catalog where one task shares no word with the tool that does it. */
function buildCatalog(): Catalog {
  const catalog = new Catalog(hasher);
  catalog.setServerTools('fs', 'Files', [
    tool('read_text_file', 'Read the contents of a file.'),
    tool('write_file', 'Write text to a path.'),
    tool('list_directory', 'List a directory.'),
  ]);
  catalog.setServerTools('weather', 'Weather', [tool('get_forecast', 'Weather forecast for a city.')]);
  return catalog;
}

const embedder: Embedder = {
  embedDocuments: async (texts) => texts.map(fakeVector),
  embedQuery: async (text) => fakeVector(text),
};

/** An embedder whose document batches wait until `release` (tool vectors still being computed). */
function heldEmbedder(): Embedder & { release(): void } {
  let release = () => undefined as void;
  const held = new Promise<void>((resolve) => (release = resolve));
  return {
    release: () => release(),
    embedDocuments: async (texts) => {
      await held;
      return texts.map(fakeVector);
    },
    embedQuery: async (text) => fakeVector(text),
  };
}

async function selectorWith({
  ready = true,
  down = false,
  rerank = false,
  given,
}: { ready?: boolean; down?: boolean; rerank?: boolean; given?: Embedder } = {}) {
  const catalog = buildCatalog();
  // `down`: the service fails once the tool vectors are in (queries fail, not the catalog's batches).
  let failing = false;
  const switchable: Embedder = {
    embedDocuments: (texts) => (failing ? Promise.reject(new Error('down')) : embedder.embedDocuments(texts)),
    embedQuery: (text) => embedder.embedQuery(text),
  };
  const model = await resolveEmbeddingModel({ embeddings: undefined, embedder: given ?? switchable });
  const vectors = new ToolVectors({ model, logger: createSilentLogger() });
  if (ready) {
    vectors.sync(catalog.tools());
    await vectors.idle();
  }
  failing = down;
  // A model that always picks the write tool: it shows whether the model path ran.
  const chat = new FakeListChatModel({ responses: [JSON.stringify({ tools: [{ name: 'fs.write_file', reason: 'x' }] })] });
  return new GraphSelector({
    catalog,
    views: new CallerViews({ catalog, hasher }),
    candidates: 10,
    embeddings: createEmbeddingsStage({ vectors }),
    ...(rerank
      ? {
          rerank: createLlmRerank({
            logger: createSilentLogger(),
            model: { chat, label: 'fake:list', timeoutMs: 5_000, scrub: (text: string) => text },
          }),
        }
      : {}),
  });
}

const select = async (selector: GraphSelector, mode: string, query = 'peruse the manuscript') => {
  const selection = await selector.select({ query, profile: makeProfile('p', { selection: { mode } }), limit: 3 });
  return { mode: selection.mode, names: selection.tools.map((entry) => entry.name) };
};

describe('hybrid selection', () => {
  it('finds by meaning the tool that shares no word with the task', async () => {
    const selector = await selectorWith();
    expect(await select(selector, 'lexical')).toEqual({ mode: 'lexical', names: [] });
    const hybrid = await select(selector, 'hybrid');
    expect(hybrid.mode).toBe('hybrid');
    expect(hybrid.names[0]).toBe('fs.read_text_file');
    // Without a chat model, `auto` ranks with the embeddings too.
    expect(await select(selector, 'auto')).toEqual(hybrid);
  });

  it('keeps what both rankings agree on at the top', async () => {
    const selector = await selectorWith();
    const result = await select(selector, 'hybrid', 'weather forecast');
    expect(result.names[0]).toBe('weather.get_forecast');
  });

  it('ranks lexically until every visible tool has a vector', async () => {
    const held = heldEmbedder();
    const selector = await selectorWith({ ready: false, given: held });
    const lexical = await select(selector, 'lexical', 'read a file');
    expect(await select(selector, 'auto', 'read a file')).toEqual(lexical);
    // A profile that asks for hybrid is told the embeddings were not used.
    expect(await select(selector, 'hybrid', 'read a file')).toEqual({ ...lexical, mode: 'fallback' });
    expect(await select(selector, 'hybrid')).toEqual({ mode: 'fallback', names: [] });
    held.release();
  });

  it('falls back to the lexical ranking when the service is down', async () => {
    const selector = await selectorWith({ ready: true, down: true });
    const lexical = await select(selector, 'lexical', 'read a file');
    expect(await select(selector, 'hybrid', 'read a file')).toEqual({ ...lexical, mode: 'fallback' });
  });

  it('is the first stage of the model path, and a hybrid profile never asks the model', async () => {
    const selector = await selectorWith({ rerank: true });
    const selection = await selector.select({ query: 'peruse the manuscript', profile: makeProfile('p'), limit: 3 });
    expect(selection.mode).toBe('llm');
    // The model was shown the tools found by meaning (nothing shares a word with the task).
    expect(selection.candidates.map((entry) => entry.tool.name)).toContain('fs.read_text_file');
    expect(selection.tools.map((entry) => entry.name)).toEqual(['fs.write_file']);
    expect((await select(selector, 'hybrid')).mode).toBe('hybrid');
  });
});
