import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { CallerViews } from '../../src/catalog/view.js';
import { profileSchema } from '../../src/config/schema.js';
import { GatewayError, isGatewayError } from '../../src/errors.js';
import { ArgumentValidator } from '../../src/gateway/arguments.js';
import { toErrorResult } from '../../src/gateway/server.js';
import { editDistance, suggestNames } from '../../src/gateway/suggest.js';
import {
  AUTOMATIC_EVAL,
  AUTOMATIC_MCP,
  parseAutomaticEvalInput,
  parseAutomaticMcpInput,
  UPSTREAM_TOOLS,
} from '../../src/gateway/tools.js';
import { createSilentLogger } from '../../src/logging/logger.js';
import { countTokens } from '../../src/tokens/count.js';
import { LexicalIndex } from '../../src/selection/lexical.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

function gatewayError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    expect(isGatewayError(error)).toBe(true);
    return error as GatewayError;
  }
  throw new Error('expected a GatewayError, but nothing was thrown');
}

describe('automatic_mcp input', () => {
  it('accepts a query and trims it; fresh defaults to false', () => {
    expect(parseAutomaticMcpInput({ query: '  read a file  ' })).toEqual({ query: 'read a file', fresh: false });
  });

  it('passes sessionId, fresh and limit through', () => {
    expect(parseAutomaticMcpInput({ query: 'q', sessionId: 'conv-1:a.b_C', fresh: true, limit: 50 })).toEqual({
      query: 'q',
      sessionId: 'conv-1:a.b_C',
      fresh: true,
      limit: 50,
    });
  });

  it.each([{ query: '' }, { query: '   \n\t ' }])('rejects a blank query %j as INVALID_INPUT', (input) => {
    const error = gatewayError(() => parseAutomaticMcpInput(input));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/query/);
  });

  it('rejects a missing or non-string query', () => {
    expect(gatewayError(() => parseAutomaticMcpInput({})).code).toBe('INVALID_INPUT');
    expect(gatewayError(() => parseAutomaticMcpInput(undefined)).code).toBe('INVALID_INPUT');
    expect(gatewayError(() => parseAutomaticMcpInput({ query: 42 })).message).toMatch(/query/);
  });

  it('rejects a query over 4000 characters after trimming, and accepts exactly 4000', () => {
    const error = gatewayError(() => parseAutomaticMcpInput({ query: 'x'.repeat(4001) }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/4000/);
    expect(parseAutomaticMcpInput({ query: `  ${'x'.repeat(4000)}  ` }).query).toHaveLength(4000);
  });

  it.each(['', 'has space', 'slash/no', 'ünï', 'x'.repeat(129), 5])('rejects the sessionId %j', (sessionId) => {
    const error = gatewayError(() => parseAutomaticMcpInput({ query: 'q', sessionId }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/sessionId/);
  });

  it('accepts a sessionId of exactly 128 characters', () => {
    expect(parseAutomaticMcpInput({ query: 'q', sessionId: 'a'.repeat(128) }).sessionId).toHaveLength(128);
  });

  it.each([0, 51, -1, 2.5, '5'])('rejects the limit %j', (limit) => {
    const error = gatewayError(() => parseAutomaticMcpInput({ query: 'q', limit }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/limit/);
  });

  it('rejects a non-boolean fresh', () => {
    expect(gatewayError(() => parseAutomaticMcpInput({ query: 'q', fresh: 'yes' })).message).toMatch(/fresh/);
  });

  it('rejects unknown fields, naming them', () => {
    const error = gatewayError(() => parseAutomaticMcpInput({ query: 'q', toolName: 'x', extra: 1 }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('"toolName"');
    expect(error.message).toContain('"extra"');
  });
});

describe('automatic_eval input', () => {
  it('defaults arguments to {}', () => {
    expect(parseAutomaticEvalInput({ toolName: 'fs.read' })).toEqual({ toolName: 'fs.read', arguments: {} });
  });

  it('passes arguments and sessionId through', () => {
    expect(parseAutomaticEvalInput({ toolName: 'fs.read', arguments: { path: '/a', n: [1] }, sessionId: 's' })).toEqual({
      toolName: 'fs.read',
      arguments: { path: '/a', n: [1] },
      sessionId: 's',
    });
  });

  it.each([
    {},
    { toolName: '' },
    { toolName: 3 },
    { toolName: 'a.b', arguments: [1] },
    { toolName: 'a.b', arguments: 'x' },
    { toolName: 'a.b', arguments: null },
  ])('rejects %j as INVALID_INPUT', (input) => {
    expect(gatewayError(() => parseAutomaticEvalInput(input)).code).toBe('INVALID_INPUT');
  });

  it('rejects unknown fields and bad sessionIds', () => {
    expect(gatewayError(() => parseAutomaticEvalInput({ toolName: 'a.b', args: {} })).message).toContain('"args"');
    expect(gatewayError(() => parseAutomaticEvalInput({ toolName: 'a.b', sessionId: 'a b' })).message).toMatch(/sessionId/);
  });
});

describe('upstream tool definitions', () => {
  it('are exactly automatic_mcp and automatic_eval', () => {
    expect(UPSTREAM_TOOLS.map((tool) => tool.name)).toEqual([AUTOMATIC_MCP, AUTOMATIC_EVAL]);
    expect(AUTOMATIC_MCP).toBe('automatic_mcp');
    expect(AUTOMATIC_EVAL).toBe('automatic_eval');
  });

  it('describe the two-step flow in under 300 cl100k tokens together', () => {
    const descriptions = UPSTREAM_TOOLS.map((tool) => tool.description);
    const tokens = countTokens(descriptions.join('\n'));
    expect(tokens).toBeGreaterThan(20);
    expect(tokens).toBeLessThan(300);
    expect(descriptions[0]).toMatch(/automatic_eval/);
    expect(descriptions[1]).toMatch(/automatic_mcp/);
  });

  it('the whole tools/list payload stays small', () => {
    // The full JSON (schemas included) is what a client loads once; it stays well under 1000 tokens.
    expect(countTokens(JSON.stringify({ tools: UPSTREAM_TOOLS }))).toBeLessThan(1000);
  });

  it('declare strict input schemas matching the parsers', () => {
    const [mcp, evalTool] = UPSTREAM_TOOLS;
    expect(mcp.inputSchema.additionalProperties).toBe(false);
    expect(mcp.inputSchema.required).toEqual(['query']);
    expect(Object.keys(mcp.inputSchema.properties).sort()).toEqual(['fresh', 'limit', 'query', 'sessionId']);
    expect(evalTool.inputSchema.additionalProperties).toBe(false);
    expect(evalTool.inputSchema.required).toEqual(['toolName']);
    expect(Object.keys(evalTool.inputSchema.properties).sort()).toEqual(['arguments', 'sessionId', 'toolName']);
    expect(mcp.outputSchema.required).toEqual(['runId', 'mode', 'etag', 'tools', 'unchanged', 'totalAvailable']);
  });
});

describe('countTokens', () => {
  it('counts cl100k tokens', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello world')).toBe(2);
  });
});

describe('error results', () => {
  it('carry the code, the message and extra fields as one JSON text block', () => {
    const result = toErrorResult(new GatewayError('TOOL_NOT_FOUND', 'no such tool', { data: { didYouMean: ['a.b'] } }));
    expect(result.isError).toBe(true);
    expect(result.content).toHaveLength(1);
    const block = result.content[0]!;
    expect(block.type).toBe('text');
    expect(JSON.parse((block as { text: string }).text)).toEqual({
      error: { code: 'TOOL_NOT_FOUND', message: 'no such tool' },
      didYouMean: ['a.b'],
    });
  });
});

describe('ArgumentValidator', () => {
  const toolWith = (inputSchema: Record<string, unknown>, name = 't') =>
    new Catalog(hasher).toCatalogTool('s', { name, description: '', inputSchema: inputSchema as Tool['inputSchema'] });
  const schema = {
    type: 'object',
    properties: { path: { type: 'string' }, count: { type: 'integer', minimum: 1 }, mode: { enum: ['a', 'b'] } },
    required: ['path'],
    additionalProperties: false,
  };

  it('accepts valid arguments', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    expect(validator.validate(toolWith(schema), { path: '/x', count: 2, mode: 'a' })).toEqual([]);
  });

  it('reports a missing required property', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const violations = validator.validate(toolWith(schema), {});
    expect(violations).toHaveLength(1);
    expect(violations[0]!.path).toBe('/');
    expect(violations[0]!.message).toContain('"path"');
  });

  it('reports wrong types with a JSON pointer, and every violation at once', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const violations = validator.validate(toolWith(schema), { path: 3, count: 0, mode: 'c', extra: true });
    const paths = violations.map((violation) => violation.path);
    expect(paths).toEqual(expect.arrayContaining(['/path', '/count', '/mode', '/']));
    expect(violations.find((violation) => violation.path === '/path')!.message).toMatch(/string/);
    expect(violations.find((violation) => violation.path === '/mode')!.message).toContain('["a","b"]');
    expect(violations.find((violation) => violation.path === '/')!.message).toContain('"extra"');
  });

  it('checks formats', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const tool = toolWith({ type: 'object', properties: { when: { type: 'string', format: 'date-time' } } });
    expect(validator.validate(tool, { when: '2024-01-02T03:04:05Z' })).toEqual([]);
    expect(validator.validate(tool, { when: 'yesterday' })).toHaveLength(1);
  });

  it('understands a draft 2020-12 schema ($schema, prefixItems, $defs)', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const tool = toolWith({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { point: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'number' }], items: false } },
      properties: { at: { $ref: '#/$defs/point' } },
      required: ['at'],
    });
    expect(validator.validate(tool, { at: [1, 2] })).toEqual([]);
    expect(validator.validate(tool, { at: ['x', 2] }).length).toBeGreaterThan(0);
    expect(validator.validate(tool, { at: [1, 2, 3] }).length).toBeGreaterThan(0);
    expect(validator.validate(tool, {}).length).toBeGreaterThan(0);
  });

  it('understands a draft-07 schema with $schema', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const tool = toolWith({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { n: { type: 'number' } },
    });
    expect(validator.validate(tool, { n: 1 })).toEqual([]);
    expect(validator.validate(tool, { n: 'x' })).toHaveLength(1);
  });

  it('forwards (no violations) when the schema cannot be compiled', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const broken = toolWith({ type: 'object', properties: { a: { $ref: '#/definitions/missing' } } });
    expect(validator.validate(broken, { a: 1 })).toEqual([]);
    const weird = toolWith({ type: 'object', properties: { a: { type: 'no-such-type' } } }, 'weird');
    expect(validator.validate(weird, { a: 1 })).toEqual([]);
  });

  it('reuses compiled validators per definition hash and recompiles when the definition changes', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const v1 = toolWith({ type: 'object', properties: { n: { type: 'number' } } });
    const v2 = toolWith({ type: 'object', properties: { n: { type: 'string' } } });
    expect(validator.validate(v1, { n: 1 })).toEqual([]);
    expect(validator.validate(v2, { n: 1 })).toHaveLength(1);
    expect(validator.validate(v1, { n: 1 })).toEqual([]);
  });

  it('validates two definitions that share a $id against their own schemas (two forks of one server)', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const $id = 'https://example.com/schemas/search.json';
    const byNumber = toolWith({ $id, type: 'object', properties: { q: { type: 'number' } }, required: ['q'] }, 'search');
    const byString = new Catalog(hasher).toCatalogTool('fork', {
      name: 'search',
      description: '',
      inputSchema: { $id, type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } as Tool['inputSchema'],
    });
    expect(validator.validate(byNumber, { q: 1 })).toEqual([]);
    expect(validator.validate(byNumber, { q: 'x' })).toHaveLength(1);
    expect(validator.validate(byString, { q: 'x' })).toEqual([]);
    expect(validator.validate(byString, { q: 1 })).toHaveLength(1);
    expect(validator.validate(byString, {})).toHaveLength(1);
  });

  it('checks a changed definition that keeps its $id (nested $id included) against the new schema', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger() });
    const schema = (type: string) => ({
      $id: 'urn:example:tool',
      type: 'object',
      properties: { item: { $id: 'urn:example:item', type } },
      required: ['item'],
    });
    const before = toolWith(schema('number'));
    const after = toolWith(schema('string'));
    expect(before.hash).not.toBe(after.hash);
    expect(validator.validate(before, { item: 'x' })).toHaveLength(1);
    expect(validator.validate(after, { item: 1 })).toHaveLength(1);
    expect(validator.validate(after, { item: 'x' })).toEqual([]);
    expect(validator.validate(before, { item: 1 })).toEqual([]);
  });

  it('keeps at most maxValidators compiled validators, recompiling an evicted one on its next call', () => {
    const validator = new ArgumentValidator({ logger: createSilentLogger(), maxValidators: 3 });
    const tools = Array.from({ length: 10 }, (_, index) =>
      toolWith({ type: 'object', properties: { [`p${index}`]: { type: 'number' } }, required: [`p${index}`] }, `t${index}`),
    );
    for (const tool of tools) expect(validator.validate(tool, {})).toHaveLength(1);
    expect(validator.size).toBe(3);
    expect(validator.validate(tools[0]!, { p0: 'x' })).toHaveLength(1);
    expect(validator.validate(tools[0]!, { p0: 1 })).toEqual([]);
    expect(validator.size).toBe(3);
  });
});

describe('suggestions', () => {
  it('editDistance is Levenshtein distance', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('flaw', 'lawn')).toBe(2);
    expect(editDistance('same', 'same')).toBe(0);
    expect(editDistance('ab', 'ba')).toBe(2);
  });

  const setup = () => {
    const catalog = new Catalog(hasher);
    const t = (name: string, description: string): Tool => ({ name, description, inputSchema: { type: 'object' } });
    catalog.setServerTools('fs', 'Files', [
      t('read_file', 'Read a file.'),
      t('read_text_file', 'Read a text file.'),
      t('write_file', 'Write a file.'),
      t('list_directory', 'List a directory.'),
    ]);
    catalog.setServerTools('secret', 'Hidden', [t('read_fil', 'Read a secret file.'), t('delete_everything', 'Delete all.')]);
    const views = new CallerViews({ catalog, hasher });
    const view = views.forProfile({ ...profileSchema.parse({ tools: { allow: ['fs.*'] } }), name: 'p' });
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    return { view, index };
  };

  it('suggests close spellings first, by qualified or bare tool name', () => {
    const { view, index } = setup();
    expect(suggestNames({ name: 'fs.read_fiel', view, index })[0]).toBe('fs.read_file');
    expect(suggestNames({ name: 'read_file', view, index })[0]).toBe('fs.read_file');
  });

  it('falls back to lexical matches of the words in the name', () => {
    const { view, index } = setup();
    expect(suggestNames({ name: 'directory_listing', view, index })).toContain('fs.list_directory');
  });

  it('never suggests a tool outside the view, and returns at most the limit', () => {
    const { view, index } = setup();
    const suggestions = suggestNames({ name: 'secret.read_fil', view, index });
    expect(suggestions.length).toBeLessThanOrEqual(3);
    expect(suggestions.every((name) => name.startsWith('fs.'))).toBe(true);
    expect(suggestNames({ name: 'delete_everything', view, index }).some((name) => name.startsWith('secret.'))).toBe(false);
    expect(suggestNames({ name: 'file', view, index, limit: 1 })).toHaveLength(1);
  });

  it('suggests nothing for a name unlike anything visible', () => {
    const { view, index } = setup();
    expect(suggestNames({ name: 'zzzzqqqq.xxyyzz', view, index })).toEqual([]);
  });
});
