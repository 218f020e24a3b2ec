import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { loadHasher, type Hasher } from '../../src/catalog/hash.js';
import { CallerViews } from '../../src/catalog/view.js';
import { profileSchema } from '../../src/config/schema.js';
import { LexicalIndex, type RankedTool } from '../../src/selection/lexical.js';
import { GraphSelector } from '../../src/selection/selector.js';

let hasher: Hasher;
beforeAll(async () => {
  hasher = await loadHasher();
});

const tool = (name: string, description: string): Tool => ({
  name,
  description,
  inputSchema: { type: 'object', properties: {} },
});
const names = (ranked: RankedTool[]) => ranked.map((entry) => entry.tool.name);

/** Servers with distinct vocabularies, so each query has one clearly right tool. */
function baseCatalog(): Catalog {
  const catalog = new Catalog(hasher);
  catalog.setServerTools('files', 'Local files', [
    tool('read_file', 'Read a file from disk.'),
    tool('write_file', 'Write a file to disk.'),
  ]);
  catalog.setServerTools('mail', 'Email', [tool('send_email', 'Send an email message to a recipient.')]);
  catalog.setServerTools('weather', 'Forecasts', [tool('get_forecast', 'Weather forecast for a city.')]);
  catalog.setServerTools('calendar', 'Meetings', [tool('create_event', 'Create a calendar event or meeting.')]);
  return catalog;
}

describe('LexicalIndex.updated (incremental indexing)', () => {
  it('returns the same index when nothing changed', () => {
    const catalog = baseCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    expect(index.updated(catalog.tools(), catalog.servers())).toBe(index);
  });

  it('picks up a changed server and leaves the previous index as it was', () => {
    const catalog = baseCatalog();
    const before = new LexicalIndex(catalog.tools(), catalog.servers());
    catalog.setServerTools('mail', 'Email', [tool('send_sms', 'Send a text message to a phone.')]);
    const after = before.updated(catalog.tools(), catalog.servers());
    expect(after).not.toBe(before);
    expect(names(after.search('send a text message to a phone', { limit: 5 }))[0]).toBe('mail.send_sms');
    expect(names(after.search('email recipient', { limit: 5 }))).not.toContain('mail.send_email');
    // The earlier index still answers for the earlier catalog: postings are copied on write.
    expect(names(before.search('email recipient', { limit: 5 }))).toEqual(['mail.send_email']);
    expect(names(before.search('phone', { limit: 5 }))).toEqual([]);
    expect(after.size).toBe(before.size);
  });

  it('ranks like a fresh build after a server is added, removed or re-listed', () => {
    const catalog = baseCatalog();
    let index = new LexicalIndex(catalog.tools(), catalog.servers());
    catalog.setServerTools('notes', 'Notes', [tool('create_note', 'Create a note with a title and text.')]);
    index = index.updated(catalog.tools(), catalog.servers());
    catalog.removeServer('weather');
    index = index.updated(catalog.tools(), catalog.servers());
    catalog.setServerTools('files', 'Local files', [
      tool('read_file', 'Read a file from disk.'),
      tool('delete_file', 'Delete a file from disk.'),
    ]);
    index = index.updated(catalog.tools(), catalog.servers());
    const fresh = new LexicalIndex(catalog.tools(), catalog.servers());
    for (const query of ['create a note', 'delete a file', 'weather forecast', 'write a file', 'create a meeting', 'file']) {
      expect(names(index.search(query, { limit: 5 })), query).toEqual(names(fresh.search(query, { limit: 5 })));
    }
    expect(index.size).toBe(fresh.size);
    expect(names(index.search('weather forecast', { limit: 5 }))).toEqual([]);
  });

  it('builds afresh when the catalog has grown far past its last full build', () => {
    const catalog = baseCatalog();
    const small = new LexicalIndex(catalog.tools(), catalog.servers());
    catalog.setServerTools(
      'many',
      'Many tools',
      Array.from({ length: 20 }, (_, i) => tool(`tool_${i}`, `Handles task number ${i} with long descriptive prose.`)),
    );
    const grown = small.updated(catalog.tools(), catalog.servers());
    const fresh = new LexicalIndex(catalog.tools(), catalog.servers());
    const scores = (index: LexicalIndex) => index.search('read a file with prose', { limit: 30 }).map((entry) => entry.score);
    expect(scores(grown)).toEqual(scores(fresh));
  });

  it('keeps catalog order as the tie-break after servers move', () => {
    const catalog = new Catalog(hasher);
    catalog.setServerTools('alpha', '', [tool('same', 'Identical words here.')]);
    catalog.setServerTools('beta', '', [tool('same', 'Identical words here.')]);
    catalog.setServerTools('other', '', [tool('unrelated', 'Nothing alike.')]);
    const options = { parameters: { duplicate: 1 } };
    const index = new LexicalIndex(catalog.tools(), catalog.servers(), options);
    expect(names(index.search('identical words', { limit: 2 }))).toEqual(['alpha.same', 'beta.same']);
    catalog.removeServer('alpha');
    catalog.setServerTools('alpha', '', [tool('same', 'Identical words here.')]);
    const moved = index.updated(catalog.tools(), catalog.servers());
    expect(names(moved.search('identical words', { limit: 2 }))).toEqual(['beta.same', 'alpha.same']);
  });
});

describe('near-identical tools', () => {
  function forkedCatalog(): Catalog {
    const catalog = new Catalog(hasher);
    for (const fork of ['fork-a', 'fork-b', 'fork-c']) {
      catalog.setServerTools(fork, 'Paper search', [tool('search_papers', 'Search academic papers by keyword.')]);
    }
    catalog.setServerTools('library', 'Library', [tool('find_books', 'Find books and academic papers in a library catalogue.')]);
    return catalog;
  }

  it('copies of one tool move behind a distinct tool instead of filling the list', () => {
    const catalog = forkedCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    const top = names(index.search('search academic papers', { limit: 2 }));
    expect(top).toContain('library.find_books');
    expect(top.filter((name) => name.endsWith('.search_papers'))).toHaveLength(1);
  });

  it('copies still fill the list when nothing else matches, and the threshold can turn this off', () => {
    const catalog = forkedCatalog();
    const index = new LexicalIndex(catalog.tools(), catalog.servers());
    expect(index.search('search academic papers', { limit: 10 })).toHaveLength(4);
    const plain = new LexicalIndex(catalog.tools(), catalog.servers(), { parameters: { duplicate: 1 } });
    const top = names(plain.search('search papers keyword', { limit: 3 }));
    expect(top.every((name) => name.endsWith('.search_papers'))).toBe(true);
  });
});

describe('GraphSelector with incremental indexes', () => {
  it("derives a profile's next index from its previous one and answers with the new tools", async () => {
    const catalog = baseCatalog();
    const views = new CallerViews({ catalog, hasher });
    const selector = new GraphSelector({ catalog, views, candidates: 10 });
    const profile = { ...profileSchema.parse({ tools: { deny: ['calendar.*'] } }), name: 'p' };
    const first = selector.indexFor(views.forProfile(profile));
    // A change to a server the profile cannot see leaves its index as it was.
    catalog.setServerTools('calendar', 'Meetings', [tool('delete_event', 'Delete a calendar event.')]);
    expect(selector.indexFor(views.forProfile(profile))).toBe(first);
    catalog.setServerTools('mail', 'Email', [tool('send_sms', 'Send a text message to a phone.')]);
    const second = selector.indexFor(views.forProfile(profile));
    expect(second).not.toBe(first);
    const selection = await selector.select({ query: 'text message to a phone', profile, limit: 3 });
    expect(selection.tools.map((entry) => entry.name)).toEqual(['mail.send_sms']);
  });
});
