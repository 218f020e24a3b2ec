/**
 * What one caller sees: the catalog filtered by its profile (allow, then deny, then readOnly), with an
 * etag over the visible names and hashes. Views are cached per catalog version, so the filter runs once
 * per change rather than on every call.
 */
import type { Profile } from '../config/load.js';
import type { Catalog } from './catalog.js';
import type { Hasher } from './hash.js';
import { allowsName, matchesAny } from './glob.js';
import type { CatalogTool } from './types.js';

/** The tools one profile may see and use. */
export interface CallerView {
  /** The same for every view of one profile, across catalog versions (what an index is kept per). */
  readonly key: string;
  readonly tools: readonly CatalogTool[];
  /** Changes whenever the set or the definitions of visible tools change. */
  readonly etag: string;
  /** The visible tool with this name; undefined for unknown tools and tools outside the profile alike. */
  get(name: string): CatalogTool | undefined;
}

/** True when the profile's rules let a caller see and use `tool`. */
export function isAllowed(tool: CatalogTool, rules: Profile['tools']): boolean {
  if (!allowsName(tool.name, rules.allow)) return false;
  if (matchesAny(tool.name, rules.deny)) return false;
  if (rules.readOnly && tool.definition.annotations?.readOnlyHint !== true) return false;
  return true;
}

/** Builds caller views and caches them per (profile, catalog version). */
export class CallerViews {
  readonly #catalog: Catalog;
  readonly #hasher: Hasher;
  readonly #views = new Map<string, { version: number; view: CallerView }>();
  readonly #keys = new WeakMap<Profile, string>();

  constructor({ catalog, hasher }: { catalog: Catalog; hasher: Hasher }) {
    this.#catalog = catalog;
    this.#hasher = hasher;
  }

  /** The view of `profile` over the current catalog. */
  forProfile(profile: Profile): CallerView {
    // Every call asks for its caller's view; the key of a profile object is built once.
    let key = this.#keys.get(profile);
    if (key === undefined) {
      key = `${profile.name}\u0000${JSON.stringify(profile.tools)}`;
      this.#keys.set(profile, key);
    }
    const cached = this.#views.get(key);
    if (cached && cached.version === this.#catalog.version) return cached.view;
    const tools = this.#catalog.tools().filter((tool) => isAllowed(tool, profile.tools));
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    const etag = this.#hasher.h32(
      tools
        .map((tool) => `${tool.name}:${tool.hash}`)
        .sort()
        .join('\n'),
    );
    const view: CallerView = { key, tools, etag, get: (name) => byName.get(name) };
    this.#views.set(key, { version: this.#catalog.version, view });
    return view;
  }
}
