import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { CallerViews } from '../../src/catalog/view.js';
import type { Profile } from '../../src/config/load.js';
import { profileSchema } from '../../src/config/schema.js';
import { LexicalIndex } from '../../src/selection/lexical.js';
import { GraphSelector } from '../../src/selection/selector.js';
import { splitWords, stem, terms } from '../../src/selection/text.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (
  name: string,
  description: string,
  properties: Record<string, { type: string; description?: string }> = {},
): Tool => ({
  name,
  description,
  inputSchema: { type: 'object', properties },
});

/** A small catalog of three servers with a few plausible tools each. */
function buildCatalog(): Catalog {
  const catalog = new Catalog(hasher);
  catalog.setServerTools('filesystem', 'Local files and directories', [
    tool('read_text_file', 'Read the complete contents of a file as text.', {
      path: { type: 'string', description: 'Path of the file' },
    }),
    tool('write_file', 'Create a new file or overwrite an existing file with new content.', {
      path: { type: 'string' },
      content: { type: 'string' },
    }),
    tool('list_directory', 'List the entries of a directory.', { path: { type: 'string' } }),
    tool('delete_file', 'Delete a file from disk.', { path: { type: 'string' } }),
  ]);
  catalog.setServerTools('github', 'GitHub repositories, issues and pull requests', [
    tool('create_issue', 'Open a new issue in a GitHub repository.', { title: { type: 'string' }, body: { type: 'string' } }),
    tool('list_pull_requests', 'List pull requests of a repository.', { repo: { type: 'string' } }),
    tool('merge_pull_request', 'Merge a pull request.', { number: { type: 'number' } }),
  ]);
  catalog.setServerTools('weather', 'Weather forecasts', [
    tool('get_forecast', 'Get the weather forecast for a city.', { city: { type: 'string' } }),
    tool('readTextFile', 'Fetch a weather report document.', {}),
  ]);
  return catalog;
}

const profileOf = (overrides: Record<string, unknown> = {}): Profile => ({ ...profileSchema.parse(overrides), name: 'test' });

describe('text', () => {
  it('splits camelCase, PascalCase and acronyms', () => {
    expect(splitWords('readTextFile')).toEqual(['read', 'text', 'file']);
    expect(splitWords('HTMLParser')).toEqual(['html', 'parser']);
    expect(splitWords('getURLPath')).toEqual(['get', 'url', 'path']);
  });

  it('splits snake_case, kebab-case, dots and punctuation', () => {
    expect(splitWords('read_text_file')).toEqual(['read', 'text', 'file']);
    expect(splitWords('read-text-file')).toEqual(['read', 'text', 'file']);
    expect(splitWords('filesystem.read_text_file')).toEqual(['filesystem', 'read', 'text', 'file']);
    expect(splitWords('  Hello, world!  ')).toEqual(['hello', 'world']);
    expect(splitWords('')).toEqual([]);
  });

  it('all identifier styles of one name yield the same terms', () => {
    const expected = terms('read text file');
    for (const name of ['readTextFile', 'ReadTextFile', 'read_text_file', 'read-text-file', 'READ_TEXT_FILE']) {
      expect(terms(name)).toEqual(expected);
    }
  });

  it('folds plurals and -ing/-ed forms onto the base word', () => {
    const pairs: [string, string][] = [
      ['files', 'file'],
      ['reading', 'read'],
      ['searched', 'search'],
      ['lists', 'list'],
      ['directories', 'directory'],
      ['issues', 'issue'],
      ['branches', 'branch'],
    ];
    for (const [inflected, base] of pairs) expect(stem(inflected), `${inflected} vs ${base}`).toBe(stem(base));
  });

  it('folds -ing/-ed forms of verbs that end in e (create, write, delete, update)', () => {
    const pairs: [string, string][] = [
      ['created', 'create'],
      ['creating', 'create'],
      ['writing', 'write'],
      ['deleted', 'delete'],
      ['updating', 'update'],
    ];
    for (const [inflected, base] of pairs) expect(stem(inflected), `${inflected} vs ${base}`).toBe(stem(base));
  });

  it('keeps "news" apart from "new", and "string" and "thing" whole', () => {
    expect(terms('Find the latest news about climate change')).not.toContain(stem('new'));
    expect(terms('start a new session')).toContain(stem('new'));
    expect(stem('news')).not.toBe(stem('new'));
    expect(stem('series')).toBe('series');
    expect(stem('string')).toBe(stem('strings'));
    expect(stem('thing')).toBe(stem('things'));
  });

  it('reads a plural acronym as one word: APIs, SKUs, IDs', () => {
    expect(terms('list the APIs')).toEqual(terms('list the API'));
    expect(terms('which SKUs are low')).toEqual(['sku', 'low']);
    expect(terms('getAPIsList')).toEqual(terms('get API list'));
    // All capitals is a word, not an acronym with a plural s.
    expect(terms('NEWS STATUS')).toEqual(['news', 'status']);
  });

  it('folds a plural and an -ing/-ed form in one word (meetings, settings, bookings)', () => {
    const pairs: [string, string][] = [
      ['meetings', 'meet'],
      ['meetings', 'meeting'],
      ['settings', 'setting'],
      ['bookings', 'book'],
      ['speeds', 'speed'],
      ['copied', 'copy'],
      ['applied', 'applies'],
    ];
    for (const [inflected, base] of pairs) expect(stem(inflected), `${inflected} vs ${base}`).toBe(stem(base));
  });

  it('leaves short words and numbers alone', () => {
    expect(stem('is')).toBe('is');
    expect(stem('bus')).toBe('bus');
    expect(stem('1234')).toBe('1234');
    expect(stem('status')).not.toBe('statu');
  });

  it('drops stopwords and keeps content words', () => {
    const out = terms('How do I read the files in my directory?');
    expect(out).toContain(stem('read'));
    expect(out).toContain(stem('file'));
    expect(out).toContain(stem('directory'));
    for (const stop of ['how', 'do', 'i', 'the', 'in', 'my']) expect(out).not.toContain(stop);
    expect(terms('the and of to')).toEqual([]);
  });
});

describe('LexicalIndex', () => {
  const names = (result: { tool: { name: string } }[]) => result.map((entry) => entry.tool.name);

  it('ranks the relevant tool first', () => {
    const catalog = buildCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    expect(index.size).toBe(9);
    expect(names(index.search('get the weather forecast for Paris', { limit: 3 }))[0]).toBe('weather.get_forecast');
    expect(names(index.search('open a new github issue', { limit: 3 }))[0]).toBe('github.create_issue');
    expect(names(index.search('merge pull request', { limit: 3 }))[0]).toBe('github.merge_pull_request');
  });

  it('a file-reading query ranks read tools above unrelated ones', () => {
    const catalog = buildCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    const ranked = names(index.search('read the contents of a text file', { limit: 9 }));
    expect(ranked[0]).toBe('filesystem.read_text_file');
    const readAt = ranked.indexOf('filesystem.read_text_file');
    for (const unrelated of ['github.merge_pull_request', 'weather.get_forecast', 'github.create_issue']) {
      const at = ranked.indexOf(unrelated);
      if (at !== -1) expect(at).toBeGreaterThan(readAt);
    }
  });

  it('identifier splitting makes readTextFile match "read text file"', () => {
    const catalog = new Catalog(hasher);
    catalog.setServerTools('s', '', [tool('readTextFile', 'Returns document contents.'), tool('other', 'Something unrelated.')]);
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    expect(names(index.search('read text file', { limit: 5 }))).toEqual(['s.readTextFile']);
  });

  it('matches inflected query words against base-form names', () => {
    const catalog = buildCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    expect(names(index.search('listing directories', { limit: 3 }))[0]).toBe('filesystem.list_directory');
  });

  it('uses parameter names and the server name as evidence, not the server description', () => {
    const catalog = new Catalog(hasher);
    catalog.setServerTools('maps', 'Geocoding and routes', [
      tool('lookup', 'Look something up.', { latitude: { type: 'number' } }),
    ]);
    catalog.setServerTools('other', 'Other things', [tool('lookup', 'Look something up.', {})]);
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    expect(names(index.search('latitude', { limit: 5 }))).toEqual(['maps.lookup']);
    expect(names(index.search('maps', { limit: 5 }))).toEqual(['maps.lookup']);
    // A server description is shared by every tool of its server, so it cannot tell them apart, and
    // adding it to each of them measured worse on every dev catalog (docs/benchmarks.md).
    expect(names(index.search('geocoding', { limit: 5 }))).toEqual([]);
  });

  it('"the latest news" finds the news search tool, not tools that start something new', () => {
    const catalog = new Catalog(hasher);
    catalog.setServerTools('codegen', 'Code generation sessions', [
      tool('new_session', 'Start a new code generation session.'),
      tool('end_session', 'End a session.'),
    ]);
    catalog.setServerTools('files', 'Local files', [
      tool('write_file', 'Create a new file or overwrite an existing file with new content.', { path: { type: 'string' } }),
    ]);
    catalog.setServerTools('search', 'Web search', [
      tool('web_search', 'Search the web for pages, current events and news on any topic.', { query: { type: 'string' } }),
    ]);
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    const ranked = names(index.search('Find the latest news about climate change', { limit: 5 }));
    expect(ranked[0]).toBe('search.web_search');
    expect(ranked).not.toContain('codegen.new_session');
    expect(ranked).not.toContain('files.write_file');
  });

  it("a word that names one server's domain outweighs one spread over many servers", () => {
    const catalog = new Catalog(hasher);
    catalog.setServerTools('chat', 'Chat', [
      tool('read_messages', 'Read messages from a Discord channel.'),
      tool('send_message', 'Send a message to a Discord channel.'),
      tool('list_channels', 'List the channels of a Discord server.'),
      tool('list_members', 'List the members of a Discord server.'),
    ]);
    for (const [server, name] of [
      ['news', 'recent_headlines'],
      ['feeds', 'recent_posts'],
      ['mail', 'recent_mail'],
      ['logs', 'recent_logs'],
    ] as const) {
      catalog.setServerTools(server, '', [tool(name, `The most recent ${server} entries.`)]);
    }
    // "discord" and "recent" are each in four tools, but "discord" in one server and "recent" in four.
    const query = 'recent discord activity';
    const blended = new LexicalIndex(catalog.tools(), catalog.servers());
    expect(names(blended.search(query, { limit: 4 })).every((name) => name.startsWith('chat.'))).toBe(true);
    const toolsOnly = new LexicalIndex(catalog.tools(), catalog.servers(), { parameters: { serverIdf: 0 } });
    expect(names(toolsOnly.search(query, { limit: 4 })).some((name) => !name.startsWith('chat.'))).toBe(true);
  });

  it("counts each word of the qualified name once: a service named by the server weighs what it does in the tool's name", () => {
    const catalog = new Catalog(hasher);
    catalog.setServerTools('acme', '', [tool('paystack_list', 'List payments.')]);
    catalog.setServerTools('paystack', '', [tool('acme_list', 'List payments.')]);
    const index = new LexicalIndex(catalog.tools(), catalog.servers(), { parameters: { duplicate: 1 } });
    const [first, second] = index.search('paystack list', { limit: 2 });
    expect(second).toBeDefined();
    expect(first!.score).toBe(second!.score);
  });

  it('server-level idf changes nothing where every server has one tool', () => {
    const catalog = new Catalog(hasher);
    catalog.setServerTools('a', '', [tool('read_file', 'Read a file from disk.')]);
    catalog.setServerTools('b', '', [tool('write_file', 'Write a file to disk.')]);
    catalog.setServerTools('c', '', [tool('get_forecast', 'Weather forecast for a city.')]);
    const blended = new LexicalIndex(catalog.tools(), catalog.servers());
    const toolsOnly = new LexicalIndex(catalog.tools(), catalog.servers(), { parameters: { serverIdf: 0 } });
    for (const query of ['read a file', 'file on disk', 'forecast for a city']) {
      expect(blended.search(query, { limit: 5 })).toEqual(toolsOnly.search(query, { limit: 5 }));
    }
  });

  it('only returns tools the allowed filter accepts', () => {
    const catalog = buildCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    const result = names(index.search('read a file', { limit: 9, allowed: (entry) => entry.server !== 'filesystem' }));
    expect(result).not.toContain('filesystem.read_text_file');
    expect(result.every((name) => !name.startsWith('filesystem.'))).toBe(true);
  });

  it('omits tools that match no query term', () => {
    const catalog = buildCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    expect(index.search('zebra xylophone', { limit: 9 })).toEqual([]);
    expect(index.search('the and of', { limit: 9 })).toEqual([]);
    const merge = index.search('merge', { limit: 9 });
    expect(names(merge)).toEqual(['github.merge_pull_request']);
    expect(merge[0]!.score).toBeGreaterThan(0);
  });

  it('honours the limit and sorts scores best first', () => {
    const catalog = buildCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    const all = index.search('file directory pull request issue weather', { limit: 50 });
    expect(all.length).toBeGreaterThan(3);
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.score).toBeGreaterThanOrEqual(all[i]!.score);
    expect(index.search('file directory pull request issue weather', { limit: 2 })).toHaveLength(2);
    expect(index.search('file directory pull request issue weather', { limit: 2 })).toEqual(all.slice(0, 2));
  });

  it('works on an empty catalog', () => {
    const index = new LexicalIndex([], []);
    expect(index.size).toBe(0);
    expect(index.search('anything', { limit: 5 })).toEqual([]);
  });
});

describe('GraphSelector', () => {
  const selectorFor = (catalog: Catalog, candidates = 40) =>
    new GraphSelector({ catalog, views: new CallerViews({ catalog, hasher }), candidates });
  const names = (tools: { name: string }[]) => tools.map((entry) => entry.name);

  it('selects lexically, most relevant first, and reports the caller view', async () => {
    const catalog = buildCatalog();
    const selector = selectorFor(catalog);
    const selection = await selector.select({ query: 'read a text file', profile: profileOf(), limit: 3 });
    expect(selection.mode).toBe('lexical');
    expect(selection.tools[0]?.name).toBe('filesystem.read_text_file');
    expect(selection.tools.length).toBeLessThanOrEqual(3);
    expect(selection.view.tools).toHaveLength(9);
    expect(selection.candidates.length).toBeGreaterThanOrEqual(selection.tools.length);
  });

  it('scopes by profile before ranking: hidden tools never appear', async () => {
    const catalog = buildCatalog();
    const selector = selectorFor(catalog);
    const profile = profileOf({ tools: { allow: ['github.*', 'weather.*'] } });
    const selection = await selector.select({ query: 'read a text file', profile, limit: 8 });
    expect(names(selection.tools).some((name) => name.startsWith('filesystem.'))).toBe(false);
    expect(names(selection.candidates.map((entry) => entry.tool)).some((name) => name.startsWith('filesystem.'))).toBe(false);
    // weather.readTextFile is the best visible match.
    expect(selection.tools[0]?.name).toBe('weather.readTextFile');
    expect(selection.view.tools).toHaveLength(5);
  });

  it('scoping happens before the candidate cut, so a narrow profile still finds its tools', async () => {
    const catalog = new Catalog(hasher);
    // Many visible-to-nobody tools that match "file" better than the one allowed tool.
    catalog.setServerTools(
      'noise',
      'file file file',
      Array.from({ length: 30 }, (_, i) => tool(`file_tool_${i}`, 'file file file handling')),
    );
    catalog.setServerTools('fs', '', [tool('archive', 'Store a file in the archive.')]);
    const selector = selectorFor(catalog, 5);
    const selection = await selector.select({ query: 'file', profile: profileOf({ tools: { allow: ['fs.*'] } }), limit: 3 });
    expect(names(selection.tools)).toEqual(['fs.archive']);
  });

  it('respects deny and readOnly rules', async () => {
    const catalog = buildCatalog();
    const selector = selectorFor(catalog);
    const denied = await selector.select({
      query: 'delete a file',
      profile: profileOf({ tools: { deny: ['*.delete_*'] } }),
      limit: 8,
    });
    expect(names(denied.tools)).not.toContain('filesystem.delete_file');
    const readOnly = await selector.select({
      query: 'delete a file',
      profile: profileOf({ tools: { readOnly: true } }),
      limit: 8,
    });
    expect(readOnly.tools).toEqual([]);
    expect(readOnly.view.tools).toEqual([]);
  });

  it('never returns more than the limit', async () => {
    const catalog = buildCatalog();
    const selector = selectorFor(catalog);
    for (const limit of [1, 2, 4]) {
      const selection = await selector.select({
        query: 'file directory pull request issue weather',
        profile: profileOf(),
        limit,
      });
      expect(selection.tools).toHaveLength(limit);
    }
  });

  it('puts pinned tools that match first, and leaves out pinned tools that do not match', async () => {
    const catalog = buildCatalog();
    const selector = selectorFor(catalog);
    const unpinned = await selector.select({ query: 'read a text file', profile: profileOf(), limit: 4 });
    expect(unpinned.tools[0]?.name).toBe('filesystem.read_text_file');
    expect(names(unpinned.tools)).toContain('filesystem.delete_file');
    const pinnedProfile = profileOf({ tools: { pinned: ['filesystem.delete_*', 'weather.get_forecast'] } });
    const pinned = await selector.select({ query: 'read a text file', profile: pinnedProfile, limit: 4 });
    expect(pinned.tools[0]?.name).toBe('filesystem.delete_file');
    expect(pinned.tools[1]?.name).toBe('filesystem.read_text_file');
    expect(pinned.tools).toHaveLength(unpinned.tools.length);
    // A pin guarantees a place when relevant, not relevance: the forecast tool matched nothing.
    expect(names(pinned.tools)).not.toContain('weather.get_forecast');
  });

  it('does not let pinned tools outside the profile through', async () => {
    const catalog = buildCatalog();
    const selector = selectorFor(catalog);
    const profile = profileOf({ tools: { allow: ['github.*'], pinned: ['filesystem.*'] } });
    const selection = await selector.select({ query: 'read a file', profile, limit: 4 });
    expect(names(selection.tools).some((name) => name.startsWith('filesystem.'))).toBe(false);
  });

  it('ranks from the visible tools only: hidden tools change neither order nor scores', async () => {
    const full = buildCatalog();
    const onlyVisible = new Catalog(hasher);
    onlyVisible.setServerTools(
      'filesystem',
      'Local files and directories',
      full.server('filesystem')!.tools.map((entry) => ({
        name: entry.tool,
        description: entry.definition.description,
        inputSchema: entry.definition.inputSchema as Tool['inputSchema'],
      })),
    );
    const profile = profileOf({ tools: { allow: ['filesystem.*'] } });
    const query = 'read a text file and write a new file';
    const scoped = await selectorFor(full).select({ query, profile, limit: 4 });
    const alone = await selectorFor(onlyVisible).select({ query, profile, limit: 4 });
    const scored = (selection: typeof scoped) => selection.candidates.map((entry) => [entry.tool.name, entry.score.toFixed(6)]);
    expect(scored(scoped)).toEqual(scored(alone));
  });

  it('follows catalog changes (the index rebuilds when the version moves)', async () => {
    const catalog = buildCatalog();
    const selector = selectorFor(catalog);
    const views = new CallerViews({ catalog, hasher });
    const before = selector.indexFor(views.forProfile(profileOf()));
    expect(
      (await selector.select({ query: 'translate text', profile: profileOf(), limit: 3 })).tools.map((t) => t.name),
    ).not.toContain('lang.translate');
    catalog.setServerTools('lang', 'Languages', [tool('translate', 'Translate text between languages.')]);
    const selection = await selector.select({ query: 'translate text', profile: profileOf(), limit: 3 });
    expect(selection.tools[0]?.name).toBe('lang.translate');
    const after = views.forProfile(profileOf());
    expect(selector.indexFor(after)).not.toBe(before);
    expect(selector.indexFor(after)).toBe(selector.indexFor(views.forProfile(profileOf())));
  });
});
