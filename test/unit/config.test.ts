import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandEnv, formatPath } from '../../src/config/expand.js';
import { listProfiles, loadConfig, loadProfile, parseProfile, parseRuntime } from '../../src/config/load.js';
import { ConfigError, isConfigError } from '../../src/errors.js';
import { profileSchema } from '../../src/config/schema.js';

const FILE = '/tmp/x/runtime.yaml';

/** Runs `fn`, expects a ConfigError and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(isConfigError(error)).toBe(true);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

async function configErrorAsync(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(isConfigError(error)).toBe(true);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

const runtime = (text: string, env: Record<string, string | undefined> = {}) => parseRuntime({ file: FILE, text, env });

describe('parseRuntime', () => {
  it('fills in defaults for a minimal runtime', () => {
    const config = runtime('version: 1\n');
    expect(config.file).toBe(FILE);
    expect(config.dir).toBe('/tmp/x');
    expect(config.profilesDir).toBe('/tmp/x/profiles');
    expect(config.servers).toEqual([]);
    expect(config.selector).toEqual({ candidates: 40 });
    expect(config.session).toEqual({ ttlSeconds: 3600, maxSessions: 10_000, store: 'memory', redisKeyPrefix: 'automcp:' });
    expect(config.logging).toEqual({ level: 'info' });
    // The ops change tools may run no command and reach no URL until a person lists them, and what they add waits for review.
    expect(config.ops).toEqual({ allowCommands: [], allowUrls: [], approveAdded: false });
  });

  it("refuses a server named automcp: the name is reserved for the gateway's own tools", () => {
    const error = configError(() => runtime('version: 1\nservers:\n  automcp:\n    command: node\n'));
    expect(error.problems.join('\n')).toContain('"automcp" is not a valid name');
    expect(error.problems.join('\n')).toContain('reserved');
  });

  it('names servers and keeps stdio and URL entries apart', () => {
    const config = runtime(
      [
        'version: 1',
        'servers:',
        '  memory:',
        '    command: npx',
        '    args: [mcp-server-memory]',
        '    cwd: ./work',
        '    timeoutMs: 5000',
        '  remote:',
        '    url: https://example.com/mcp',
        '    headers: {Authorization: "Bearer x"}',
        '',
      ].join('\n'),
    );
    expect(config.servers.map((server) => server.name)).toEqual(['memory', 'remote']);
    const [memory, remote] = config.servers;
    expect(memory).toMatchObject({
      name: 'memory',
      command: 'npx',
      args: ['mcp-server-memory'],
      cwd: '/tmp/x/work',
      timeoutMs: 5000,
    });
    expect(remote).toMatchObject({ name: 'remote', url: 'https://example.com/mcp', headers: { Authorization: 'Bearer x' } });
    expect(remote?.command).toBeUndefined();
  });

  it('resolves profilesDir relative to the runtime file, and keeps absolute ones', () => {
    expect(runtime('version: 1\nprofilesDir: ../shared/profiles\n').profilesDir).toBe('/tmp/shared/profiles');
    expect(runtime('version: 1\nprofilesDir: /etc/automcp/profiles\n').profilesDir).toBe('/etc/automcp/profiles');
  });

  it('rejects an unknown top-level key, naming the file, the key and the expected keys', () => {
    const error = configError(() => runtime('version: 1\nserverz: {}\n'));
    expect(error.file).toBe(FILE);
    expect(error.message).toContain(FILE);
    expect(error.message).toContain('"serverz"');
    expect(error.message).toMatch(/expected one of: .*version.*servers.*selector/);
  });

  it('rejects an unknown key inside a server entry with its key path and the server keys', () => {
    const error = configError(() => runtime('version: 1\nservers:\n  mem:\n    command: npx\n    argz: []\n'));
    expect(error.problems).toHaveLength(1);
    const problem = error.problems[0]!;
    expect(problem).toContain('servers.mem');
    expect(problem).toContain('"argz"');
    for (const key of ['command', 'args', 'env', 'url', 'headers']) expect(problem).toContain(key);
  });

  it('rejects a wrong type, naming the key path and what was expected', () => {
    const error = configError(() => runtime('version: 1\nsession:\n  ttlSeconds: "an hour"\n'));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain('session.ttlSeconds');
    expect(error.problems[0]).toMatch(/number/);
  });

  it('rejects a bad enum value listing the allowed ones', () => {
    const error = configError(() => runtime('version: 1\nlogging:\n  level: loud\n'));
    expect(error.problems[0]).toContain('logging.level');
    expect(error.problems[0]).toContain('debug');
  });

  it('reads quarantine and ops.approveAdded, and names the key of a bad value', () => {
    const config = runtime('version: 1\nops:\n  approveAdded: true\nservers:\n  q:\n    command: x\n    quarantine: true\n');
    expect(config.ops.approveAdded).toBe(true);
    expect(config.servers[0]?.quarantine).toBe(true);
    const error = configError(() => runtime('version: 1\nservers:\n  q:\n    command: x\n    quarantine: maybe\n'));
    expect(error.problems[0]).toContain('servers.q.quarantine');
    expect(error.problems[0]).toContain('boolean');
    const ops = configError(() => runtime('version: 1\nops:\n  approveAdded: sometimes\n'));
    expect(ops.problems[0]).toContain('ops.approveAdded');
  });

  it('reads the instances of a server, and names the choices for a bad one', () => {
    const servers = runtime('version: 1\nservers:\n  b:\n    command: x\n    instances: per-caller\n').servers;
    expect(servers[0]?.instances).toBe('per-caller');
    const problem = configError(() => runtime('version: 1\nservers:\n  b:\n    command: x\n    instances: each\n')).problems[0];
    expect(problem).toContain('servers.b.instances');
    expect(problem).toContain('per-caller');
  });

  it('reports every problem at once', () => {
    const error = configError(() => runtime('version: 1\nfoo: 1\nsession:\n  maxSessions: 0\n'));
    expect(error.problems.length).toBeGreaterThanOrEqual(2);
    expect(error.problems.join('\n')).toContain('"foo"');
    expect(error.problems.join('\n')).toContain('session.maxSessions');
  });

  it('rejects a server name outside [A-Za-z0-9_-]{1,64} and says which name and what is expected', () => {
    const error = configError(() => runtime('version: 1\nservers:\n  "bad.name":\n    command: npx\n'));
    const text = error.problems.join('\n');
    expect(text).toContain('servers');
    expect(text).toContain('bad.name');
    // CONTRACT §3: bad names are errors that name "what was expected".
    expect(text).toMatch(/A-Za-z0-9_-|server name/);
  });

  it('rejects a server with both command and url', () => {
    const error = configError(() => runtime('version: 1\nservers:\n  x:\n    command: npx\n    url: https://e.com/mcp\n'));
    expect(error.problems[0]).toContain('servers.x');
    expect(error.problems[0]).toMatch(/exactly one of `command`.*`url`/);
  });

  it('rejects a server with neither command nor url', () => {
    const error = configError(() => runtime('version: 1\nservers:\n  x:\n    description: nothing to run\n'));
    expect(error.problems[0]).toContain('servers.x');
    expect(error.problems[0]).toMatch(/exactly one of/);
  });

  it('rejects stdio-only keys on a URL server, and headers on a stdio server', () => {
    const url = configError(() =>
      runtime('version: 1\nservers:\n  x:\n    url: https://e.com/mcp\n    args: [a]\n    env: {A: b}\n'),
    );
    expect(url.problems).toEqual(
      expect.arrayContaining([expect.stringContaining('servers.x.args'), expect.stringContaining('servers.x.env')]),
    );
    expect(url.problems.join('\n')).toMatch(/only to stdio servers/);
    const stdio = configError(() => runtime('version: 1\nservers:\n  x:\n    command: npx\n    headers: {a: b}\n'));
    expect(stdio.problems[0]).toContain('servers.x.headers');
  });

  it('rejects a non-http URL', () => {
    const error = configError(() => runtime('version: 1\nservers:\n  x:\n    url: ftp://e.com/mcp\n'));
    expect(error.problems[0]).toContain('servers.x.url');
  });

  it('rejects an unsupported version', () => {
    const error = configError(() => runtime('version: 2\n'));
    expect(error.problems[0]).toContain('version');
  });

  it('reports a YAML syntax error with its line number', () => {
    const text = ['version: 1', 'servers:', '  x:', '    command: "unterminated', '    args: [1]', ''].join('\n');
    const error = configError(() => runtime(text));
    expect(error.file).toBe(FILE);
    expect(error.message).toMatch(/YAML syntax error at line \d+/);
    const line = Number(/line (\d+)/.exec(error.message)?.[1]);
    // The error is at or just after the unterminated string on line 4.
    expect(line).toBeGreaterThanOrEqual(4);
    expect(line).toBeLessThanOrEqual(6);
  });

  it('reports a YAML syntax error on line 2 as line 2', () => {
    const error = configError(() => runtime('version: 1\nservers: {x: [}\n'));
    expect(error.message).toMatch(/line 2\b/);
  });

  it('rejects a document that is not a mapping', () => {
    const error = configError(() => runtime('- a\n- b\n'));
    expect(error.problems[0]).toContain('(root)');
  });
});

describe('environment expansion', () => {
  const SERVER = (value: string) => `version: 1\nservers:\n  x:\n    command: npx\n    env: {A: "${value}"}\n`;
  const envOf = (config: ReturnType<typeof runtime>) => config.servers[0]?.env?.A;

  it('expands ${VAR} from the given environment', () => {
    expect(envOf(runtime(SERVER('${HOME_DIR}/data'), { HOME_DIR: '/home/u' }))).toBe('/home/u/data');
  });

  it('uses ${VAR:-default} when the variable is unset or empty', () => {
    expect(envOf(runtime(SERVER('${NOPE:-fallback}'), {}))).toBe('fallback');
    expect(envOf(runtime(SERVER('${EMPTY:-fallback}'), { EMPTY: '' }))).toBe('fallback');
    expect(envOf(runtime(SERVER('${SET:-fallback}'), { SET: 'value' }))).toBe('value');
  });

  it('accepts an empty default', () => {
    expect(envOf(runtime(SERVER('a${NOPE:-}b'), {}))).toBe('ab');
  });

  it('names the key path of a missing variable', () => {
    const error = configError(() => runtime(SERVER('${NOPE_VAR}'), {}));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain('servers.x.env.A');
    expect(error.problems[0]).toContain('NOPE_VAR');
  });

  it('names array positions in the key path', () => {
    const error = configError(() => runtime('version: 1\nservers:\n  x:\n    command: npx\n    args: [ok, "${NOPE}"]\n', {}));
    expect(error.problems[0]).toContain('servers.x.args[1]');
  });

  it('writes $${ as a literal ${ without expanding', () => {
    expect(envOf(runtime(SERVER('$${HOME}'), { HOME: '/home/u' }))).toBe('${HOME}');
    expect(envOf(runtime(SERVER('a $${B} ${C}'), { C: 'c' }))).toBe('a ${B} c');
  });

  it('expands inside URLs and headers', () => {
    const config = runtime(
      'version: 1\nservers:\n  r:\n    url: "https://${HOST}/mcp"\n    headers: {Authorization: "Bearer ${TOKEN}"}\n',
      {
        HOST: 'example.com',
        TOKEN: 's3cret',
      },
    );
    expect(config.servers[0]).toMatchObject({ url: 'https://example.com/mcp', headers: { Authorization: 'Bearer s3cret' } });
  });

  it('leaves keys alone and non-strings untouched', () => {
    const problems: string[] = [];
    const out = expandEnv({ '${K}': '${V}', n: 3, b: true, z: null, list: ['${V}'] }, { env: { K: 'key', V: 'val' }, problems });
    expect(out).toEqual({ '${K}': 'val', n: 3, b: true, z: null, list: ['val'] });
    expect(problems).toEqual([]);
  });

  it('formats key paths', () => {
    expect(formatPath([])).toBe('(root)');
    expect(formatPath(['servers', 'x', 'args', 2])).toBe('servers.x.args[2]');
  });
});

describe('values that YAML or expansion leave as text or null', () => {
  it('treats a key written with no value as absent, so its defaults apply', () => {
    const config = runtime('version: 1\nservers:\nsession:\n');
    expect(config.servers).toEqual([]);
    expect(config.session).toEqual({ ttlSeconds: 3600, maxSessions: 10_000, store: 'memory', redisKeyPrefix: 'automcp:' });
  });

  it('takes numbers and booleans from ${VAR} expansion', () => {
    const config = runtime('version: 1\nservers:\n  a: {command: x, timeoutMs: "${T:-5000}", enabled: "${E}"}\n', { E: 'false' });
    expect(config.servers[0]).toMatchObject({ timeoutMs: 5000, enabled: false });
  });

  it('still rejects text that is not a number, naming the key', () => {
    expect(() => runtime('version: 1\nservers:\n  a: {command: x, timeoutMs: "${T}"}\n', { T: 'soon' })).toThrow(
      /servers\.a\.timeoutMs: .*expected number/,
    );
  });

  it('accepts only http(s) for the selector baseUrl', () => {
    expect(() => runtime('version: 1\nselector: {llm: {provider: openai, model: m, baseUrl: "ftp://x"}}\n')).toThrow(
      /selector\.llm\.baseUrl/,
    );
  });

  it('takes selector.embeddings, and names the key that is wrong', () => {
    const config = runtime(
      'version: 1\nselector: {embeddings: {provider: ollama, model: nomic-embed-text, timeoutMs: "2000"}}\n',
    );
    expect(config.selector.embeddings).toEqual({ provider: 'ollama', model: 'nomic-embed-text', timeoutMs: 2000 });
    expect(runtime('version: 1\nselector: {embeddings: {provider: openai, model: m}}\n').selector.embeddings?.timeoutMs).toBe(
      5000,
    );
    expect(() => runtime('version: 1\nselector: {embeddings: {provider: anthropic, model: m}}\n')).toThrow(
      /selector\.embeddings\.provider/,
    );
    expect(() => runtime('version: 1\nselector: {embeddings: {provider: openai, model: m, dims: 3}}\n')).toThrow(/dims/);
  });

  it('takes selection.mode hybrid in a profile', () => {
    expect(profileSchema.parse({ selection: { mode: 'hybrid' } }).selection.mode).toBe('hybrid');
    expect(profileSchema.safeParse({ selection: { mode: 'semantic' } }).success).toBe(false);
  });
});

describe('session store', () => {
  it('takes store: redis with a redisUrl from the environment and a key prefix', () => {
    const config = runtime('version: 1\nsession: {store: redis, redisUrl: "${REDIS_URL}", redisKeyPrefix: "team-a:"}\n', {
      REDIS_URL: 'redis://:pw@10.0.0.5:6380/2',
    });
    expect(config.session).toMatchObject({ store: 'redis', redisUrl: 'redis://:pw@10.0.0.5:6380/2', redisKeyPrefix: 'team-a:' });
    expect(runtime('version: 1\nsession: {store: redis, redisUrl: "rediss://cache.example:6390"}\n').session.redisUrl).toBe(
      'rediss://cache.example:6390',
    );
  });

  it('requires redisUrl with store: redis, and only there', () => {
    expect(configError(() => runtime('version: 1\nsession: {store: redis}\n')).problems).toEqual([
      'session.redisUrl: `store: redis` needs `redisUrl` (e.g. "${REDIS_URL}")',
    ]);
    expect(configError(() => runtime('version: 1\nsession: {redisUrl: "redis://localhost"}\n')).problems).toEqual([
      'session.redisUrl: `redisUrl` applies only with `store: redis`',
    ]);
  });

  it('rejects a URL that is not redis:// or rediss:// without echoing it', () => {
    const error = configError(() => runtime('version: 1\nsession: {store: redis, redisUrl: "http://user:s3cret@host"}\n'));
    expect(error.problems).toEqual(['session.redisUrl: expected a redis:// or rediss:// URL']);
    expect(error.message).not.toContain('s3cret');
    expect(configError(() => runtime('version: 1\nsession: {store: redis, redisUrl: "s3cret"}\n')).message).not.toContain(
      's3cret',
    );
  });

  it('rejects an unknown store and a key prefix with characters outside [A-Za-z0-9_:.-]', () => {
    expect(() => runtime('version: 1\nsession: {store: postgres}\n')).toThrow(/session\.store: .*"memory".*"redis"/);
    expect(() => runtime('version: 1\nsession: {redisKeyPrefix: "a*b"}\n')).toThrow(
      /session\.redisKeyPrefix: expected 1–64 characters of \[A-Za-z0-9_:.-\]/,
    );
  });
});

describe('parseProfile', () => {
  const profile = (text: string) => parseProfile({ file: '/tmp/p/reviewer.yaml', name: 'reviewer', text, env: {} });

  it('fills in defaults', () => {
    const parsed = profile('description: Reviews pull requests\n');
    expect(parsed).toEqual({
      name: 'reviewer',
      description: 'Reviews pull requests',
      tools: { allow: ['*'], deny: [], readOnly: false, pinned: [] },
      selection: { limit: 8, mode: 'auto', output: 'both', learn: true },
      eval: { timeoutMs: 60_000, meta: false },
      ops: { allRuns: false },
    });
  });

  it('rejects unknown keys under tools, listing the expected keys', () => {
    const error = configError(() => profile('tools:\n  allw: ["*"]\n'));
    expect(error.file).toBe('/tmp/p/reviewer.yaml');
    expect(error.problems[0]).toContain('tools');
    expect(error.problems[0]).toContain('"allw"');
    expect(error.problems[0]).toMatch(/allow.*deny.*readOnly.*pinned/);
  });

  it('reads pinned roots, and rejects a root that is not a file:// URI', () => {
    expect(profile('roots:\n  - uri: file:///srv/build\n    name: build\n').roots).toEqual([
      { uri: 'file:///srv/build', name: 'build' },
    ]);
    const problem = configError(() => profile('roots:\n  - uri: https://example.com\n')).problems[0];
    expect(problem).toContain('roots[0].uri');
    expect(problem).toContain('file://');
  });

  it('rejects an out-of-range limit and a bad mode', () => {
    expect(configError(() => profile('selection:\n  limit: 51\n')).problems[0]).toContain('selection.limit');
    expect(configError(() => profile('selection:\n  mode: magic\n')).problems[0]).toContain('selection.mode');
  });

  it('reads selection.output and eval.meta, and names the forms when the output is unknown', () => {
    const parsed = profile('selection:\n  output: text\neval:\n  meta: "true"\n');
    expect(parsed.selection.output).toBe('text');
    expect(parsed.eval.meta).toBe(true);
    const problem = configError(() => profile('selection:\n  output: json\n')).problems[0];
    expect(problem).toContain('selection.output');
    expect(problem).toMatch(/both.*structured.*text/);
  });

  it('treats an empty profile file as all defaults', () => {
    // A profile that only sets its name (an empty file) should mean "everything, default limits".
    const parsed = profile('');
    expect(parsed.tools.allow).toEqual(['*']);
    const commented = profile('# nothing here yet\n');
    expect(commented.selection.limit).toBe(8);
  });
});

describe('files on disk', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'automcp-config-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loadConfig reads runtime.yaml from a file path or its folder and resolves profilesDir against it', async () => {
    await writeFile(join(dir, 'runtime.yaml'), 'version: 1\nprofilesDir: ./my-profiles\nservers:\n  a: {command: "${CMD}"}\n');
    const byFile = await loadConfig({ path: join(dir, 'runtime.yaml'), env: { CMD: 'node' } });
    const byDir = await loadConfig({ path: dir, env: { CMD: 'node' } });
    expect(byFile.profilesDir).toBe(join(dir, 'my-profiles'));
    expect(byDir.file).toBe(join(dir, 'runtime.yaml'));
    expect(byDir.servers[0]?.command).toBe('node');
  });

  it('loadConfig uses AUTOMCP_CONFIG when no path is given', async () => {
    await writeFile(join(dir, 'runtime.yaml'), 'version: 1\n');
    const config = await loadConfig({ env: { AUTOMCP_CONFIG: dir } });
    expect(config.file).toBe(join(dir, 'runtime.yaml'));
  });

  it('loadConfig fails with a ConfigError naming a missing file', async () => {
    const missing = join(dir, 'nope.yaml');
    const error = await configErrorAsync(loadConfig({ path: missing, env: {} }));
    expect(error.file).toBe(missing);
    expect(error.message).toMatch(/not found/);
  });

  it('loadConfig names the real file in validation errors', async () => {
    await writeFile(join(dir, 'runtime.yaml'), 'version: 1\nbogus: true\n');
    const error = await configErrorAsync(loadConfig({ path: dir, env: {} }));
    expect(error.file).toBe(join(dir, 'runtime.yaml'));
    expect(error.message).toContain('"bogus"');
  });

  it('loadProfile reads a named profile', async () => {
    await mkdir(join(dir, 'profiles'));
    await writeFile(join(dir, 'profiles', 'reviewer.yaml'), 'description: "${ROLE}"\ntools:\n  allow: ["github.*"]\n');
    const profile = await loadProfile({ profilesDir: join(dir, 'profiles'), name: 'reviewer', env: { ROLE: 'Reviews code' } });
    expect(profile.name).toBe('reviewer');
    expect(profile.description).toBe('Reviews code');
    expect(profile.tools.allow).toEqual(['github.*']);
  });

  it('an unknown named profile is a ConfigError that lists the known profiles', async () => {
    await mkdir(join(dir, 'profiles'));
    await writeFile(join(dir, 'profiles', 'reviewer.yaml'), 'description: r\n');
    await writeFile(join(dir, 'profiles', 'coder.yaml'), 'description: c\n');
    await writeFile(join(dir, 'profiles', 'notes.txt'), 'not a profile');
    const error = await configErrorAsync(loadProfile({ profilesDir: join(dir, 'profiles'), name: 'writer', env: {} }));
    expect(error.message).toContain('"writer"');
    expect(error.message).toContain('coder, reviewer');
    expect(error.message).not.toContain('notes');
    expect(await listProfiles(join(dir, 'profiles'))).toEqual(['coder', 'reviewer']);
  });

  it('an explicitly named "default" that is absent fails closed', async () => {
    const error = await configErrorAsync(loadProfile({ profilesDir: dir, name: 'default', env: {} }));
    expect(error.message).toContain('does not exist');
    expect(error.message).toContain('none');
  });

  it('the implicit default profile falls back to the built-in one when its file is absent', async () => {
    const profile = await loadProfile({ profilesDir: join(dir, 'missing-folder'), env: {} });
    expect(profile.name).toBe('default');
    expect(profile.tools).toEqual({ allow: ['*'], deny: [], readOnly: false, pinned: [] });
    expect(profile.selection).toEqual({ limit: 8, mode: 'auto', output: 'both', learn: true });
  });

  it('the implicit default profile is read from default.yaml when present', async () => {
    await writeFile(join(dir, 'default.yaml'), 'selection:\n  limit: 3\n');
    const profile = await loadProfile({ profilesDir: dir, env: {} });
    expect(profile.name).toBe('default');
    expect(profile.selection.limit).toBe(3);
  });

  it.each(['../etc/passwd', 'a/b', 'has space', 'dot.name', ''])('rejects the invalid profile name %j', async (name) => {
    const error = await configErrorAsync(loadProfile({ profilesDir: dir, name, env: {} }));
    expect(error.message).toMatch(/not valid/);
  });
});

describe('traces', () => {
  it('defaults to on, 32 MB, 7 days, no argument values', () => {
    expect(runtime('version: 1\n').traces).toEqual({ enabled: true, maxMegabytes: 32, maxDays: 7, includeArguments: false });
  });

  it('takes every key, numbers from ${VAR} included', () => {
    const config = runtime(
      'version: 1\ntraces: {enabled: false, maxMegabytes: "${MB}", maxDays: 0.5, includeArguments: true}\n',
      {
        MB: '250',
      },
    );
    expect(config.traces).toEqual({ enabled: false, maxMegabytes: 250, maxDays: 0.5, includeArguments: true });
  });

  it('names the key and what it expects when a value is wrong, and refuses unknown keys', () => {
    expect(configError(() => runtime('version: 1\ntraces: {maxMegabytes: 0}\n')).problems).toEqual([
      'traces.maxMegabytes: Too small: expected number to be >=0.1',
    ]);
    expect(() => runtime('version: 1\ntraces: {maxDays: forever}\n')).toThrow(/traces\.maxDays: .*expected number/);
    expect(configError(() => runtime('version: 1\ntraces: {includeArgs: true}\n')).problems).toEqual([
      'traces: unknown key "includeArgs" (expected one of: enabled, maxMegabytes, maxDays, includeArguments, countTokens)',
    ]);
  });
});
