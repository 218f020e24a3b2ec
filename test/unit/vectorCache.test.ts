import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { resolveEmbeddingModel, type Embedder } from '../../src/selection/embeddings.js';
import { ToolVectors, RETRY_MS, toolText } from '../../src/selection/vectors.js';
import { decodeVectors, encodeVectors, mergeVectorFile, readVectorFile, vectorFilePath } from '../../src/state/vectorFile.js';
import { makeTempDir } from '../helpers/config.js';
import { fakeVector } from '../helpers/fakeEmbeddings.js';
import { capturedLogger } from '../helpers/inprocess.js';

let hasher: Hasher;
const dirs: string[] = [];
beforeAll(async () => {
  hasher = await loadHasher();
});
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const dir = await makeTempDir('automcp-vectors-');
  dirs.push(dir);
  return dir;
}

const SPACE = 'abcdef0123456789';
const tool = (name: string, description: string): Tool => ({ name, description, inputSchema: { type: 'object' } });

/** An in-process embedder over the fake vectors that records every text and can be switched off. */
function recordingEmbedder(): Embedder & { texts: string[]; down: boolean } {
  const embedder = {
    texts: [] as string[],
    down: false,
    async embedDocuments(texts: string[]) {
      if (embedder.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9');
      embedder.texts.push(...texts);
      return texts.map(fakeVector);
    },
    async embedQuery(text: string) {
      return (await embedder.embedDocuments([text]))[0]!;
    },
  };
  return embedder;
}

function catalogOf(extra: Tool[] = []): Catalog {
  const catalog = new Catalog(hasher);
  catalog.setServerTools('fs', 'Files', [
    tool('read_text_file', 'Read the contents of a file.'),
    tool('list_directory', 'List a directory.'),
    ...extra,
  ]);
  catalog.setServerTools('weather', 'Weather', [tool('get_forecast', 'Weather forecast for a city.')]);
  return catalog;
}

async function vectorsOver({ embedder, dir, now }: { embedder: Embedder; dir?: string; now?: () => number }) {
  const { logger, records } = capturedLogger();
  const model = await resolveEmbeddingModel({ embeddings: undefined, embedder });
  const vectors = new ToolVectors({ model, logger, ...(dir !== undefined ? { stateDir: dir } : {}), ...(now ? { now } : {}) });
  return { vectors, records, space: model.space! };
}

describe('vector file', () => {
  const table = {
    dimension: 3,
    vectors: new Map([
      ['00112233445566ff', new Float32Array([0.5, -0.25, 1])],
      ['ffeeddccbbaa9988', new Float32Array([1, 2, 3])],
    ]),
  };

  it('reads back what it wrote, bit for bit', () => {
    const read = decodeVectors(encodeVectors(table, SPACE), SPACE);
    expect(read.kind).toBe('ok');
    if (read.kind !== 'ok') return;
    expect(read.table.dimension).toBe(3);
    expect([...read.table.vectors.keys()]).toEqual([...table.vectors.keys()]);
    expect([...read.table.vectors.get('00112233445566ff')!]).toEqual([0.5, -0.25, 1]);
  });

  it('is binary: 4 bytes a float, 8 a hash, 40 of header', () => {
    expect(encodeVectors(table, SPACE).length).toBe(40 + 2 * 8 + 2 * 3 * 4);
  });

  it('calls a truncated, damaged, foreign or other-space file corrupt', () => {
    const bytes = encodeVectors(table, SPACE);
    expect(decodeVectors(bytes.subarray(0, bytes.length - 4), SPACE).kind).toBe('corrupt');
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1]! ^= 0xff;
    expect(decodeVectors(flipped, SPACE)).toEqual({ kind: 'corrupt', reason: 'checksum mismatch' });
    expect(decodeVectors(Buffer.from('{"vectors": []}'), SPACE).kind).toBe('corrupt');
    expect(decodeVectors(bytes, '0000000000000000').kind).toBe('corrupt');
  });

  it('merges with what another process wrote, keeping the current catalog first under the cap', async () => {
    const file = vectorFilePath(await stateDir(), SPACE);
    const one = (value: number) => new Float32Array([value, 0, 0]);
    await mergeVectorFile({
      file,
      space: SPACE,
      fresh: { dimension: 3, vectors: new Map([['aaaaaaaaaaaaaaaa', one(1)]]) },
      keep: new Set(),
    });
    await mergeVectorFile({
      file,
      space: SPACE,
      fresh: { dimension: 3, vectors: new Map([['bbbbbbbbbbbbbbbb', one(2)]]) },
      keep: new Set(),
    });
    let read = await readVectorFile(file, SPACE);
    expect(read.kind === 'ok' && [...read.table.vectors.keys()].sort()).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    const written = await mergeVectorFile({
      file,
      space: SPACE,
      fresh: { dimension: 3, vectors: new Map([['cccccccccccccccc', one(3)]]) },
      keep: new Set(['cccccccccccccccc', 'aaaaaaaaaaaaaaaa']),
      max: 2,
    });
    expect(written).toBe(2);
    read = await readVectorFile(file, SPACE);
    expect(read.kind === 'ok' && [...read.table.vectors.keys()].sort()).toEqual(['aaaaaaaaaaaaaaaa', 'cccccccccccccccc']);
  });
});

describe('tool vectors', () => {
  it('embeds every tool once, in the background, and then covers the catalog', async () => {
    const embedder = recordingEmbedder();
    const catalog = catalogOf();
    const { vectors } = await vectorsOver({ embedder });
    expect(vectors.covers(catalog.tools())).toBe(false);
    vectors.sync(catalog.tools());
    await vectors.idle();
    expect(vectors.covers(catalog.tools())).toBe(true);
    expect(embedder.texts).toEqual(catalog.tools().map(toolText));
    expect(vectors.status()).toMatchObject({ state: 'ready', embedded: 3, total: 3 });
  });

  it('embeds only the tools whose definition changed', async () => {
    const embedder = recordingEmbedder();
    const catalog = catalogOf();
    const { vectors } = await vectorsOver({ embedder });
    vectors.sync(catalog.tools());
    await vectors.idle();
    embedder.texts.length = 0;
    catalog.setServerTools('fs', 'Files', [
      tool('read_text_file', 'Read the contents of a file.'),
      tool('list_directory', 'List the entries of a directory.'),
      tool('move_file', 'Move a file.'),
    ]);
    vectors.sync(catalog.tools());
    await vectors.idle();
    expect(embedder.texts.sort()).toEqual(['fs list directory: List the entries of a directory.', 'fs move file: Move a file.']);
    expect(vectors.covers(catalog.tools())).toBe(true);
  });

  it('survives a restart: a new process over the same state directory embeds nothing', async () => {
    const dir = await stateDir();
    const catalog = catalogOf();
    const first = await vectorsOver({ embedder: recordingEmbedder(), dir });
    first.vectors.sync(catalog.tools());
    await first.vectors.idle();
    const embedder = recordingEmbedder();
    const second = await vectorsOver({ embedder, dir });
    second.vectors.sync(catalog.tools());
    await second.vectors.idle();
    expect(embedder.texts).toEqual([]);
    expect(second.vectors.covers(catalog.tools())).toBe(true);
    const query = (await second.vectors.embedQueries(['peruse the manuscript'])).vectors![0]!;
    expect(second.vectors.rank(catalog.tools(), query, 1)[0]!.tool.name).toBe('fs.read_text_file');
  });

  it('rebuilds a corrupt cache file, with one warning', async () => {
    const dir = await stateDir();
    const catalog = catalogOf();
    const first = await vectorsOver({ embedder: recordingEmbedder(), dir });
    first.vectors.sync(catalog.tools());
    await first.vectors.idle();
    const file = vectorFilePath(dir, first.space);
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 7));
    const embedder = recordingEmbedder();
    const second = await vectorsOver({ embedder, dir });
    second.vectors.sync(catalog.tools());
    await second.vectors.idle();
    expect(embedder.texts).toHaveLength(3);
    expect(second.records.filter((record) => record.level === 40).map((record) => record.msg)).toEqual([
      'tool vector cache is unreadable; embedding the tools again',
    ]);
    expect((await readVectorFile(file, first.space)).kind).toBe('ok');
  });

  it('an outage warns once, stops asking until a pause has passed, and ends when the service answers', async () => {
    let clock = 1_000;
    const embedder = recordingEmbedder();
    const catalog = catalogOf();
    const { vectors, records } = await vectorsOver({ embedder, now: () => clock });
    vectors.sync(catalog.tools());
    await vectors.idle();
    embedder.down = true;
    for (let i = 0; i < 4; i++) expect((await vectors.embedQueries(['read a file'])).vectors).toBeUndefined();
    const warnings = records.filter((record) => record.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      msg: 'selector.embeddings gave no usable answer; ranking lexically until it answers again',
    });
    expect(vectors.status()).toMatchObject({ state: 'unavailable', error: 'connect ECONNREFUSED 127.0.0.1:9' });
    // During the pause the service is not asked at all (a selection does not pay a timeout each time).
    embedder.down = false;
    expect((await vectors.embedQueries(['read a file'])).vectors).toBeUndefined();
    expect(embedder.texts).toHaveLength(3);
    clock += RETRY_MS;
    expect((await vectors.embedQueries(['read a file'])).vectors).toHaveLength(1);
    expect(vectors.status().state).toBe('ready');
    expect(records.filter((record) => record.level === 40)).toHaveLength(1);
  });

  it('a model that changed behind the same name (another dimension) is re-embedded, not an outage', async () => {
    let dimension = 64;
    const texts: string[] = [];
    const embedder: Embedder = {
      embedDocuments: async (batch) => {
        texts.push(...batch);
        return batch.map((text) => fakeVector(text).slice(0, dimension));
      },
      embedQuery: async (text) => fakeVector(text).slice(0, dimension),
    };
    const catalog = catalogOf();
    const { vectors, records } = await vectorsOver({ embedder });
    vectors.sync(catalog.tools());
    await vectors.idle();
    dimension = 32;
    expect(await vectors.embedQueries(['read a file'])).toEqual({ error: 'the embedding dimension changed to 32' });
    await vectors.idle();
    expect(vectors.covers(catalog.tools())).toBe(true);
    expect((await vectors.embedQueries(['read a file'])).vectors?.[0]).toHaveLength(32);
    expect(texts.filter((text) => text !== 'read a file')).toHaveLength(6);
    expect(records.map((record) => record.msg)).toEqual(['embedding dimension changed; re-embedding every tool']);
  });

  it('ranks by cosine similarity: the best `limit` of all tools, best first', async () => {
    const catalog = new Catalog(hasher);
    const words = ['file', 'read', 'write', 'list', 'weather', 'city', 'mail', 'send', 'issue', 'merge'];
    const tools = Array.from({ length: 120 }, (_, i) =>
      tool(`t${i}`, `${words[i % 10]} ${words[(i * 7) % 10]} ${words[(i * 3) % 10]} number ${i}`),
    );
    catalog.setServerTools('many', 'Many', tools);
    const { vectors } = await vectorsOver({ embedder: recordingEmbedder() });
    vectors.sync(catalog.tools());
    await vectors.idle();
    const query = (await vectors.embedQueries(['read a file and send mail'])).vectors![0]!;
    const all = vectors.rank(catalog.tools(), query, 1_000);
    expect(all).toHaveLength(120);
    const sorted = [...all].sort((a, b) => b.score - a.score || (a.tool.name < b.tool.name ? -1 : 1));
    expect(all).toEqual(sorted);
    expect(vectors.rank(catalog.tools(), query, 7)).toEqual(sorted.slice(0, 7));
    expect(vectors.rank(catalog.tools(), query, 0)).toEqual([]);
  });

  it('gives up on a late answer on time', async () => {
    const embedder: Embedder = {
      embedDocuments: (texts) => (texts.length > 1 ? Promise.resolve(texts.map(fakeVector)) : new Promise(() => undefined)),
      embedQuery: () => new Promise(() => undefined),
    };
    const model = await resolveEmbeddingModel({ embeddings: { provider: 'openai', model: 'm', timeoutMs: 20 }, embedder });
    const { logger } = capturedLogger();
    const vectors = new ToolVectors({ model, logger });
    const catalog = catalogOf();
    vectors.sync(catalog.tools());
    await vectors.idle();
    expect(await vectors.embedQueries(['read a file'])).toEqual({ error: 'no answer within 20 ms' });
  });
});
