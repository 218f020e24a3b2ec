/**
 * What `automcp review` does apart from printing: start one server, list its tools, scan each
 * definition and say which ones a gateway would hold back, and — for `review approve` — record the
 * approval in the server's trust file (the same record `pinDefinitions` uses), so running gateways
 * release the tools on their next sweep. Approval covers the exact definitions listed here: a later
 * change waits for review again (quarantined servers always, pinned servers through their pins,
 * findings always).
 */
import { createHash } from 'node:crypto';
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
  /**
   * One hash of the entry and every definition shown: `review approve --digest` refuses when what it
   * would approve is not what the person read.
   */
  digest: string;
}

/** The server changed between `automcp review` and `automcp review approve --digest`. */
export class ReviewChangedError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`what the server lists now (digest ${actual}) is not what was reviewed (digest ${expected})`);
  }
}

function digestOf(entry: string, tools: readonly { name: string; hash: string }[]): string {
  const lines = [entry, ...tools.map((tool) => `${tool.name}=${tool.hash}`).sort()];
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
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
  const entry = entryFingerprint(spec);
  const reviewed = tools.map((tool): ReviewedTool => {
    const listed = catalog.toCatalogTool(spec.name, tool);
    const findings = scanTool(tool);
    const approved = !quarantined && record?.tools[listed.name] === listed.hash;
    const held =
      spec.quarantine === true && !approved ? 'quarantined' : findings.length > 0 && !approved ? 'poisoning' : undefined;
    return { name: listed.name, hash: listed.hash, definition: listed.definition, findings, approved, ...(held ? { held } : {}) };
  });
  return {
    server: spec.name,
    quarantine: spec.quarantine === true,
    quarantined,
    entry,
    ...(record ? { approvedAt: record.approvedAt } : {}),
    tools: reviewed,
    digest: digestOf(entry, reviewed),
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
  options: ReachOptions & {
    stateDir: string;
    /** The digest `automcp review` showed; when given, a server that lists anything else is not approved. */
    digest?: string;
  },
): Promise<{ before: ServerReview; after: ServerReview }> {
  const { spec, stateDir, digest } = options;
  const tools = await listServerTools(options);
  const catalog = new Catalog(await loadHasher());
  const trust = new TrustStore({ stateDir });
  await trust.load(spec.name);
  const before = reviewTools({ spec, tools, trust, catalog });
  if (digest !== undefined && digest !== before.digest) throw new ReviewChangedError(digest, before.digest);
  await trust.approve(spec.name, {
    entry: entryFingerprint(spec),
    tools: before.tools.map((tool) => ({ name: tool.name, hash: tool.hash })),
  });
  return { before, after: reviewTools({ spec, tools, trust, catalog }) };
}
