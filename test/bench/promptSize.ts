/**
 * How big is the selection prompt? Builds a catalog from CONTRACT §5 dataset files, ranks real queries
 * lexically, builds the prompt the LLM node would send for the top N candidates, and prints its
 * cl100k token counts — for the small catalog alone and with the large one mixed in, so the figures
 * show the prompt depends on the candidate count and not on the catalog's size.
 *
 *   node --import tsx test/bench/promptSize.ts [dataset.json ...]
 *
 * Default datasets: metatool.json and toolgym-catalog.json in $AUTOMCP_DATASETS, else the first of
 * ../shared/datasets and ../../shared/datasets that exists (a clone or a worktree next to shared/).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher } from '../../src/catalog/hash.js';
import { countJsonTokens, countTokens } from '../../src/tokens/count.js';
import { LexicalIndex } from '../../src/selection/lexical.js';
import { buildSelectionPrompt, choiceSchema } from '../../src/selection/prompts.js';

interface Dataset {
  name: string;
  servers: { name: string; description?: string; tools: Tool[] }[];
  queries?: { id: string; query: string }[];
}

const QUERIES = 200;
const LIMIT = 8;
const profile = {
  name: 'default',
  description: 'A general assistant that helps one person with everyday tasks.',
  instructions: 'Prefer the fewest tools that do the whole task.',
};

const files = process.argv.slice(2);
const folder = [process.env.AUTOMCP_DATASETS, '../shared/datasets', '../../shared/datasets']
  .filter((dir): dir is string => Boolean(dir))
  .map((dir) => resolve(dir))
  .find((dir) => existsSync(resolve(dir, 'metatool.json')));
if (files.length === 0 && !folder) throw new Error('no datasets found: pass dataset files or set AUTOMCP_DATASETS');
const paths = files.length > 0 ? files : ['metatool.json', 'toolgym-catalog.json'].map((name) => resolve(folder!, name));
const datasets = await Promise.all(paths.map(async (path) => JSON.parse(await readFile(path, 'utf8')) as Dataset));
const queries = datasets.flatMap((dataset) => dataset.queries ?? []).slice(0, QUERIES);
if (queries.length === 0) throw new Error('no queries in the datasets: pass at least one file with queries');

const hasher = await loadHasher();

/** A catalog of the first `count` datasets; server names made valid and unique. */
function catalogOf(count: number): Catalog {
  const catalog = new Catalog(hasher);
  const used = new Set<string>();
  for (const dataset of datasets.slice(0, count)) {
    for (const server of dataset.servers) {
      let name = server.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60);
      while (used.has(name)) name = `${name.slice(0, 58)}_${used.size % 100}`;
      used.add(name);
      const tools = server.tools.map((tool) => ({ ...tool, inputSchema: tool.inputSchema ?? { type: 'object' } }));
      catalog.setServerTools(name, server.description ?? '', tools);
    }
  }
  return catalog;
}

const schemaTokens = countJsonTokens(z.toJSONSchema(choiceSchema));
const rows: string[] = [];
for (let count = 1; count <= datasets.length; count++) {
  const catalog = catalogOf(count);
  const tools = catalog.tools();
  const index = new LexicalIndex(tools, catalog.servers());
  const fullCatalog = countJsonTokens(tools.map((tool) => tool.definition));
  for (const candidates of [10, 20, 40]) {
    const sizes: number[] = [];
    const shown: number[] = [];
    for (const { query } of queries) {
      const ranked = index.search(query, { limit: candidates }).map((entry) => entry.tool);
      const messages = buildSelectionPrompt({ query, profile, candidates: ranked, limit: LIMIT });
      sizes.push(countTokens(messages.map(([, text]) => text).join('\n')));
      shown.push(ranked.length);
    }
    sizes.sort((a, b) => a - b);
    const mean = Math.round(sizes.reduce((sum, size) => sum + size, 0) / sizes.length);
    const p95 = sizes[Math.floor(sizes.length * 0.95)] ?? 0;
    const avgShown = (shown.reduce((sum, n) => sum + n, 0) / shown.length).toFixed(1);
    rows.push(
      `| ${datasets
        .slice(0, count)
        .map((dataset) => dataset.name)
        .join(' + ')} | ${tools.length} | ${fullCatalog} | ${candidates} | ${avgShown} | ${mean} | ${p95} | ${sizes.at(-1)} |`,
    );
  }
}

process.stdout.write(
  [
    `Prompt tokens (cl100k) of the selection prompt, system + user message, over the first ${queries.length} queries; limit ${LIMIT}.`,
    `The answer schema adds about ${schemaTokens} tokens where the provider receives it (tool or json_schema definition).`,
    '',
    '| catalog | tools | full catalog tokens | candidates | shown (mean) | prompt mean | prompt p95 | prompt max |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
