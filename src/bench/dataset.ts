/**
 * Selection datasets (CONTRACT §5): servers with their tools, and queries with the tools each one
 * needs. A benchmark builds its catalog straight from these files, so no server is started; distractor
 * files contribute their servers only. Bad files fail with the file, the path and what was expected.
 */
import { readFile } from 'node:fs/promises';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { Catalog } from '../catalog/catalog.js';
import type { Hasher } from '../catalog/hash.js';
import { SERVER_NAME } from '../config/schema.js';

const toolSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().default(''),
  inputSchema: z.record(z.string(), z.unknown()).default({ type: 'object', properties: {} }),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

const datasetSchema = z.looseObject({
  name: z.string().default(''),
  source: z.string().default(''),
  license: z.string().default(''),
  servers: z.array(
    z.looseObject({
      name: z.string().regex(SERVER_NAME, 'expected a server name of [A-Za-z0-9_-]{1,64}'),
      description: z.string().default(''),
      tools: z.array(toolSchema),
    }),
  ),
  queries: z
    .array(
      z.looseObject({
        id: z.union([z.string(), z.number()]).transform(String),
        query: z.string().min(1),
        expected: z.array(z.array(z.string().min(1)).min(1)).min(1),
      }),
    )
    .default([]),
});

/** One dataset file, validated. */
export type Dataset = z.output<typeof datasetSchema> & { file: string };
/** One benchmark query: each inner list of `expected` is one required tool, any of its names a hit. */
export type DatasetQuery = Dataset['queries'][number];

/** A dataset file that cannot be used; the message says which file and what to fix. */
export class DatasetError extends Error {
  constructor(file: string, problems: readonly string[]) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `\n  - ${problems.join('\n  - ')}`}`);
    this.name = 'DatasetError';
  }
}

/** Reads and validates one dataset file. */
export async function loadDataset(file: string): Promise<Dataset> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DatasetError(file, [`cannot read: ${(error as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new DatasetError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseDataset(file, doc);
}

/** Validates a parsed dataset document. */
export function parseDataset(file: string, doc: unknown): Dataset {
  const result = datasetSchema.safeParse(doc);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 10).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    throw new DatasetError(file, problems);
  }
  return { ...result.data, file };
}

/**
 * A catalog of every server of `datasets` (queries are not read here). Server names must be unique
 * across the files: two servers of one name would silently replace each other's tools.
 */
export function catalogOf({ datasets, hasher }: { datasets: readonly Dataset[]; hasher: Hasher }): Catalog {
  const catalog = new Catalog(hasher);
  const owner = new Map<string, string>();
  for (const dataset of datasets) {
    for (const server of dataset.servers) {
      const first = owner.get(server.name);
      if (first !== undefined) {
        throw new DatasetError(dataset.file, [
          `server "${server.name}" is also defined in ${first}; server names must be unique`,
        ]);
      }
      owner.set(server.name, dataset.file);
      catalog.setServerTools(server.name, server.description, server.tools as Tool[]);
    }
  }
  return catalog;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '(top level)'
    : path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
}
