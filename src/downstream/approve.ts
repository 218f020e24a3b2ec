/**
 * What `automcp review` does apart from printing: start one server, list its tools, scan each
 * definition and say which ones a gateway would hold back, and — for `review approve` — record the
 * approval in the server's trust file (the same record `pinDefinitions` uses), so running gateways
 * release the tools on their next sweep. Approval covers the exact definitions listed here: a later
 * change waits for review again (quarantined servers always, pinned servers through their pins,
 * findings always).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { Catalog } from '../catalog/catalog.js';
import { loadHasher } from '../catalog/hash.js';
import type { ToolDefinition } from '../catalog/types.js';
import type { ServerSpec } from '../config/load.js';
import { scanTool, type Finding } from '../security/scan.js';
import { TrustStore } from '../state/trustFile.js';
import { entryFingerprint, isQuarantined } from './review.js';
import { listServerTools, type ReachOptions } from './trust.js';

/** One tool as a reviewer sees it. */
export interface ReviewedTool {
  name: string;
  hash: string;
  definition: ToolDefinition;
  findings: Finding[];
  /** True when an approval covers this exact definition. */
  approved: boolean;
  /** Why a gateway holds it back now, if it does. */
  held?: 'quarantined' | 'poisoning';
}

/** What one server would add to the catalog, and what of it waits for review. */
export interface ServerReview {
  server: string;
  /** The entry asks for review (`quarantine: true`). */
  quarantine: boolean;
  /** It waits for approval of this entry now. */
  quarantined: boolean;
  /** Fingerprint of what the entry runs; approval is recorded for it. */
  entry: string;
  approvedAt?: string;
  tools: ReviewedTool[];
}

/** Reviews `tools` of `spec` against the approvals in `trust` (already loaded). No I/O. */
export function reviewTools({
  spec,
  tools,
  trust,
  catalog,
}: {
  spec: ServerSpec;
  tools: readonly Tool[];
  trust: TrustStore;
  catalog: Catalog;
}): ServerReview {
  const record = trust.review(spec.name);
  const quarantined = isQuarantined(spec, trust);
  return {
    server: spec.name,
    quarantine: spec.quarantine === true,
    quarantined,
    entry: entryFingerprint(spec),
    ...(record ? { approvedAt: record.approvedAt } : {}),
    tools: tools.map((tool) => {
      const entry = catalog.toCatalogTool(spec.name, tool);
      const findings = scanTool(tool);
      const approved = !quarantined && record?.tools[entry.name] === entry.hash;
      const held =
        spec.quarantine === true && !approved ? 'quarantined' : findings.length > 0 && !approved ? 'poisoning' : undefined;
      return { name: entry.name, hash: entry.hash, definition: entry.definition, findings, approved, ...(held ? { held } : {}) };
    }),
  };
}

/** Starts the server of `spec` and reviews what it lists. */
export async function reviewServer(options: ReachOptions & { stateDir: string }): Promise<ServerReview> {
  const tools = await listServerTools(options);
  const trust = new TrustStore({ stateDir: options.stateDir });
  await trust.load(options.spec.name);
  return reviewTools({ spec: options.spec, tools, trust, catalog: new Catalog(await loadHasher()) });
}

/**
 * Starts the server of `spec`, lists its tools and approves exactly these definitions and this entry.
 * Resolves with the review as it stands after the approval, and the review before it.
 */
export async function approveServer(
  options: ReachOptions & { stateDir: string },
): Promise<{ before: ServerReview; after: ServerReview }> {
  const { spec, stateDir } = options;
  const tools = await listServerTools(options);
  const catalog = new Catalog(await loadHasher());
  const trust = new TrustStore({ stateDir });
  await trust.load(spec.name);
  const before = reviewTools({ spec, tools, trust, catalog });
  await trust.approve(spec.name, {
    entry: entryFingerprint(spec),
    tools: before.tools.map((tool) => ({ name: tool.name, hash: tool.hash })),
  });
  return { before, after: reviewTools({ spec, tools, trust, catalog }) };
}
