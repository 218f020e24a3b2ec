/**
 * The definitions of the gateway's own tools (server `automcp`, CONTRACT §2): names, descriptions that
 * selection ranks, input and output schemas, and annotations. They enter the catalog like a downstream
 * server's tools, so `automatic_mcp` finds them and `automatic_eval` checks their arguments with the
 * same validator before service.ts runs them. Only profiles that name them (`automcp.…`) see them.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

type Schema = Record<string, unknown>;
/** An object schema, as MCP tool input and output schemas must be. */
type ObjectSchema = { type: 'object'; [key: string]: unknown };

const object = (properties: Record<string, Schema>, required: string[] = []): ObjectSchema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  additionalProperties: false,
});
const string = (description: string): Schema => ({ type: 'string', description });
const stringMap = (description: string): Schema => ({ type: 'object', additionalProperties: { type: 'string' }, description });
const globs = (description: string): Schema => ({ type: 'array', items: { type: 'string', minLength: 1 }, description });
const serverName = string('the server name, as in runtime.yaml');
const loose: Schema = { type: 'object' };
const list = (key: string): ObjectSchema => ({
  type: 'object',
  properties: { [key]: { type: 'array', items: loose } },
  required: [key],
});
/** What every change tool returns: what changed, and how to undo it. */
const change = (extra: Record<string, Schema> = {}): ObjectSchema => ({
  type: 'object',
  properties: {
    changed: string('what this call changed'),
    undo: string('how to undo it'),
    ...extra,
  },
  required: ['changed', 'undo'],
});

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** The keys of a runtime.yaml server entry, as `add_server` takes them at the top level. */
const SERVER_ENTRY: Record<string, Schema> = {
  command: string('the executable of a stdio server; must be listed in runtime.yaml ops.allowCommands'),
  args: { type: 'array', items: { type: 'string' }, description: 'command-line arguments' },
  env: stringMap('environment variables; "${VAR}" references are kept as references'),
  cwd: string('working directory, inside the configuration folder'),
  url: string('http(s) URL of a Streamable HTTP server; must start with an entry of ops.allowUrls'),
  headers: stringMap('HTTP headers; use "${VAR}" for secrets'),
  description: string('a sentence about the server, used by selection'),
  timeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
  enabled: { type: 'boolean' },
  lazy: { type: 'boolean', description: 'false to start it now and keep it running' },
  idleTimeoutSeconds: { type: 'integer', minimum: 0, maximum: 604_800 },
  pinDefinitions: { type: 'boolean' },
};

const PROFILE_KEYS: Record<string, Schema> = {
  description: string('what the caller does (given to the selector)'),
  instructions: string('instructions for the selector'),
  tools: {
    type: 'object',
    properties: {
      allow: globs('globs over qualified names; only globs starting with "automcp." reach automcp tools'),
      deny: globs('globs over qualified names; deny wins'),
      readOnly: { type: 'boolean' },
      pinned: globs('tools always returned when allowed and relevant'),
    },
    additionalProperties: false,
  },
  selection: {
    type: 'object',
    properties: { limit: { type: 'integer', minimum: 1, maximum: 50 }, mode: { enum: ['auto', 'llm', 'lexical'] } },
    additionalProperties: false,
  },
  eval: {
    type: 'object',
    properties: { timeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 } },
    additionalProperties: false,
  },
  ops: { type: 'object', properties: { allRuns: { type: 'boolean' } }, additionalProperties: false },
};

/** Every ops tool, by its name inside the `automcp` server. */
export const OPS_TOOLS: readonly Tool[] = [
  {
    name: 'list_servers',
    description:
      'List the downstream MCP servers of this gateway: state (up, down, failed, idle), pid, number of tools, tools held back, whether it is quarantined, last error and retry time; and a configuration edit that was refused, if any. Use it to see why a server is down.',
    inputSchema: object({}),
    outputSchema: {
      type: 'object' as const,
      properties: { servers: { type: 'array', items: loose }, refusedEdit: loose },
      required: ['servers'],
    },
    annotations: { title: 'List servers', ...READ },
  },
  {
    name: 'get_server',
    description:
      "Show one server's configuration entry (secrets masked), its state, its tools and any tools held back (definition changed, server quarantined, or poisoning findings) with the reason.",
    inputSchema: object({ name: serverName }, ['name']),
    outputSchema: {
      type: 'object' as const,
      properties: {
        name: { type: 'string' },
        entry: loose,
        status: loose,
        tools: { type: 'array' },
        heldBack: { type: 'array' },
        review: { type: 'string' },
      },
      required: ['name'],
    },
    annotations: { title: 'Get server', ...READ },
  },
  {
    name: 'list_profiles',
    description: 'List the caller profiles (permission sets) in the profiles folder and which callers use them.',
    inputSchema: object({}),
    outputSchema: list('profiles'),
    annotations: { title: 'List profiles', ...READ },
  },
  {
    name: 'get_profile',
    description:
      'Show one profile: its effective allow/deny/readOnly rules, selection and eval settings, and the tools they let through.',
    inputSchema: object({ name: string('the profile name (file name without .yaml)') }, ['name']),
    outputSchema: {
      type: 'object' as const,
      properties: { name: { type: 'string' }, rules: loose, visibleTools: { type: 'array' } },
      required: ['name'],
    },
    annotations: { title: 'Get profile', ...READ },
  },
  {
    name: 'list_runs',
    description:
      'List recent automatic_mcp / automatic_eval runs from the run traces (your own unless the profile allows all), newest first.',
    inputSchema: object({
      caller: string('only runs of this caller (needs ops.allRuns for other callers)'),
      since: string('only runs after this time: ISO 8601, or a duration such as 15m, 1h, 2d'),
      tool: string('only runs that chose or called this qualified tool name'),
      limit: { type: 'integer', minimum: 1, maximum: 200, description: 'most runs to return (default 20)' },
    }),
    outputSchema: {
      type: 'object' as const,
      properties: { enabled: { type: 'boolean' }, runs: { type: 'array', items: loose } },
      required: ['enabled', 'runs'],
    },
    annotations: { title: 'List runs', ...READ },
  },
  {
    name: 'get_run',
    description:
      'Show one run trace by run id: request, candidates with lexical ranks, chosen tools, model reasons, latency, outcome.',
    inputSchema: object({ runId: string('a run id such as r_8c1f2a9e') }, ['runId']),
    outputSchema: { type: 'object' as const, properties: { enabled: { type: 'boolean' }, run: loose }, required: ['enabled'] },
    annotations: { title: 'Get run', ...READ },
  },
  {
    name: 'restart_server',
    description:
      'Restart one downstream server now (stop it and its children, start it again, reset its failure backoff). Calls in flight on it fail.',
    inputSchema: object({ name: serverName }, ['name']),
    outputSchema: change({ status: loose }),
    annotations: {
      title: 'Restart server',
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
  },
  {
    name: 'trust_server',
    description:
      'Trust the current tool definitions of a server (like `automcp trust`): releases tools held back by pinDefinitions after their definition changed.',
    inputSchema: object({ name: serverName }, ['name']),
    outputSchema: change({ trusted: { type: 'integer' }, changes: { type: 'array', items: loose }, removed: { type: 'array' } }),
    annotations: {
      title: 'Trust server',
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
  },
  {
    name: 'forget_session',
    description:
      'Forget which tool definitions this conversation was sent, so the next automatic_mcp returns them in full again.',
    inputSchema: object({ sessionId: string('the sessionId used with automatic_mcp (default: this connection)') }),
    outputSchema: change(),
    annotations: {
      title: 'Forget session',
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
  },
  {
    name: 'add_server',
    description:
      'Add a downstream MCP server to runtime.yaml and start it live: name plus the keys of a server entry (command/args/env or url/headers, description, …). Only commands in ops.allowCommands may run. Its tools stay quarantined until a person approves them (unless ops.approveAdded).',
    inputSchema: object(
      { name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'the new server name' }, ...SERVER_ENTRY },
      ['name'],
    ),
    outputSchema: change({
      file: { type: 'string' },
      backup: { type: 'string' },
      status: loose,
      quarantined: { type: 'boolean' },
    }),
    annotations: { title: 'Add server', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  },
  {
    name: 'remove_server',
    description:
      'Remove a downstream server from runtime.yaml and stop it with its children; the result holds its entry to add it back.',
    inputSchema: object({ name: serverName }, ['name']),
    outputSchema: change({ file: { type: 'string' }, backup: { type: 'string' }, entry: loose }),
    annotations: {
      title: 'Remove server',
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    },
  },
  {
    name: 'update_profile',
    description:
      'Create or change a profile file (permissions of a caller): each key given replaces that key; replace: true makes the file exactly the keys given. Applied live.',
    inputSchema: object(
      {
        name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'the profile name' },
        replace: { type: 'boolean', description: 'true: the profile becomes exactly the keys given' },
        ...PROFILE_KEYS,
      },
      ['name'],
    ),
    outputSchema: change({ file: { type: 'string' }, backup: { type: 'string' }, previous: loose }),
    annotations: {
      title: 'Update profile',
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    },
  },
];

/** The description of the `automcp` server in the catalog (what lexical selection reads for it). */
export const OPS_SERVER_DESCRIPTION =
  'The automcp gateway itself: its servers, profiles and run traces; restart, trust, add or remove servers, change profiles.';
