/**
 * The answer to a call of a held-back tool (downstream/pins.ts and review.ts hold them back).
 */
import type { HeldTool } from '../downstream/pins.js';
import { GatewayError } from '../errors.js';

/**
 * TOOL_HELD_BACK for a tool the caller could otherwise use: why, and what a person runs to release it.
 * Findings are not repeated to the caller (they are text an attacker wrote); `automcp review` shows them.
 */
export function heldBackError(held: HeldTool): GatewayError {
  const { tool } = held;
  const data = { server: tool.server, reason: held.reason, currentHash: tool.hash };
  if (held.reason === 'changed') {
    return new GatewayError(
      'TOOL_HELD_BACK',
      `the definition of ${tool.name} changed since it was trusted, and its server pins definitions; a person must review it and run \`automcp trust ${tool.server}\``,
      { data: { ...data, trustedHash: held.trustedHash } },
    );
  }
  const why =
    held.reason === 'quarantined'
      ? `server "${tool.server}" is quarantined until a person reviews it`
      : `the definition of ${tool.name} holds text aimed at a model (${[...new Set(held.findings?.map((finding) => finding.rule))].join(', ')})`;
  return new GatewayError('TOOL_HELD_BACK', `${why}; a person must run \`automcp review ${tool.server}\` and approve it`, {
    data: { ...data, ...(held.findings ? { rules: [...new Set(held.findings.map((finding) => finding.rule))] } : {}) },
  });
}
