import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Bm25Index, bm25Tokens, bm25Words } from '../../src/bench/bm25.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (name: string, description: string): Tool => ({
  name,
  description,
  inputSchema: { type: 'object', properties: { ignored: { type: 'string', description: 'never indexed' } } },
});

/**
 * Three tools on one server "srv". Their words (server name, tool name split, description, Lucene's
 * stop set dropped):
 *   srv.read_file   "Read text."        → srv read file read text     (5 words; read ×2)
 *   srv.write_file  "Write the bytes."  → srv write file write bytes  (5 words; "the" dropped)
 *   srv.ping        ""                  → srv ping                    (2 words)
 * N = 3, average length (5 + 5 + 2) / 3 = 4.
 */
function corpus(): Catalog {
  const catalog = new Catalog(hasher);
  catalog.setServerTools('srv', 'A server description plain BM25 never reads', [
    tool('read_file', 'Read text.'),
    tool('write_file', 'Write the bytes.'),
    tool('ping', ''),
  ]);
  return catalog;
}

describe('plain BM25 reference ranker', () => {
  it('indexes the server name, the tool name split into words and the description, nothing else', () => {
    const [read, write, ping] = corpus().tools();
    expect(bm25Words(read!)).toEqual(['srv', 'read', 'file', 'read', 'text']);
    expect(bm25Words(write!)).toEqual(['srv', 'write', 'file', 'write', 'bytes']);
    expect(bm25Words(ping!)).toEqual(['srv', 'ping']);
    // No stemming: "files" and "file" stay different words; camelCase is split like snake_case.
    expect(bm25Tokens('readFiles of THE news')).toEqual(['read', 'files', 'news']);
  });

  it('scores a two-word query as computed by hand (k1 1.2, b 0.75)', () => {
    const index = new Bm25Index(corpus().tools());
    // idf = ln(1 + (N − df + 0.5) / (df + 0.5)): read is in 1 tool, file in 2.
    const idfRead = Math.log(1 + 2.5 / 1.5); // ln(8/3) ≈ 0.98083
    const idfFile = Math.log(1 + 1.5 / 2.5); // ln(1.6) ≈ 0.47000
    // Both file tools have 5 words against an average of 4: K = 1.2 × (0.25 + 0.75 × 5/4) = 1.425.
    // read_file: read tf 2 → 2 × 2.2 / (2 + 1.425); file tf 1 → 2.2 / (1 + 1.425).
    const readFile = (idfRead * 4.4) / 3.425 + (idfFile * 2.2) / 2.425; // ≈ 1.68644
    const writeFile = (idfFile * 2.2) / 2.425; // ≈ 0.42640
    const hits = index.search('read the file', 10);
    expect(hits.map((hit) => hit.tool.name)).toEqual(['srv.read_file', 'srv.write_file']);
    expect(hits[0]!.score).toBeCloseTo(readFile, 10);
    expect(hits[1]!.score).toBeCloseTo(writeFile, 10);
    expect(readFile).toBeCloseTo(1.68644, 4);
  });

  it('normalises by length: a word in every tool ranks the shortest tool first', () => {
    const index = new Bm25Index(corpus().tools());
    const idf = Math.log(1 + 0.5 / 3.5); // srv is in all 3 tools: ln(8/7)
    // ping has 2 words: K = 1.2 × (0.25 + 0.75 × 2/4) = 0.75; the others 1.425 as above.
    const hits = index.search('srv', 10);
    expect(hits.map((hit) => hit.tool.name)).toEqual(['srv.ping', 'srv.read_file', 'srv.write_file']);
    expect(hits[0]!.score).toBeCloseTo((idf * 2.2) / 1.75, 10);
    expect(hits[1]!.score).toBeCloseTo((idf * 2.2) / 2.425, 10);
    // Equal scores keep catalog order.
    expect(hits[2]!.score).toBe(hits[1]!.score);
  });

  it('counts a repeated query word once, leaves out tools with no word in common, honours the limit', () => {
    const index = new Bm25Index(corpus().tools());
    expect(index.search('read read read', 10)).toEqual(index.search('read', 10));
    expect(index.search('bytes', 10).map((hit) => hit.tool.name)).toEqual(['srv.write_file']);
    expect(index.search('never indexed description', 10)).toEqual([]);
    expect(index.search('srv', 1)).toHaveLength(1);
    expect(new Bm25Index([]).search('anything', 5)).toEqual([]);
  });
});
