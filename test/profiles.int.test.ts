/**
 * Profiles as a caller meets them through `automcp serve`: deny lists, allow lists and readOnly filter
 * what selection offers and what eval runs, hidden tools are indistinguishable from unknown ones, and a
 * profile that does not exist stops `serve` before anything starts (fail closed).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemServer, makeTempDir, memoryServer, writeConfigDir, type TempConfig } from './helpers/config.js';
import {
  errorPayload,
  evalTool,
  firstText,
  selectTools,
  serveGateway,
  type McpOutput,
  type ServedGateway,
} from './helpers/gateway.js';
import { runServeToExit } from './helpers/rawServe.js';

const REVIEWER_DENY = ['filesystem.write_file', 'filesystem.edit_file', 'memory.delete_*'];
const BROAD_QUERY = 'read write edit create delete list search move files directories entities relations observations graph';

let tmp: string;
let filesDir: string;
let config: TempConfig;
const gateways: Partial<Record<'default' | 'reviewer' | 'readonly' | 'scoped', ServedGateway>> = {};

function gatewayFor(name: keyof typeof gateways): ServedGateway {
  const gateway = gateways[name];
  if (!gateway) throw new Error(`gateway ${name} did not start`);
  return gateway;
}

function names(output: McpOutput): string[] {
  return [...output.tools.map((tool) => tool.name), ...output.unchanged.map((tool) => tool.name)];
}

beforeAll(async () => {
  tmp = await makeTempDir('automcp-profiles-');
  filesDir = join(tmp, 'files');
  await mkdir(filesDir);
  await writeFile(join(filesDir, 'readme.txt'), 'profiles test file\n');
  config = await writeConfigDir({
    dir: join(tmp, 'config'),
    runtime: {
      servers: {
        filesystem: filesystemServer(filesDir),
        memory: memoryServer(join(tmp, 'memory.jsonl')),
      },
    },
    profiles: {
      default: { description: 'Everything.' },
      reviewer: {
        description: 'Reviews code; reads, never writes files or deletes memory.',
        tools: { allow: ['*'], deny: REVIEWER_DENY },
      },
      readonly: { description: 'Only tools annotated read-only.', tools: { readOnly: true } },
      scoped: { description: 'Only the knowledge graph.', tools: { allow: ['memory.*'] } },
    },
  });
  const [byDefault, reviewer, readonly, scoped] = await Promise.allSettled([
    serveGateway({ configDir: config.dir }),
    serveGateway({ configDir: config.dir, profile: 'reviewer' }),
    // The environment variable is the alternative to --profile.
    serveGateway({ configDir: config.dir, env: { AUTOMCP_PROFILE: 'readonly' } }),
    serveGateway({ configDir: config.dir, profile: 'scoped' }),
  ]);
  for (const [name, started] of [
    ['default', byDefault],
    ['reviewer', reviewer],
    ['readonly', readonly],
    ['scoped', scoped],
  ] as const) {
    if (started?.status === 'fulfilled') gateways[name] = started.value;
  }
  for (const started of [byDefault, reviewer, readonly, scoped]) {
    if (started?.status === 'rejected') throw started.reason;
  }
});

afterAll(async () => {
  try {
    await Promise.allSettled(Object.values(gateways).map((gateway) => gateway.close()));
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
});

describe('a deny list', () => {
  it('hides denied tools from selection and changes what the caller can see', async () => {
    const all = await selectTools(gatewayFor('default').client, { query: BROAD_QUERY, limit: 50, sessionId: 'p-all' });
    const reviewer = await selectTools(gatewayFor('reviewer').client, { query: BROAD_QUERY, limit: 50, sessionId: 'p-rev' });
    const denied = names(all).filter(
      (name) => name === 'filesystem.write_file' || name === 'filesystem.edit_file' || name.startsWith('memory.delete_'),
    );
    expect(denied.length).toBe(5); // the default caller does see them
    for (const name of denied) expect(names(reviewer)).not.toContain(name);
    expect(reviewer.totalAvailable).toBe(all.totalAvailable - denied.length);
    expect(reviewer.etag).not.toBe(all.etag);

    const focused = await selectTools(gatewayFor('reviewer').client, {
      query: 'create a new file or overwrite a file with new content',
      limit: 50,
      sessionId: 'p-rev-write',
    });
    expect(names(focused)).not.toContain('filesystem.write_file');
  });

  it('refuses a denied tool in eval as TOOL_NOT_FOUND, indistinguishable from an unknown tool', async () => {
    const client = gatewayFor('reviewer').client;
    const target = join(filesDir, 'must-not-exist.txt');
    const denied = errorPayload(await evalTool(client, 'filesystem.write_file', { path: target, content: 'nope' }));
    expect(denied.error.code).toBe('TOOL_NOT_FOUND');
    expect(existsSync(target)).toBe(false);
    expect(denied.didYouMean).not.toContain('filesystem.write_file');
    expect(denied.error.message).not.toMatch(/den(y|ied)|forbid|profile|not allowed|permission|hidden/i);

    const unknown = errorPayload(await evalTool(client, 'filesystem.scribble_file', { path: target, content: 'nope' }));
    expect(unknown.error.code).toBe('TOOL_NOT_FOUND');
    expect(Object.keys(denied).sort()).toEqual(Object.keys(unknown).sort());
    expect(denied.error.message.replace('filesystem.write_file', 'X')).toBe(
      unknown.error.message.replace('filesystem.scribble_file', 'X'),
    );

    const deleteEntities = errorPayload(await evalTool(client, 'memory.delete_entities', { entityNames: ['x'] }));
    expect(deleteEntities.error.code).toBe('TOOL_NOT_FOUND');
    expect(deleteEntities.didYouMean).not.toContain('memory.delete_entities');
  });

  it('never suggests a denied tool for a near miss', async () => {
    const client = gatewayFor('reviewer').client;
    for (const misspelled of ['filesystem.write_fil', 'filesystem.writefile', 'filesystem.edit_files', 'memory.delete_entity']) {
      const payload = errorPayload(await evalTool(client, misspelled, {}));
      expect(payload.error.code).toBe('TOOL_NOT_FOUND');
      const suggestions = payload.didYouMean as string[];
      expect(suggestions.length).toBeLessThanOrEqual(3);
      for (const suggestion of suggestions) {
        expect(['filesystem.write_file', 'filesystem.edit_file']).not.toContain(suggestion);
        expect(suggestion.startsWith('memory.delete_')).toBe(false);
      }
    }
    // The default caller does get the near miss suggested: the reviewer's answer is the profile at work.
    const open = errorPayload(await evalTool(gatewayFor('default').client, 'filesystem.write_fil', {}));
    expect(open.didYouMean).toContain('filesystem.write_file');
  });

  it('still runs the tools the profile allows', async () => {
    const result = await evalTool(gatewayFor('reviewer').client, 'filesystem.read_text_file', {
      path: join(filesDir, 'readme.txt'),
    });
    expect(result.isError).toBeFalsy();
    expect(firstText(result)).toBe('profiles test file\n');
  });
});

describe('readOnly and allow lists', () => {
  it('offers only tools annotated readOnlyHint: true to a readOnly profile (chosen by AUTOMCP_PROFILE)', async () => {
    const client = gatewayFor('readonly').client;
    const output = await selectTools(client, { query: BROAD_QUERY, limit: 50, sessionId: 'p-ro' });
    expect(output.tools.length).toBeGreaterThan(0);
    for (const tool of output.tools) expect(tool.annotations?.readOnlyHint).toBe(true);
    expect(names(output)).toContain('filesystem.read_text_file');
    const payload = errorPayload(
      await evalTool(client, 'filesystem.write_file', { path: join(filesDir, 'ro.txt'), content: 'x' }),
    );
    expect(payload.error.code).toBe('TOOL_NOT_FOUND');
    expect(existsSync(join(filesDir, 'ro.txt'))).toBe(false);
  });

  it('offers only allowed servers to a profile with an allow list', async () => {
    const client = gatewayFor('scoped').client;
    const output = await selectTools(client, {
      query: 'read the contents of a text file from disk',
      limit: 50,
      sessionId: 'p-scoped',
    });
    for (const name of names(output)) expect(name.startsWith('memory.')).toBe(true);
    const payload = errorPayload(await evalTool(client, 'filesystem.read_text_file', { path: join(filesDir, 'readme.txt') }));
    expect(payload.error.code).toBe('TOOL_NOT_FOUND');
    for (const suggestion of payload.didYouMean as string[]) expect(suggestion.startsWith('memory.')).toBe(true);
  });
});

describe('an unknown profile', () => {
  it('stops serve with a non-zero exit and a stderr message naming the profile (--profile)', async () => {
    const run = await runServeToExit({ args: ['--config', config.dir, '--profile', 'nosuchprofile'] });
    expect(run.timedOut).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toContain('nosuchprofile');
    expect(run.stdout).toBe('');
  });

  it('stops serve the same way when AUTOMCP_PROFILE names it', async () => {
    const run = await runServeToExit({ args: ['--config', config.dir], env: { AUTOMCP_PROFILE: 'ghostprofile' } });
    expect(run.timedOut).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toContain('ghostprofile');
    expect(run.stdout).toBe('');
  });

  it('refuses a profile name that would leave the profiles folder', async () => {
    const run = await runServeToExit({ args: ['--config', config.dir, '--profile', '../config/profiles/default'] });
    expect(run.timedOut).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
  });
});

describe('--config', () => {
  it('accepts the runtime.yaml file as well as its folder', async () => {
    const gateway = await serveGateway({ configDir: config.runtimeFile, profile: 'scoped' });
    try {
      const output = await selectTools(gateway.client, { query: 'search the knowledge graph', sessionId: 'p-file' });
      expect(output.tools.length).toBeGreaterThan(0);
      for (const name of names(output)) expect(name.startsWith('memory.')).toBe(true);
    } finally {
      await gateway.close();
    }
  });

  it('stops serve on a runtime.yaml with an unknown key, naming the file and the key', async () => {
    const bad = await writeConfigDir({
      dir: join(tmp, 'bad-config'),
      runtime: { servers: { memory: memoryServer(join(tmp, 'bad-memory.jsonl')) }, sesion: { ttlSeconds: 5 } },
      profiles: { default: {} },
    });
    const run = await runServeToExit({ args: ['--config', bad.dir] });
    expect(run.timedOut).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toContain(bad.runtimeFile);
    expect(run.stderr).toContain('sesion');
    expect(run.stdout).toBe('');
  });
});
