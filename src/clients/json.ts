/**
 * Reading and editing the JSON files of MCP clients. They are often JSONC (VS Code allows comments and
 * trailing commas), and people format them by hand, so edits go through jsonc-parser's `modify`: only the
 * changed entry is rewritten, in the file's own indentation and line endings.
 */
import { applyEdits, findNodeAtLocation, modify, parse, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { convertEntry, isAutomcpEntry, type EntryContext } from './entries.js';
import { ENTRY_NAME, type LaunchSpec, type ReadServer } from './types.js';

/** Parses JSON or JSONC; an empty file is an empty object. Throws with line and column on a syntax error. */
export function parseJsonc(text: string, file: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true }) as unknown;
  if (errors.length > 0) {
    const first = errors[0] as ParseError;
    const before = text.slice(0, first.offset).split('\n');
    throw new Error(
      `${file}: not valid JSON at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1} (${printParseErrorCode(first.error)})`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** Reads the server entries under `key` of `container` (an object of name → entry). */
export function readServers(
  container: unknown,
  options: { prefix: string; topLevel: boolean; context: Omit<EntryContext, 'where'> },
): ReadServer[] {
  if (container === undefined || container === null) return [];
  if (typeof container !== 'object' || Array.isArray(container)) return [];
  return Object.entries(container as Record<string, unknown>).map(([name, value]) => {
    const where = `${options.prefix}${/^[A-Za-z0-9_-]+$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`}`;
    const { server, warnings } = convertEntry(value, { ...options.context, where });
    return {
      name,
      where,
      topLevel: options.topLevel,
      ...(server !== undefined ? { server } : {}),
      isAutomcp: isAutomcpEntry(server, name),
      warnings,
    };
  });
}

/** Sets `container.automcp` to `entry`; with `only`, removes every other key of `container` first. */
export function writeEntry(text: string, container: string, entry: unknown, options: { only: boolean }): string {
  let out = text.trim() === '' ? '{}\n' : text;
  if (options.only) {
    const current = parseJsonc(out, 'client file')[container];
    if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
      for (const name of Object.keys(current)) {
        if (name !== ENTRY_NAME) out = cut(out, container, name);
      }
    }
  }
  return insert(out, container, entry) ?? edit(out, [container, ENTRY_NAME], entry);
}

/**
 * Adds `"automcp": entry` after the last entry of a non-empty `container`, as text in the indentation of
 * that entry. (jsonc-parser's `modify` would reformat the line of the entry before it.) Undefined when
 * this does not apply: no container, an empty one, or one that already has automcp.
 */
function insert(text: string, container: string, entry: unknown): string | undefined {
  const node = findNodeAtLocation(
    parseTree(text, [], { allowTrailingComma: true }) as NonNullable<ReturnType<typeof parseTree>>,
    [container],
  );
  const last = node?.type === 'object' ? node.children?.at(-1) : undefined;
  if (node === undefined || last === undefined) return undefined;
  if (node.children?.some((property) => property.children?.[0]?.value === ENTRY_NAME)) return undefined;
  const lineStart = text.lastIndexOf('\n', last.offset - 1) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? '';
  const unit = /^([ \t]+)"/m.exec(text)?.[1] ?? '  ';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (text.slice(lineStart, last.offset).trim() !== '') return undefined;
  const body = JSON.stringify(entry, null, unit.startsWith('\t') ? '\t' : unit.length).replace(/\n/g, `${eol}${indent}`);
  const at = last.offset + last.length;
  return `${text.slice(0, at)},${eol}${indent}${JSON.stringify(ENTRY_NAME)}: ${body}${text.slice(at)}`;
}

/** Removes `container.automcp`, if there is one. */
export function removeEntry(text: string, container: string): string {
  const current = parseJsonc(text, 'client file')[container];
  if (current === null || typeof current !== 'object' || !(ENTRY_NAME in current)) return text;
  return cut(text, container, ENTRY_NAME);
}

/**
 * Removes `container[name]` as text: with the comma and line break before it when it is the last entry
 * (the inverse of {@link insert}), else up to the next entry. Other entries keep their formatting.
 */
function cut(text: string, container: string, name: string): string {
  const tree = parseTree(text, [], { allowTrailingComma: true });
  const properties = tree === undefined ? undefined : findNodeAtLocation(tree, [container])?.children;
  const index = properties?.findIndex((property) => property.children?.[0]?.value === name) ?? -1;
  if (properties === undefined || index < 0) return text;
  const property = properties[index] as NonNullable<typeof properties>[number];
  const previous = properties[index - 1];
  const next = properties[index + 1];
  if (next !== undefined) return text.slice(0, property.offset) + text.slice(next.offset);
  if (previous !== undefined)
    return text.slice(0, previous.offset + previous.length) + text.slice(property.offset + property.length).replace(/^\s*,/, '');
  return edit(text, [container, name], undefined);
}

/** The plain `{command, args}` entry most clients take. */
export function plainEntry(launch: LaunchSpec): Record<string, unknown> {
  return { command: launch.command, args: launch.args };
}

function edit(text: string, path: string[], value: unknown): string {
  const indent = /^([ \t]+)"/m.exec(text)?.[1] ?? '  ';
  const options = {
    formattingOptions: {
      insertSpaces: !indent.startsWith('\t'),
      tabSize: indent.startsWith('\t') ? 1 : indent.length,
      eol: text.includes('\r\n') ? '\r\n' : '\n',
    },
  };
  return applyEdits(text, modify(text, path, value, options));
}
