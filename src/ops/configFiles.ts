/**
 * Edits of runtime.yaml and profile files by the ops tools. Each edit holds the file's lock (so two
 * gateways never lose each other's change), reads the file as it is on disk, checks the edited text
 * exactly as start-up would, keeps the previous file as `<file>.bak`, and replaces the file atomically
 * (temporary file, then rename), so a reader or the watcher never sees half of it. The edit works on
 * the raw document, before `${VAR}` expansion, so references to secrets stay references. Only the
 * values that changed are rewritten in the file's own YAML document (the `yaml` library keeps comments,
 * order and formatting), so a person's comments around an unchanged server or rule survive the edit.
 */
import { copyFile, readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { load } from 'js-yaml';
import type { Document } from 'yaml';
import { withFileLock, writeFileAtomic } from '../state/jsonFile.js';

/** The raw YAML document of a file, or undefined when the file does not exist. */
export async function readYamlDocument(file: string): Promise<{ text: string; doc: Record<string, unknown> } | undefined> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  const doc = load(text);
  return { text, doc: doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {} };
}

/** What one edit wrote. */
export interface FileEdit {
  file: string;
  /** Where the previous version was kept; absent when the file is new. */
  backup?: string;
  /** The document before the edit; undefined when the file is new. */
  before: Record<string, unknown> | undefined;
  after: Record<string, unknown>;
}

/**
 * Edits `file` under its lock: `change` gets the current document (an empty one for a new file) and
 * returns the new one; `check` validates the new text as start-up would and throws to refuse it, in
 * which case nothing is written.
 */
export async function editYamlFile({
  file,
  change,
  check,
}: {
  file: string;
  change: (doc: Record<string, unknown>, exists: boolean) => Record<string, unknown>;
  check: (text: string) => void;
}): Promise<FileEdit> {
  return withFileLock(file, async () => {
    const current = await readYamlDocument(file);
    const before = current ? structuredClone(current.doc) : undefined;
    const after = change(current ? current.doc : {}, current !== undefined);
    // Loaded on the first edit: every gateway has the ops tools, few ever edit a file through them.
    const { isMap, parseDocument } = await import('yaml');
    const document = parseDocument(current?.text ?? '');
    patch(document, isMap, [], before ?? {}, after);
    const text = document.toString({ lineWidth: 120 });
    check(text);
    let backup: string | undefined;
    if (current) {
      backup = `${file}.bak`;
      await copyFile(file, backup);
    }
    await writeFileAtomic(file, text);
    return { file, ...(backup ? { backup } : {}), before, after };
  });
}

/**
 * Rewrites in `document` only what differs between `before` and `after`: maps are walked key by key
 * (keys gone are deleted, keys new or changed are set), so every unchanged node keeps its comments.
 */
function patch(document: Document, isMap: (node: unknown) => boolean, path: string[], before: unknown, after: unknown): void {
  const node = path.length === 0 ? document.contents : document.getIn(path, true);
  if (isPlainObject(before) && isPlainObject(after) && isMap(node)) {
    for (const key of Object.keys(before)) if (!(key in after)) document.deleteIn([...path, key]);
    for (const [key, value] of Object.entries(after)) patch(document, isMap, [...path, key], before[key], value);
    return;
  }
  if (isDeepStrictEqual(before, after) && node !== null && node !== undefined) return;
  if (path.length === 0) document.contents = document.createNode(after);
  else document.setIn(path, after);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `path` is `root` or inside it (no `..` escape). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Replaces the values of a map (env, headers) with "***" unless they only reference `${VAR}`s. */
export function maskValues(values: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!values) return undefined;
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, typeof value === 'string' && isReferenceOnly(value) ? value : '***']),
  );
}

/** A URL with any password replaced by "***". */
export function maskUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

/**
 * True for text that holds no literal secret: `${VAR}` references with at most a path-like literal
 * around them (`${HOME}/memory.jsonl`). Default values (`${VAR:-x}`) count as literal and are masked.
 */
function isReferenceOnly(value: string): boolean {
  if (!/\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(value)) return false;
  const literal = value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, '');
  return /^[A-Za-z0-9_./: -]*$/.test(literal);
}
