/**
 * The shapes of runtime.yaml and profiles/*.yaml (CONTRACT §2–3). Every object is strict so a typo
 * is an error, not a silently ignored key; `.describe()` texts become the "expected" part of errors.
 */
import { z } from 'zod';

/** Server names are the prefix of qualified tool names, so they may not contain a dot. */
export const SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Profile names become file names; nothing that could climb out of profilesDir. */
export const PROFILE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `${VAR}` expansion always yields text, so numbers and booleans also accept their plain spelling as a
 * string (`timeoutMs: ${TIMEOUT:-5000}`); anything else is left for the schema to reject.
 */
function fromText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return value;
}

/** An integer field that also takes a numeric string (see {@link fromText}). */
const integer = (min: number, max?: number) =>
  z.preprocess(fromText, max === undefined ? z.number().int().min(min) : z.number().int().min(min).max(max));
/** A boolean field that also takes "true" or "false". */
const boolean = () => z.preprocess(fromText, z.boolean());

const timeoutMs = integer(1, 3_600_000).describe('a timeout in milliseconds (1–3600000)');

/**
 * `servers.<name>.oauth`: sign-in settings of a remote server. Without `clientId` automcp registers
 * itself with the authorization server (dynamic client registration); with it, the client a person
 * registered by hand is used. The secret stays in the environment, never in runtime.yaml.
 */
export const oauthSchema = z.strictObject({
  clientId: z.string().min(1).optional().describe('the client ID registered with the authorization server'),
  clientSecretEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable (letters, digits and _)')
    .optional()
    .describe('the name of an environment variable holding the client secret'),
  scopes: z.array(z.string().min(1)).min(1).optional().describe('a list of OAuth scopes to ask for'),
  callbackPort: integer(1, 65535)
    .optional()
    .describe('a fixed loopback port for the sign-in redirect (1–65535), for clients registered with one redirect URI'),
});

/** One downstream server: `command` for stdio, or `url` for Streamable HTTP (with SSE fallback). */
export const serverSchema = z
  .strictObject({
    command: z.string().min(1).optional().describe('the executable of a stdio server'),
    args: z.array(z.string()).optional().describe('a list of command-line arguments'),
    env: z.record(z.string(), z.string()).optional().describe('a map of environment variables'),
    cwd: z.string().min(1).optional().describe('a working directory (relative to runtime.yaml)'),
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('an http(s) URL of a Streamable HTTP or SSE server'),
    headers: z.record(z.string(), z.string()).optional().describe('a map of HTTP headers'),
    oauth: oauthSchema.optional().describe('sign-in settings: clientId, clientSecretEnv, scopes, callbackPort'),
    description: z.string().optional().describe('a sentence about the server, used by selection'),
    timeoutMs: timeoutMs.optional(),
    enabled: boolean().optional().describe('false to keep the entry but not connect'),
    lazy: boolean().optional().describe('false to start the server at boot and keep it running'),
    idleTimeoutSeconds: integer(0, 604_800)
      .optional()
      .describe('seconds a stdio server may sit unused before it is stopped (0: never; 0–604800)'),
    pinDefinitions: boolean()
      .optional()
      .describe('true to hold back a tool whose definition changed until `automcp trust <server>`'),
    quarantine: boolean()
      .optional()
      .describe("true to keep the server's tools from every caller until `automcp review approve <server>`"),
    instances: z
      .enum(['shared', 'per-caller'])
      .optional()
      .describe('shared (one process for every caller) or per-caller (one process per caller, started on its first call)'),
  })
  .superRefine((server, ctx) => {
    if ((server.command === undefined) === (server.url === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of `command` (stdio) or `url` (HTTP)' });
    }
    if (server.url !== undefined) {
      for (const key of ['args', 'env', 'cwd'] as const) {
        if (server[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `\`${key}\` applies only to stdio servers (with \`command\`)` });
      }
    }
    if (server.command !== undefined && server.oauth !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['oauth'], message: '`oauth` applies only to HTTP servers (with `url`)' });
    }
    if (server.oauth !== undefined && Object.keys(server.headers ?? {}).some((key) => key.toLowerCase() === 'authorization')) {
      ctx.addIssue({
        code: 'custom',
        path: ['oauth'],
        message: '`oauth` and an `Authorization` header both set the credentials; keep one',
      });
    }
    if (server.oauth?.clientSecretEnv !== undefined && server.oauth.clientId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['oauth', 'clientSecretEnv'],
        message: '`clientSecretEnv` needs `clientId` beside it',
      });
    }
    if (server.command !== undefined && server.headers !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: '`headers` applies only to HTTP servers (with `url`)' });
    }
  });

/** `selector.llm`: the chat model that may choose among the lexical candidates. */
export const llmSchema = z.strictObject({
  provider: z.enum(['openai', 'anthropic', 'ollama']),
  model: z.string().min(1).describe('a model name'),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional()
    .describe('the name of an environment variable'),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('an http(s) URL'),
  timeoutMs: timeoutMs.default(10_000),
  temperature: z.preprocess(fromText, z.number().min(0).max(2)).optional(),
});

/**
 * `selector.embeddings`: the embedding model that ranks tools by meaning next to the lexical ranker.
 * `openai` speaks any OpenAI-compatible `/v1/embeddings` (OpenAI, Ollama's /v1, LM Studio, vLLM, TEI,
 * llama.cpp server); `ollama` speaks Ollama's own `/api/embed`.
 */
export const embeddingsSchema = z.strictObject({
  provider: z.enum(['openai', 'ollama']).describe('openai (any OpenAI-compatible /v1/embeddings) or ollama (/api/embed)'),
  model: z.string().min(1).describe('an embedding model name'),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('an http(s) URL (for openai, the part before /embeddings, e.g. http://127.0.0.1:8080/v1)'),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional()
    .describe('the name of an environment variable'),
  timeoutMs: timeoutMs.default(5_000),
});

/** Caller names appear in logs, metrics and session keys; the same alphabet as profile names. */
export const CALLER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
  .describe('the name of an environment variable');
const sha256Hex = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/)
  .describe('64 hex characters: the SHA-256 of the token');
/** One value or a list of them: a list lets a caller hold two tokens while one is being rotated out. */
const oneOrMore = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);

/** `callers.<name>`: who may call the HTTP gateway, with which bearer token(s), under which profile. */
export const callerSchema = z
  .strictObject({
    profile: z.string().regex(PROFILE_NAME).describe('a profile name (a file in profilesDir without .yaml)'),
    tokenEnv: oneOrMore(envName).optional(),
    tokenSha256: oneOrMore(sha256Hex).optional(),
  })
  .superRefine((caller, ctx) => {
    if (caller.tokenEnv === undefined && caller.tokenSha256 === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected `tokenEnv` (an environment variable holding the token) or `tokenSha256`',
      });
    }
  });

/** Characters a Redis key prefix may use: readable in `redis-cli`, no glob or hash-tag characters. */
export const REDIS_KEY_PREFIX = /^[A-Za-z0-9_:.-]{1,64}$/;

/**
 * `session`: how long conversations are remembered, and where. `redis` lets several gateway processes
 * share what each conversation was sent; its URL usually comes from `${VAR}` because it may hold a password.
 */
export const sessionSchema = z
  .strictObject({
    ttlSeconds: integer(1).default(3600),
    maxSessions: integer(1).default(10_000),
    store: z.enum(['memory', 'redis']).default('memory'),
    redisUrl: z
      .url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' })
      .optional()
      .describe('a redis:// or rediss:// URL'),
    redisKeyPrefix: z.string().regex(REDIS_KEY_PREFIX, 'expected 1–64 characters of [A-Za-z0-9_:.-]').default('automcp:'),
  })
  .superRefine((session, ctx) => {
    if (session.store === 'redis' && session.redisUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['redisUrl'], message: '`store: redis` needs `redisUrl` (e.g. "${REDIS_URL}")' });
    }
    if (session.store !== 'redis' && session.redisUrl !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['redisUrl'], message: '`redisUrl` applies only with `store: redis`' });
    }
  });

/**
 * `traces`: the record of every `automatic_mcp` and `automatic_eval` call kept in `<stateDir>/runs/`,
 * read back with `automcp runs`. Argument values and results stay out unless `includeArguments`.
 */
export const tracesSchema = z.strictObject({
  enabled: boolean().default(true).describe('false to keep no run traces'),
  maxMegabytes: z
    .preprocess(fromText, z.number().min(0.1).max(100_000))
    .default(32)
    .describe('the most disk space run traces may take, in megabytes (0.1–100000)'),
  maxDays: z
    .preprocess(fromText, z.number().min(0.01).max(3650))
    .default(7)
    .describe('how many days run traces are kept (0.01–3650)'),
  includeArguments: boolean().default(false).describe('true to also keep the arguments and results of automatic_eval calls'),
  countTokens: boolean()
    .optional()
    .describe(
      "true or false: record each selection's token counts (default: only with serve --http; the tokenizer costs ~30 MB)",
    ),
});

/**
 * `ops`: what the gateway's own change tools (`automcp.add_server`, …) may do. Both lists are empty by
 * default, so no agent can make the gateway run a program or reach a URL that a person did not name.
 */
export const opsSchema = z.strictObject({
  allowCommands: z
    .array(z.string().min(1))
    .default([])
    .describe('a list of commands (exactly as `command` will say them) that automcp.add_server may run'),
  allowUrls: z
    .array(z.url({ protocol: /^https?$/ }))
    .default([])
    .describe('a list of http(s) URL prefixes that automcp.add_server may connect to'),
  approveAdded: boolean()
    .default(false)
    .describe(
      'true to let servers added by automcp.add_server (within allowCommands / allowUrls) serve at once, without `quarantine: true` and review',
    ),
});

/** runtime.yaml as a whole. */
export const runtimeSchema = z.strictObject({
  version: z.preprocess(fromText, z.literal(1)).describe('1'),
  profilesDir: z.string().min(1).default('./profiles'),
  stateDir: z
    .string()
    .min(1)
    .optional()
    .describe('a folder for the catalog cache, trusted hashes and status files (relative to this file)'),
  servers: z
    .record(
      z
        .string()
        .regex(SERVER_NAME, 'expected a server name matching [A-Za-z0-9_-]{1,64}')
        .refine((name) => name !== 'automcp', 'the name "automcp" is reserved for the gateway\'s own tools; pick another'),
      serverSchema,
    )
    .default({}),
  ops: opsSchema.prefault({}),
  selector: z
    .strictObject({
      candidates: integer(1, 500).default(40),
      llm: llmSchema.optional(),
      /** An embedding model: tools ranked by meaning too, fused with the lexical ranking (docs/selection.md). */
      embeddings: embeddingsSchema.optional(),
      /**
       * With a model: state the request's needs first and retrieve per need — `true` for requests that
       * read as several needs (one more call for those), `always` for every request. Off when absent.
       */
      decompose: z.union([z.boolean(), z.literal('always')]).optional(),
      /** With a model: candidate lines of name and first clause only, so more candidates fit the same tokens. */
      compact: z.boolean().optional(),
      /**
       * With a model: pick servers from one line each before retrieval and add their best tools to the
       * candidates — `true` in one model call (shared with decompose and rewrite), `lexical` by a BM25
       * ranking of the server lines (no call). Off when absent.
       */
      serverFirst: z
        .union([z.boolean(), z.literal('lexical')], {
          error: 'expected true, false or "lexical" (servers picked by the model, or by a lexical ranking of their lines)',
        })
        .optional(),
      /** With a model: restate the request as actions and objects before retrieval (in the server-first call). */
      rewrite: z.boolean().optional(),
    })
    .prefault({}),
  session: sessionSchema.prefault({}),
  /** Learning from use: how long evidence lasts and how much of it is kept (docs/configuration.md). */
  learning: z
    .strictObject({
      halfLifeDays: z
        .preprocess(fromText, z.number().positive().max(3650))
        .default(30)
        .describe('days after which learned evidence counts half (0–3650)'),
      maxEntries: integer(1, 10_000_000).default(50_000).describe('most (term, tool) pairs kept per profile'),
      sessionCap: z
        .preprocess(fromText, z.number().positive().max(100))
        .default(2)
        .describe('most weight one session adds to one (term, tool) pair (0–100)'),
      weight: z
        .preprocess(fromText, z.number().min(0).max(100))
        .default(1)
        .describe('scale of the learned score against the lexical score (0 ranks as if nothing was learned)'),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  callers: z
    .record(z.string().regex(CALLER_NAME, 'expected a caller name matching [A-Za-z0-9_-]{1,64}'), callerSchema)
    .default({}),
  traces: tracesSchema.prefault({}),
});

const globList = z.array(z.string().min(1)).describe('a list of globs over qualified tool names');

/** One profiles/<name>.yaml: what a caller may see and use, and how selection treats it. */
export const profileSchema = z.strictObject({
  description: z.string().default(''),
  instructions: z.string().optional(),
  tools: z
    .strictObject({
      allow: globList.default(['*']),
      deny: globList.default([]),
      readOnly: boolean().default(false),
      pinned: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  selection: z
    .strictObject({
      limit: integer(1, 50).default(8),
      mode: z
        .enum(['auto', 'llm', 'hybrid', 'lexical'])
        .default('auto')
        .describe(
          'auto (the chat model when configured, else embeddings with lexical when configured, else lexical), llm, hybrid (embeddings with lexical, no chat model) or lexical',
        ),
      learn: boolean().default(true).describe('false to neither learn from use nor rank with what was learned'),
      output: z
        .enum(['both', 'structured', 'text'])
        .default('both')
        .describe(
          'how automatic_mcp returns its result: both (structuredContent and the same JSON as text), structured (structuredContent and a one-line text summary) or text (JSON text only, no outputSchema)',
        ),
    })
    .prefault({}),
  roots: z
    .array(
      z.strictObject({
        uri: z.string().startsWith('file://', 'expected a file:// URI'),
        name: z.string().optional(),
      }),
    )
    .optional()
    .describe("roots every caller of this profile gives downstream servers, in place of its client's own"),
  eval: z
    .strictObject({
      timeoutMs: timeoutMs.default(60_000),
      meta: boolean()
        .default(false)
        .describe('true to add _meta "automcp/server" and "automcp/durationMs" to every automatic_eval result'),
    })
    .prefault({}),
  ops: z
    .strictObject({
      allRuns: boolean()
        .default(false)
        .describe("true to let automcp.list_runs / get_run show every caller's runs, not only its own"),
    })
    .prefault({}),
});

/** One validated `servers.<name>` entry. */
export type ServerConfig = z.infer<typeof serverSchema>;
/** Validated `servers.<name>.oauth`. */
export type OAuthConfig = z.infer<typeof oauthSchema>;
/** One validated `callers.<name>` entry. */
export type CallerConfig = z.infer<typeof callerSchema>;
/** Validated `selector.llm`. */
export type LlmConfig = z.infer<typeof llmSchema>;
/** Validated `selector.embeddings`. */
export type EmbeddingsConfig = z.infer<typeof embeddingsSchema>;
/** Validated `ops`. */
export type OpsConfig = z.infer<typeof opsSchema>;
/** Validated runtime.yaml, before paths are resolved. */
export type RuntimeFile = z.infer<typeof runtimeSchema>;
/** Validated `traces`. */
export type TracesConfig = z.infer<typeof tracesSchema>;
/** Validated `learning`. */
export type LearningConfig = z.infer<typeof runtimeSchema>['learning'];
/** Validated `session`. */
export type SessionConfig = z.infer<typeof sessionSchema>;
/** A validated profile file. */
export type ProfileFile = z.infer<typeof profileSchema>;
