/**
 * The two upstream tools: their definitions (what `tools/list` returns, never changing at run time) and
 * the parsing of their inputs. The descriptions teach the two-step flow in well under 300 tokens.
 */
import { z } from 'zod';
import { GatewayError } from '../errors.js';

/** Name of the selection tool. */
export const AUTOMATIC_MCP = 'automatic_mcp';
/** Name of the execution tool. */
export const AUTOMATIC_EVAL = 'automatic_eval';

const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_QUERY = 4000;

const sessionIdSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9._:-]{1,128}$',
  description: 'Your conversation id; keeps track of which definitions you already hold. Default: this connection.',
};

const definitionSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    inputSchema: { type: 'object' },
    outputSchema: { type: 'object' },
    annotations: { type: 'object' },
    hash: { type: 'string' },
  },
  required: ['name', 'description', 'inputSchema', 'hash'],
};

/** `tools/list` of the gateway. */
export const UPSTREAM_TOOLS = [
  {
    name: AUTOMATIC_MCP,
    title: 'Find tools for a task',
    description:
      'Step 1: find the tools for a task. Describe what you want to do in `query`, in plain words. ' +
      'Returns the few relevant tools, most relevant first, with full definitions (name, description, inputSchema) ' +
      'in `tools`. Tools you already received in this conversation are listed in `unchanged` by name and hash only: ' +
      'reuse the definition you have. If you no longer have those definitions, call again with `fresh: true`. ' +
      'Step 2: run a tool with automatic_eval.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: MAX_QUERY, description: 'What you are trying to do, in plain words.' },
        sessionId: sessionIdSchema,
        fresh: { type: 'boolean', description: 'Set true to get full definitions again for tools sent earlier.' },
        limit: { type: 'integer', minimum: 1, maximum: 50, description: 'Most tools to return.' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        runId: { type: 'string' },
        mode: { type: 'string', enum: ['llm', 'hybrid', 'lexical', 'fallback'] },
        etag: { type: 'string' },
        tools: { type: 'array', items: definitionSchema },
        unchanged: {
          type: 'array',
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, hash: { type: 'string' } },
            required: ['name', 'hash'],
          },
        },
        totalAvailable: { type: 'integer' },
      },
      required: ['runId', 'mode', 'etag', 'tools', 'unchanged', 'totalAvailable'],
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: AUTOMATIC_EVAL,
    title: 'Run a tool',
    description:
      'Run a tool that automatic_mcp returned. Pass `toolName` exactly as returned (like `server.tool`) and ' +
      "`arguments` matching its inputSchema. Returns the tool's own result. Gateway errors come back as JSON " +
      '`{"error": {"code", "message"}}`: INVALID_ARGUMENTS includes the schema so you can fix the call; ' +
      'TOOL_NOT_FOUND suggests names in `didYouMean`.',
    inputSchema: {
      type: 'object',
      properties: {
        toolName: { type: 'string', minLength: 1, description: 'Qualified tool name from automatic_mcp.' },
        arguments: { type: 'object', description: "The tool's arguments.", additionalProperties: true },
        sessionId: sessionIdSchema,
      },
      required: ['toolName'],
      additionalProperties: false,
    },
    annotations: { openWorldHint: true },
  },
] as const;

/** Parsed `automatic_mcp` input. */
export interface AutomaticMcpInput {
  query: string;
  sessionId?: string;
  fresh: boolean;
  limit?: number;
}

/** Parsed `automatic_eval` input. */
export interface AutomaticEvalInput {
  toolName: string;
  arguments: Record<string, unknown>;
  sessionId?: string;
}

const mcpInput = z.strictObject({
  query: z.string({ error: 'query: expected a string describing the task' }),
  sessionId: z.string().regex(SESSION_ID, 'sessionId: expected 1–128 characters of [A-Za-z0-9._:-]').optional(),
  fresh: z.boolean({ error: 'fresh: expected true or false' }).optional(),
  limit: z
    .number()
    .int('limit: expected an integer from 1 to 50')
    .min(1, 'limit: expected an integer from 1 to 50')
    .max(50, 'limit: expected an integer from 1 to 50')
    .optional(),
});

const evalInput = z.strictObject({
  toolName: z
    .string({ error: 'toolName: expected a qualified tool name such as "server.tool"' })
    .min(1, 'toolName: must not be empty'),
  arguments: z.record(z.string(), z.unknown(), { error: 'arguments: expected an object' }).optional(),
  sessionId: z.string().regex(SESSION_ID, 'sessionId: expected 1–128 characters of [A-Za-z0-9._:-]').optional(),
});

/** Validates `automatic_mcp` arguments; throws INVALID_INPUT that says what to fix. */
export function parseAutomaticMcpInput(raw: unknown): AutomaticMcpInput {
  const parsed = parseOrThrow(mcpInput, raw ?? {});
  const query = parsed.query.trim();
  if (query.length === 0) throw new GatewayError('INVALID_INPUT', 'query: must describe the task (it is empty)');
  if (query.length > MAX_QUERY)
    throw new GatewayError('INVALID_INPUT', `query: at most ${MAX_QUERY} characters (got ${query.length})`);
  return {
    query,
    fresh: parsed.fresh ?? false,
    ...(parsed.sessionId !== undefined ? { sessionId: parsed.sessionId } : {}),
    ...(parsed.limit !== undefined ? { limit: parsed.limit } : {}),
  };
}

/** Validates `automatic_eval` arguments; throws INVALID_INPUT that says what to fix. */
export function parseAutomaticEvalInput(raw: unknown): AutomaticEvalInput {
  const plain = plainEvalInput(raw);
  if (plain) return plain;
  const parsed = parseOrThrow(evalInput, raw ?? {});
  return {
    toolName: parsed.toolName,
    arguments: parsed.arguments ?? {},
    ...(parsed.sessionId !== undefined ? { sessionId: parsed.sessionId } : {}),
  };
}

/**
 * The usual input — a tool name and a plain object of arguments, nothing else — accepted without zod,
 * which costs more than the rest of the gateway's own work on a call. Anything else (a sessionId, a
 * missing or odd field) is left to the schema, which also words the errors.
 */
function plainEvalInput(raw: unknown): AutomaticEvalInput | undefined {
  if (!isPlainObject(raw)) return undefined;
  for (const key in raw) if (key !== 'toolName' && key !== 'arguments') return undefined;
  const { toolName, arguments: args } = raw;
  if (typeof toolName !== 'string' || toolName.length === 0) return undefined;
  if (args === undefined) return { toolName, arguments: {} };
  return isPlainObject(args) ? { toolName, arguments: args } : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function parseOrThrow<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    if (issue.code === 'invalid_type' && issue.path.length === 0) return 'expected an object of arguments';
    const field = issue.path.join('.') || 'input';
    // Our own messages already start with the field; zod's generic ones do not say which field.
    return issue.message.startsWith(`${field}:`) ? issue.message : `${field}: ${issue.message}`;
  });
  throw new GatewayError('INVALID_INPUT', messages.join('; '));
}
