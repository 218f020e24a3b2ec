/**
 * Review: tools a person has to look at before any caller may select or run them. Two reasons hold a
 * tool back here (pins.ts holds back the third, a pinned definition that changed):
 * - `quarantined`: its server entry says `quarantine: true` (what `automcp.add_server` writes for a
 *   server an agent added) and `automcp review approve` has not approved this entry with this tool's
 *   current definition. After approval a new or changed tool of that server waits for review again.
 * - `poisoning`: the scanner (security/scan.ts) found text aimed at a model in the definition, and no
 *   approval covers this exact definition hash.
 * Held tools stay out of the catalog, so selection never sees them and `automatic_eval` refuses them
 * with TOOL_HELD_BACK. The approvals live in the trust file (state/trustFile.ts), read once per server
 * and then by the gateway's sweep, so an approval in another terminal applies within a sweep.
 */
import { createHash } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/catalog.js';
import { canonicalJson } from '../catalog/hash.js';
import type { ServerSpec } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import { scanTool, type Finding } from '../security/scan.js';
import type { TrustStore } from '../state/trustFile.js';
import { HeldTools, type HeldTool } from './pins.js';

/**
 * The fingerprint of what a server entry runs: command, arguments, working directory, URL, and the
 * names (not the values) of its environment variables and headers. Approval holds for this
 * fingerprint only, so an approved name cannot later point at another program; secrets can rotate.
 */
export function entryFingerprint(spec: ServerSpec): string {
  const runs = {
    command: spec.command ?? null,
    args: spec.args ?? [],
    cwd: spec.cwd ?? null,
    url: spec.url ?? null,
    env: Object.keys(spec.env ?? {}).sort(),
    headers: Object.keys(spec.headers ?? {}).sort(),
  };
  return createHash('sha256').update(canonicalJson(runs)).digest('hex').slice(0, 16);
}

/** True when `spec` asks for review and no approval covers its current entry. No I/O. */
export function isQuarantined(spec: ServerSpec, trust: TrustStore): boolean {
  return spec.quarantine === true && trust.review(spec.name)?.entry !== entryFingerprint(spec);
}

/** Holds back the tools of each server that still need a person's review. */
export class DefinitionReview {
  readonly #trust: TrustStore;
  readonly #catalog: Catalog;
  readonly #logger: Logger;
  readonly #held = new HeldTools();
  /** Findings per server by definition hash, so an unchanged list is not scanned again. */
  readonly #scanned = new Map<string, Map<string, Finding[]>>();
  /** The trust version each watched server's list was last filtered with. */
  readonly #filteredWith = new Map<string, number>();

  constructor({ trust, catalog, logger }: { trust: TrustStore; catalog: Catalog; logger: Logger }) {
    this.#trust = trust;
    this.#catalog = catalog;
    this.#logger = logger;
  }

  /**
   * True when filtering `tools` of `spec` needs the server's review record and it has not been read
   * yet: the registry reads it first, so nothing is let in (or held) on a guess.
   */
  needsRecord(spec: ServerSpec, tools: readonly Tool[]): boolean {
    if (this.#trust.loaded(spec.name)) return false;
    return spec.quarantine === true || tools.some((tool) => this.#findings(spec.name, tool).length > 0);
  }

  /** The tools of `spec` that may enter the catalog; the rest are held back (and logged once each). */
  filter(spec: ServerSpec, tools: readonly Tool[]): Tool[] {
    const server = spec.name;
    const record = this.#trust.review(server);
    const quarantined = isQuarantined(spec, this.#trust);
    const before = this.#held.get(server);
    const held = new Map<string, HeldTool>();
    const scanned = new Map<string, Finding[]>();
    const accepted: Tool[] = [];
    const newlyHeld: HeldTool[] = [];
    for (const tool of tools) {
      const entry = this.#catalog.toCatalogTool(server, tool);
      const findings = this.#findings(server, tool, entry.hash);
      scanned.set(entry.hash, findings);
      const approved = record?.tools[entry.name] === entry.hash;
      const reason =
        spec.quarantine === true && (quarantined || !approved)
          ? 'quarantined'
          : findings.length > 0 && !approved
            ? 'poisoning'
            : undefined;
      if (reason === undefined) {
        accepted.push(tool);
        continue;
      }
      const entryHeld: HeldTool = { tool: entry, reason, ...(findings.length > 0 ? { findings } : {}) };
      held.set(entry.name, entryHeld);
      if (before?.get(entry.name)?.tool.hash !== entry.hash) newlyHeld.push(entryHeld);
    }
    // One line per list, not per tool: a quarantined server of 50 tools is one event.
    if (newlyHeld.length > 0) {
      this.#logger.warn(
        {
          server,
          quarantined: newlyHeld.filter((entry) => entry.reason === 'quarantined').length,
          flagged: newlyHeld
            .filter((entry) => entry.reason === 'poisoning')
            .map((entry) => ({
              tool: entry.tool.name,
              rules: [...new Set(entry.findings?.map((finding) => `${finding.rule} in ${finding.field}`))],
            })),
        },
        `tools held back until a person runs \`automcp review approve ${server}\``,
      );
    }
    this.#scanned.set(server, scanned);
    this.#held.set(server, held);
    if (spec.quarantine === true || held.size > 0 || [...scanned.values()].some((found) => found.length > 0)) {
      this.#filteredWith.set(server, this.#trust.version(server));
    } else {
      this.#filteredWith.delete(server);
    }
    return accepted;
  }

  /** True for a server whose review record decides what it lists (the sweep reads its file again). */
  watches(server: string): boolean {
    return this.#filteredWith.has(server);
  }

  /** True when the review record of a watched server changed since its list was last filtered. No I/O. */
  trustChanged(server: string): boolean {
    const filtered = this.#filteredWith.get(server);
    return filtered !== undefined && filtered !== this.#trust.version(server);
  }

  /** The held-back tool with this qualified name, if any. */
  heldBack(name: string): HeldTool | undefined {
    return this.#held.byName(name);
  }

  /** Every tool of `server` held back for review. */
  heldOf(server: string): HeldTool[] {
    return this.#held.of(server);
  }

  /** Forgets a server that left the configuration. */
  forget(server: string): void {
    this.#held.delete(server);
    this.#scanned.delete(server);
    this.#filteredWith.delete(server);
  }

  /** Findings of one definition: from the last filter or the look {@link needsRecord} took, else a scan. */
  #findings(server: string, tool: Tool, hash?: string): Finding[] {
    const key = hash ?? this.#catalog.toCatalogTool(server, tool).hash;
    let known = this.#scanned.get(server);
    if (!known) this.#scanned.set(server, (known = new Map()));
    let findings = known.get(key);
    if (!findings) known.set(key, (findings = scanTool(tool)));
    return findings;
  }
}
