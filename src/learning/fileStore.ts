/**
 * Evidence in the state directory: `<stateDir>/learned/<profile>.json`, one file per profile, written
 * whole through a temporary file and a rename so no reader (another gateway, `automcp learned`) ever
 * sees half a file. A push reads the file first and adds to what is there, so gateways of several MCP
 * clients sharing one state directory add up rather than overwrite each other (two pushes in the very
 * same moment can still lose one; Redis is the exact way to share).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EvidenceTable, NEGLIGIBLE_WEIGHT, decayed, type EvidenceEntry } from './evidence.js';
import type { EvidenceStore } from './store.js';
import { writeFileAtomic } from '../state/jsonFile.js';

/** The file's shape: entries as `[term, tool, weight, at]`, least recently changed first. */
interface LearnedFile {
  version: 1;
  profile: string;
  entries: [string, string, number, number][];
}

/** The state-directory store. */
export class FileEvidenceStore implements EvidenceStore {
  readonly kind = 'file' as const;
  readonly #dir: string;
  readonly #halfLifeMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** mtime and size of each file as this process last read or wrote it. */
  readonly #seen = new Map<string, string>();

  constructor(options: { stateDir: string; halfLifeMs: number; maxEntries: number; now: () => number }) {
    this.#dir = join(options.stateDir, 'learned');
    this.#halfLifeMs = options.halfLifeMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now;
  }

  async push(profile: string, deltas: readonly EvidenceEntry[]): Promise<EvidenceEntry[]> {
    const table = this.#table(await this.#read(profile));
    for (const delta of deltas) table.add(delta.term, delta.tool, delta.weight, delta.at);
    return this.#write(profile, table.entries());
  }

  async pull(profile: string): Promise<EvidenceEntry[] | undefined> {
    const file = this.#file(profile);
    const signature = await signatureOf(file);
    if (signature === this.#seen.get(file)) return undefined;
    return this.#read(profile);
  }

  async forget(profile: string, tool?: string): Promise<number> {
    const table = this.#table(await this.#read(profile));
    const removed = table.forget(tool);
    if (removed > 0) await this.#write(profile, table.entries());
    return removed;
  }

  async profiles(): Promise<string[]> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    return names
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length))
      .sort();
  }

  #file(profile: string): string {
    return join(this.#dir, `${profile}.json`);
  }

  #table(entries: readonly EvidenceEntry[]): EvidenceTable {
    const table = new EvidenceTable({ halfLifeMs: this.#halfLifeMs, maxEntries: this.#maxEntries });
    table.replace(entries);
    return table;
  }

  async #read(profile: string): Promise<EvidenceEntry[]> {
    const file = this.#file(profile);
    const signature = await signatureOf(file);
    const doc = (await readFile(file, 'utf8')
      .then((text) => JSON.parse(text) as unknown)
      .catch(() => undefined)) as Partial<LearnedFile> | undefined;
    this.#seen.set(file, signature);
    if (!doc || !Array.isArray(doc.entries)) return [];
    return doc.entries.flatMap((row) => {
      if (!Array.isArray(row) || row.length !== 4) return [];
      const [term, tool, weight, at] = row;
      const valid = typeof term === 'string' && typeof tool === 'string' && Number.isFinite(weight) && Number.isFinite(at);
      return valid ? [{ term, tool, weight, at }] : [];
    });
  }

  async #write(profile: string, entries: EvidenceEntry[]): Promise<EvidenceEntry[]> {
    const now = this.#now();
    // Pairs that have decayed to nothing are not worth a line in the file.
    const kept = entries.filter((entry) => decayed(entry, now, this.#halfLifeMs) >= NEGLIGIBLE_WEIGHT);
    const doc: LearnedFile = {
      version: 1,
      profile,
      entries: kept.map((entry) => [entry.term, entry.tool, round(entry.weight), entry.at]),
    };
    const file = this.#file(profile);
    await writeAtomically(file, doc);
    this.#seen.set(file, await signatureOf(file));
    return kept;
  }
}

/**
 * Writes `doc` whole through a temporary file and a rename, one entry per line: a table of tens of
 * thousands of pairs stays small and readable.
 */
async function writeAtomically(file: string, doc: LearnedFile): Promise<void> {
  const lines = doc.entries.map((entry) => JSON.stringify(entry));
  await writeFileAtomic(file, `{"version":1,"profile":${JSON.stringify(doc.profile)},"entries":[\n${lines.join(',\n')}\n]}\n`);
}

async function signatureOf(file: string): Promise<string> {
  try {
    const info = await stat(file);
    return `${info.mtimeMs}:${info.size}:${info.ino}`;
  } catch {
    return 'missing';
  }
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
