/**
 * Poisoning detection over whole tool definitions. Everything a server says about a tool reaches a
 * model — the selector's prompt and the agent's context — so every string is read: the description
 * and title, each parameter's name, description, enum values, default and examples, nested schemas at
 * any depth, and the output schema. A definition with findings is held back until a person approves
 * it (downstream/review.ts); the findings name the rule, where it fired and the offending text.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { scanText, type FieldKind, type RuleId } from './rules.js';

export type { RuleId } from './rules.js';

/** One thing in a definition that looks aimed at a model rather than at describing the tool. */
export interface Finding {
  rule: RuleId;
  /** Where: `description`, `inputSchema.properties.notes.description`, `inputSchema.properties.x.default`… */
  field: string;
  /** The offending text, with invisible and control characters spelled as `\u{…}`, at most {@link SPAN_CHARS}. */
  span: string;
}

/** Longest span kept in a finding (what `review` prints). */
export const SPAN_CHARS = 120;
/** Deepest schema nesting read, so a cyclic or absurd schema cannot stall the scan. */
const MAX_DEPTH = 24;

/** Keys whose value is a subschema, or a list or map of subschemas. */
const SUBSCHEMA = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'] as const;
const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const;
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'] as const;
/** Keys whose values are data a model reads as examples of what to send. */
const VALUE_KEYS = ['default', 'enum', 'const', 'examples', 'example'] as const;
/** Parameters whose values are URLs by their nature, so a URL default there is expected. */
const URL_PARAMETER =
  /url|uri|link|endpoint|href|web|site|domain|host|hook|callback|base|server|proxy|redirect|origin|feed|repo|scope/i;

/** Scans one definition; an empty list means nothing was found. */
export function scanTool(
  tool: Pick<Tool, 'name' | 'description' | 'title' | 'inputSchema' | 'outputSchema' | 'annotations'>,
): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (field: string, text: string, kind: FieldKind, urlParameter = false) => {
    for (const hit of scanText(text, { kind, urlParameter })) {
      const finding = { rule: hit.rule, field, span: printable(hit.span) };
      const key = `${finding.rule}\u0000${field}\u0000${finding.span}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push(finding);
    }
  };
  add('name', tool.name, 'name');
  if (typeof tool.description === 'string') add('description', tool.description, 'description');
  if (typeof tool.title === 'string') add('title', tool.title, 'description');
  const annotationTitle = (tool.annotations as { title?: unknown } | undefined)?.title;
  if (typeof annotationTitle === 'string') add('annotations.title', annotationTitle, 'description');
  walkSchema(tool.inputSchema, 'inputSchema', { add, depth: 0, urlParameter: false });
  if (tool.outputSchema) walkSchema(tool.outputSchema, 'outputSchema', { add, depth: 0, urlParameter: false });
  return findings;
}

type Add = (field: string, text: string, kind: FieldKind, urlParameter?: boolean) => void;

function walkSchema(schema: unknown, path: string, context: { add: Add; depth: number; urlParameter: boolean }): void {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return;
  const { add, depth, urlParameter } = context;
  // Deeper than any real schema: what lies below is not read (and not worth hiding anything in).
  if (depth > MAX_DEPTH) return;
  const node = schema as Record<string, unknown>;
  const isUrl = urlParameter || node.format === 'uri' || node.format === 'url' || node.format === 'uri-reference';
  for (const key of ['description', 'title', '$comment'] as const) {
    if (typeof node[key] === 'string') add(`${path}.${key}`, node[key], 'description');
  }
  for (const key of VALUE_KEYS) {
    if (key in node) walkValue(node[key], `${path}.${key}`, { add, depth: depth + 1, urlParameter: isUrl });
  }
  const next = (value: unknown, at: string, url = false) => walkSchema(value, at, { add, depth: depth + 1, urlParameter: url });
  for (const key of SUBSCHEMA) next(node[key], `${path}.${key}`, key === 'items' && isUrl);
  for (const key of SUBSCHEMA_LISTS) {
    const list = node[key];
    if (Array.isArray(list)) list.forEach((item, index) => next(item, `${path}.${key}[${index}]`, isUrl));
  }
  for (const key of SUBSCHEMA_MAPS) {
    const map = node[key];
    if (map === null || typeof map !== 'object' || Array.isArray(map)) continue;
    for (const [name, value] of Object.entries(map)) {
      const at = `${path}.${key}.${name}`;
      if (key === 'properties' || key === 'patternProperties') add(at, name, 'name');
      next(value, at, key === 'properties' && URL_PARAMETER.test(name));
    }
  }
}

/** Strings inside a value (default, enum, examples), at any depth of arrays and objects. */
function walkValue(value: unknown, path: string, context: { add: Add; depth: number; urlParameter: boolean }): void {
  if (context.depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    context.add(path, value, 'value', context.urlParameter);
    // A long value is prose a model reads: instructions in a default are as effective as in a description.
    if (/\s\S+\s/.test(value)) context.add(path, value, 'description', context.urlParameter);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const entries = Array.isArray(value)
    ? value.map((item, index) => [`[${index}]`, item] as const)
    : Object.entries(value).map(([key, item]) => [`.${key}`, item] as const);
  for (const [suffix, item] of entries) {
    // An example object's own keys say what its values are ({"website": "https://…"}).
    const urlParameter = context.urlParameter || (!Array.isArray(value) && URL_PARAMETER.test(suffix));
    walkValue(item, `${path}${suffix}`, { ...context, depth: context.depth + 1, urlParameter });
  }
}

/** The span as a person can read it: invisible and control characters spelled out, cut to length. */
export function printable(span: string): string {
  const out = escapeHidden(span);
  return out.length > SPAN_CHARS ? `${out.slice(0, SPAN_CHARS - 1)}…` : out;
}

/**
 * Text with invisible and control characters spelled as `\u{…}` (tab and line breaks kept), so what a
 * reviewer reads in a terminal is what a model reads — and no escape sequence reaches the terminal.
 */
export function escapeHidden(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const hidden =
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0xad ||
      (code >= 0x200b && code <= 0x200f) ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2060 && code <= 0x206f) ||
      code === 0xfeff ||
      (code >= 0xe0000 && code <= 0xe01ef);
    const kept = code === 0x09 || code === 0x0a || code === 0x0d;
    out += hidden && !kept ? `\\u{${code.toString(16).toUpperCase()}}` : char;
  }
  return out;
}
