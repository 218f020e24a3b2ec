/**
 * Pinned definitions (`pinDefinitions: true`): a tool whose definition hash differs from the trusted
 * one is held back — left out of the catalog, so it cannot be selected, and refused by
 * `automatic_eval` with TOOL_HELD_BACK — until `automcp trust <server>` accepts the new definition.
 * Tools seen for the first time are trusted as they are. This guards against a server swapping what a
 * tool does after a person approved it.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { CatalogTool } from '../catalog/types.js';
import type { Logger } from '../logging/logger.js';
import type { Finding } from '../security/scan.js';
import type { TrustStore } from '../state/trustFile.js';

/**
 * Why a tool is held back: `changed` (a pinned definition no longer matches its trusted hash),
 * `quarantined` (its server waits for `automcp review approve`), `poisoning` (the scanner found text
 * aimed at a model in it). See review.ts for the last two.
 */
export type HoldReason = 'changed' | 'quarantined' | 'poisoning';

/** A tool held back from the catalog until a person accepts it. */
export interface HeldTool {
  tool: CatalogTool;
  reason: HoldReason;
  /** For `changed`: the hash trusted before. */
  trustedHash?: string;
  /** What the scanner found in the definition, if anything. */
  findings?: Finding[];
}

/**
 * Held-back tools by server, then by qualified name: what pinning and review each keep, replaced whole
 * each time a server's list is filtered.
 */
export class HeldTools extends Map<string, Map<string, HeldTool>> {
  /** The held-back tool with this qualified name, if any. */
  byName(name: string): HeldTool | undefined {
    for (const held of this.values()) {
      const tool = held.get(name);
      if (tool) return tool;
    }
    return undefined;
  }

  /** Every held-back tool of `server`. */
  of(server: string): HeldTool[] {
    return [...(this.get(server)?.values() ?? [])];
  }
}

/** Applies trusted hashes to the tool lists of pinned servers. */
export class DefinitionPins {
  readonly #trust: TrustStore;
  readonly #catalog: Catalog;
  readonly #logger: Logger;
  readonly #held = new HeldTools();
  /** The trust version each server's list was last filtered with. */
  readonly #filteredWith = new Map<string, number>();
  /** Trust-on-first-sight writes still running, so a shutdown can wait for them. */
  readonly #writes = new Set<Promise<void>>();

  constructor({ trust, catalog, logger }: { trust: TrustStore; catalog: Catalog; logger: Logger }) {
    this.#trust = trust;
    this.#catalog = catalog;
    this.#logger = logger;
  }

  /** Reads the trusted hashes of `server` once; {@link filter} needs them. */
  async load(server: string): Promise<void> {
    await this.#trust.load(server);
  }

  /** Looks at the trust file of `server` again (the sweep); true when its hashes changed. */
  async refresh(server: string): Promise<boolean> {
    return this.#trust.refresh(server);
  }

  /**
   * The tools of `server` that may enter the catalog; the rest are held back (and logged once each).
   * Synchronous and free of I/O: the trusted hashes are in memory ({@link load}), and tools seen for
   * the first time are written to the trust file in the background.
   */
  filter(server: string, tools: readonly Tool[]): Tool[] {
    const trusted = this.#trust.trusted(server);
    const accepted: Tool[] = [];
    const fresh: { name: string; hash: string }[] = [];
    const held = new Map<string, HeldTool>();
    const before = this.#held.get(server);
    for (const tool of tools) {
      const entry = this.#catalog.toCatalogTool(server, tool);
      const trustedHash = trusted.get(entry.name);
      if (trustedHash === undefined) fresh.push({ name: entry.name, hash: entry.hash });
      if (trustedHash === undefined || trustedHash === entry.hash) {
        accepted.push(tool);
        continue;
      }
      held.set(entry.name, { tool: entry, reason: 'changed', trustedHash });
      if (before?.get(entry.name)?.tool.hash !== entry.hash) {
        this.#logger.warn(
          { server, tool: entry.name, trusted: trustedHash, current: entry.hash },
          'pinned tool definition changed; held back until `automcp trust` accepts it',
        );
      }
    }
    if (fresh.length > 0) {
      const write = this.#trust.remember(server, fresh).catch((error: unknown) => {
        this.#logger.warn({ server, err: (error as Error).message }, 'could not write the trusted hashes');
      });
      this.#writes.add(write);
      void write.finally(() => this.#writes.delete(write));
    }
    this.#filteredWith.set(server, this.#trust.version(server));
    this.#held.set(server, held);
    return accepted;
  }

  /** Resolves when the trust writes begun so far are done. */
  async settled(): Promise<void> {
    await Promise.all([...this.#writes]);
  }

  /** The held-back tool with this qualified name, if any. */
  heldBack(name: string): HeldTool | undefined {
    return this.#held.byName(name);
  }

  /** Every held-back tool of `server`. */
  heldOf(server: string): HeldTool[] {
    return this.#held.of(server);
  }

  /** True when the trusted hashes of `server` changed since its list was last filtered. No I/O. */
  trustChanged(server: string): boolean {
    return this.#trust.version(server) !== this.#filteredWith.get(server);
  }
}
