import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog, type CatalogChange } from '../../src/catalog/catalog.js';
import { globToRegExp, matchesAny } from '../../src/catalog/glob.js';
import { canonicalJson, loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { qualifyName, splitQualifiedName } from '../../src/catalog/naming.js';
import { CallerViews, isAllowed } from '../../src/catalog/view.js';
import type { Profile } from '../../src/config/load.js';
import { profileSchema } from '../../src/config/schema.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({
  name,
  description: `${name} does things`,
  inputSchema: { type: 'object', properties: {} },
  ...extra,
});

const profileOf = (name: string, tools: Record<string, unknown>): Profile => ({ ...profileSchema.parse({ tools }), name });

describe('naming', () => {
  it('qualifies with the server name and a dot', () => {
    expect(qualifyName('filesystem', 'read_text_file')).toBe('filesystem.read_text_file');
  });

  it('splits at the first dot, keeping the tool part unchanged', () => {
    expect(splitQualifiedName('filesystem.read_text_file')).toEqual({ server: 'filesystem', tool: 'read_text_file' });
    expect(splitQualifiedName('srv.ns.tool.v2')).toEqual({ server: 'srv', tool: 'ns.tool.v2' });
  });

  it('round-trips names whose tool part contains dots', () => {
    const name = qualifyName('a-b_1', 'x.y');
    expect(splitQualifiedName(name)).toEqual({ server: 'a-b_1', tool: 'x.y' });
  });

  it.each(['noserver', '.tool', 'server.', 'bad server.tool', `${'s'.repeat(65)}.tool`, ''])('rejects %j', (name) => {
    expect(splitQualifiedName(name)).toBeUndefined();
  });
});

describe('hash', () => {
  it('canonicalJson sorts keys at every depth and drops undefined members', () => {
    const a = canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } });
    expect(a).toBe('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('canonicalJson is independent of key order but not of array order', () => {
    expect(canonicalJson({ x: 1, y: { p: 1, q: 2 } })).toBe(canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
    expect(canonicalJson({ list: [1, 2] })).not.toBe(canonicalJson({ list: [2, 1] }));
  });

  it('h64 gives 16 lowercase hex chars and h32 gives 8', () => {
    for (const text of ['', 'a', 'a longer text with unicode ✓']) {
      expect(hasher.h64(text)).toMatch(/^[0-9a-f]{16}$/);
      expect(hasher.h32(text)).toMatch(/^[0-9a-f]{8}$/);
    }
    expect(hasher.h64('a')).toBe(hasher.h64('a'));
    expect(hasher.h64('a')).not.toBe(hasher.h64('b'));
  });

  it('loadHasher returns the same hasher for the whole process', async () => {
    expect(await loadHasher()).toBe(hasher);
  });
});

describe('Catalog', () => {
  it('qualifies names and hashes each tool; the hash is stable across key order', () => {
    const catalog = new Catalog(hasher);
    const a = catalog.toCatalogTool('fs', {
      name: 'read',
      description: 'Read a file',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    });
    const b = catalog.toCatalogTool('fs', {
      inputSchema: { required: ['path'], properties: { path: { type: 'string' } }, type: 'object' },
      description: 'Read a file',
      name: 'read',
    });
    expect(a.name).toBe('fs.read');
    expect(a.server).toBe('fs');
    expect(a.tool).toBe('read');
    expect(a.definition.name).toBe('fs.read');
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.hash).toBe(a.hash);
    expect(a.hash).toBe(hasher.h64(canonicalJson(a.definition)));
  });

  it('changes the hash when the description, schema, output schema or annotations change', () => {
    const catalog = new Catalog(hasher);
    const base = catalog.toCatalogTool('fs', tool('read')).hash;
    const hashes = [
      catalog.toCatalogTool('fs', tool('read', { description: 'something else' })).hash,
      catalog.toCatalogTool('fs', tool('read', { inputSchema: { type: 'object', properties: { p: { type: 'string' } } } })).hash,
      catalog.toCatalogTool('fs', tool('read', { outputSchema: { type: 'object' } })).hash,
      catalog.toCatalogTool('fs', tool('read', { annotations: { readOnlyHint: true } })).hash,
      catalog.toCatalogTool('other', tool('read')).hash,
    ];
    for (const hash of hashes) expect(hash).not.toBe(base);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('omits outputSchema and annotations when the downstream tool has none', () => {
    const catalog = new Catalog(hasher);
    const plain = catalog.toCatalogTool('fs', tool('read'));
    expect(Object.keys(plain.definition).sort()).toEqual(['description', 'inputSchema', 'name']);
    const rich = catalog.toCatalogTool(
      'fs',
      tool('stat', {
        outputSchema: { type: 'object', properties: { size: { type: 'number' } } },
        annotations: { readOnlyHint: true },
      }),
    );
    expect(rich.definition.outputSchema).toEqual({ type: 'object', properties: { size: { type: 'number' } } });
    expect(rich.definition.annotations).toEqual({ readOnlyHint: true });
  });

  it('falls back to the title, then an empty string, for a missing description', () => {
    const catalog = new Catalog(hasher);
    expect(
      catalog.toCatalogTool('s', { name: 't', title: 'Title', inputSchema: { type: 'object' } }).definition.description,
    ).toBe('Title');
    expect(catalog.toCatalogTool('s', { name: 't', inputSchema: { type: 'object' } }).definition.description).toBe('');
  });

  it('setServerTools adds tools by qualified name, grouped by server', () => {
    const catalog = new Catalog(hasher);
    expect(catalog.version).toBe(0);
    catalog.setServerTools('fs', 'Files', [tool('read'), tool('write')]);
    catalog.setServerTools('mem', 'Memory', [tool('search')]);
    expect(catalog.tools().map((entry) => entry.name)).toEqual(['fs.read', 'fs.write', 'mem.search']);
    expect(catalog.get('fs.write')?.tool).toBe('write');
    expect(catalog.get('write')).toBeUndefined();
    expect(catalog.server('fs')?.description).toBe('Files');
    expect(catalog.servers().map((server) => server.name)).toEqual(['fs', 'mem']);
    expect(catalog.version).toBe(2);
  });

  it('bumps the version only on a real change', () => {
    const catalog = new Catalog(hasher);
    const changes: CatalogChange[] = [];
    catalog.onChange((change) => changes.push(change));
    catalog.setServerTools('fs', 'Files', [tool('read'), tool('write')]);
    const before = catalog.version;
    const tools = catalog.tools();
    // The same list again, with keys in another order: nothing changed.
    catalog.setServerTools('fs', 'Files', [
      { inputSchema: { properties: {}, type: 'object' }, description: 'read does things', name: 'read' },
      tool('write'),
    ]);
    expect(catalog.version).toBe(before);
    expect(catalog.tools()).toBe(tools);
    expect(changes).toHaveLength(1);

    catalog.setServerTools('fs', 'Files, renamed', [tool('read'), tool('write')]);
    expect(catalog.version).toBe(before + 1);
    catalog.setServerTools('fs', 'Files, renamed', [tool('read')]);
    expect(catalog.version).toBe(before + 2);
    expect(catalog.get('fs.write')).toBeUndefined();
    expect(catalog.tools().map((entry) => entry.name)).toEqual(['fs.read']);
    expect(changes).toHaveLength(3);
  });

  it('reports which definitions changed, with before and after hashes', () => {
    const catalog = new Catalog(hasher);
    catalog.setServerTools('fs', '', [tool('read'), tool('write')]);
    const oldRead = catalog.get('fs.read')!.hash;
    const change = catalog.setServerTools('fs', '', [tool('read', { description: 'Reads better' }), tool('write'), tool('new')]);
    expect(change.server).toBe('fs');
    expect(change.changed).toEqual([{ name: 'fs.read', before: oldRead, after: catalog.get('fs.read')!.hash }]);
    expect(catalog.get('fs.read')!.hash).not.toBe(oldRead);
    expect(catalog.get('fs.read')!.definition.description).toBe('Reads better');
  });

  it('removeServer drops its tools and notifies; unsubscribed listeners are not called', () => {
    const catalog = new Catalog(hasher);
    let calls = 0;
    const off = catalog.onChange(() => {
      calls += 1;
    });
    catalog.setServerTools('fs', '', [tool('read')]);
    off();
    catalog.removeServer('fs');
    expect(calls).toBe(1);
    expect(catalog.get('fs.read')).toBeUndefined();
    expect(catalog.tools()).toEqual([]);
    const version = catalog.version;
    catalog.removeServer('fs');
    expect(catalog.version).toBe(version);
  });
});

describe('glob', () => {
  it('* matches any run of characters, dots included', () => {
    expect(matchesAny('github.create_issue', ['*'])).toBe(true);
    expect(matchesAny('github.create_issue', ['github.*'])).toBe(true);
    expect(matchesAny('filesystem.delete_file', ['*.delete_*'])).toBe(true);
    expect(matchesAny('a.b.delete_x', ['*.delete_*'])).toBe(true);
    expect(matchesAny('filesystem.read_file', ['*.delete_*'])).toBe(false);
    expect(matchesAny('githubx.tool', ['github.*'])).toBe(false);
  });

  it('? matches exactly one character', () => {
    expect(matchesAny('fs.ab', ['fs.a?'])).toBe(true);
    expect(matchesAny('fs.a', ['fs.a?'])).toBe(false);
    expect(matchesAny('fs.abc', ['fs.a?'])).toBe(false);
  });

  it('treats regex characters literally', () => {
    expect(matchesAny('fsXread', ['fs.read'])).toBe(false);
    expect(matchesAny('fs.read', ['fs.read'])).toBe(true);
    expect(matchesAny('s.a+b', ['s.a+b'])).toBe(true);
    expect(matchesAny('s.aab', ['s.a+b'])).toBe(false);
    expect(matchesAny('s.(x)[y]{1}|^$\\', ['s.(x)[y]{1}|^$\\'])).toBe(true);
    expect(matchesAny('s.x', ['s.(x)'])).toBe(false);
  });

  it('is anchored at both ends', () => {
    expect(matchesAny('prefix.github.tool', ['github.*'])).toBe(false);
    expect(matchesAny('fs.read_file_extra', ['fs.read_file'])).toBe(false);
  });

  it('matches nothing with an empty list', () => {
    expect(matchesAny('a.b', [])).toBe(false);
  });

  it('compiles to the same anchored RegExp each time', () => {
    expect(globToRegExp('a.*')).toBe(globToRegExp('a.*'));
    expect(globToRegExp('a.*').source.startsWith('^')).toBe(true);
  });
});

describe('CallerViews', () => {
  const seed = (catalog: Catalog) => {
    catalog.setServerTools('fs', '', [
      tool('read_file', { annotations: { readOnlyHint: true } }),
      tool('write_file'),
      tool('delete_file', { annotations: { readOnlyHint: false, destructiveHint: true } }),
    ]);
    catalog.setServerTools('github', '', [tool('list_issues', { annotations: { readOnlyHint: true } }), tool('delete_repo')]);
  };

  it('filters by allow, then deny (deny wins), then readOnly', () => {
    const catalog = new Catalog(hasher);
    seed(catalog);
    const views = new CallerViews({ catalog, hasher });
    const names = (tools: Record<string, unknown>) => views.forProfile(profileOf('p', tools)).tools.map((entry) => entry.name);
    expect(names({})).toEqual(['fs.read_file', 'fs.write_file', 'fs.delete_file', 'github.list_issues', 'github.delete_repo']);
    expect(names({ allow: ['fs.*'] })).toEqual(['fs.read_file', 'fs.write_file', 'fs.delete_file']);
    expect(names({ deny: ['*.delete_*'] })).toEqual(['fs.read_file', 'fs.write_file', 'github.list_issues']);
    expect(names({ allow: ['fs.delete_file'], deny: ['fs.delete_file'] })).toEqual([]);
    expect(names({ readOnly: true })).toEqual(['fs.read_file', 'github.list_issues']);
    expect(names({ allow: ['github.*'], readOnly: true })).toEqual(['github.list_issues']);
  });

  it('get() hides tools outside the profile exactly like unknown tools', () => {
    const catalog = new Catalog(hasher);
    seed(catalog);
    const view = new CallerViews({ catalog, hasher }).forProfile(profileOf('p', { allow: ['fs.read_*'] }));
    expect(view.get('fs.read_file')?.name).toBe('fs.read_file');
    expect(view.get('fs.write_file')).toBeUndefined();
    expect(view.get('fs.nope')).toBeUndefined();
  });

  it('isAllowed applies the same rules to one tool', () => {
    const catalog = new Catalog(hasher);
    const entry = catalog.toCatalogTool('fs', tool('delete_file'));
    const rules = profileOf('p', {}).tools;
    expect(isAllowed(entry, rules)).toBe(true);
    expect(isAllowed(entry, { ...rules, deny: ['fs.*'] })).toBe(false);
    expect(isAllowed(entry, { ...rules, readOnly: true })).toBe(false);
  });

  it('the etag is stable while nothing visible changes', () => {
    const catalog = new Catalog(hasher);
    seed(catalog);
    const views = new CallerViews({ catalog, hasher });
    const profile = profileOf('p', { allow: ['fs.*'] });
    const first = views.forProfile(profile);
    expect(first.etag).toMatch(/^[0-9a-f]{8}$/);
    expect(views.forProfile(profile)).toBe(first);
    // A fresh views object over the same catalog computes the same etag.
    expect(new CallerViews({ catalog, hasher }).forProfile(profile).etag).toBe(first.etag);
  });

  it('the etag changes when a visible definition changes or the visible set changes', () => {
    const catalog = new Catalog(hasher);
    seed(catalog);
    const views = new CallerViews({ catalog, hasher });
    const profile = profileOf('p', { allow: ['fs.*'] });
    const etag0 = views.forProfile(profile).etag;

    catalog.setServerTools('fs', '', [
      tool('read_file', { annotations: { readOnlyHint: true }, description: 'Reads a file, now better' }),
      tool('write_file'),
      tool('delete_file', { annotations: { readOnlyHint: false, destructiveHint: true } }),
    ]);
    const etag1 = views.forProfile(profile).etag;
    expect(etag1).not.toBe(etag0);

    catalog.setServerTools('fs', '', [
      tool('read_file', { annotations: { readOnlyHint: true }, description: 'Reads a file, now better' }),
      tool('write_file'),
    ]);
    const etag2 = views.forProfile(profile).etag;
    expect(etag2).not.toBe(etag1);
    expect(views.forProfile(profile).tools.map((entry) => entry.name)).toEqual(['fs.read_file', 'fs.write_file']);
  });

  it('the etag does not change when only a hidden tool changes', () => {
    const catalog = new Catalog(hasher);
    seed(catalog);
    const views = new CallerViews({ catalog, hasher });
    const profile = profileOf('p', { allow: ['fs.*'], deny: ['fs.delete_file'] });
    const before = views.forProfile(profile);
    catalog.setServerTools('github', '', [tool('list_issues', { description: 'changed' }), tool('delete_repo'), tool('added')]);
    catalog.setServerTools('fs', '', [
      tool('read_file', { annotations: { readOnlyHint: true } }),
      tool('write_file'),
      tool('delete_file', { description: 'changed too' }),
    ]);
    const after = views.forProfile(profile);
    expect(after.etag).toBe(before.etag);
    expect(after.tools.map((entry) => entry.name)).toEqual(before.tools.map((entry) => entry.name));
  });

  it('different profiles get different views over one catalog', () => {
    const catalog = new Catalog(hasher);
    seed(catalog);
    const views = new CallerViews({ catalog, hasher });
    const a = views.forProfile(profileOf('a', { allow: ['fs.*'] }));
    const b = views.forProfile(profileOf('b', { allow: ['github.*'] }));
    expect(a.etag).not.toBe(b.etag);
    expect(b.get('fs.read_file')).toBeUndefined();
    // Same name, different rules (e.g. a reloaded profile) is not served a stale view.
    const a2 = views.forProfile(profileOf('a', { allow: ['github.*'] }));
    expect(a2.tools.map((entry) => entry.name)).toEqual(['github.list_issues', 'github.delete_repo']);
  });
});
