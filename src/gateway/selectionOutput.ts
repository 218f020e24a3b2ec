/**
 * The form in which `automatic_mcp` hands its result to a caller, chosen by the caller's profile
 * (`selection.output`). MCP suggests structured results be mirrored as JSON text, and most clients show
 * the model only the text; but some agent frameworks (LangChain's MCP adapters) give the model both the
 * text and `structuredContent`, so the same definitions are read, and paid for, twice. A profile picks
 * one form instead:
 *
 * - `both`: `structuredContent` and the same JSON in one text block (the default; any client works);
 * - `structured`: `structuredContent`, and a one-line text summary that does not repeat it;
 * - `text`: the JSON in one text block, no `structuredContent`, and so no `outputSchema` either: an MCP
 *   client rejects a result without `structuredContent` from a tool that declares one.
 *
 * The form is fixed per connection (a connection's profile never changes), so the `tools/list` a
 * connection sees never changes while it lives.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AutomaticMcpOutput } from './core.js';
import { AUTOMATIC_MCP, UPSTREAM_TOOLS } from './tools.js';

/** A profile's `selection.output`. */
export type SelectionOutputForm = 'both' | 'structured' | 'text';

/** Names shown in a summary line before it says "and N more". */
const SUMMARY_NAMES = 10;

/** The gateway's `tools/list` for a connection whose profile receives selections in `form`. */
export function upstreamTools(form: SelectionOutputForm) {
  return UPSTREAM_TOOLS.map((tool) => {
    if (form !== 'text' || tool.name !== AUTOMATIC_MCP) return { ...tool };
    // Without an outputSchema a client expects, and checks, no structuredContent.
    const { outputSchema: _declared, ...rest } = tool;
    return { ...rest };
  });
}

/** The `automatic_mcp` result in the caller's form. */
export function selectionResult(output: AutomaticMcpOutput, form: SelectionOutputForm): CallToolResult {
  switch (form) {
    case 'text':
      return { content: [{ type: 'text', text: JSON.stringify(output) }] };
    case 'structured':
      return { content: [{ type: 'text', text: selectionSummary(output) }], structuredContent: output };
    case 'both':
      return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
  }
}

/**
 * One line about a selection that points to `structuredContent` for the definitions, for a client
 * that reads both; it names the tools, which are short, and never repeats a schema.
 */
export function selectionSummary(output: AutomaticMcpOutput): string {
  const parts = [
    `${output.tools.length} ${output.tools.length === 1 ? 'tool' : 'tools'} with full definitions in structuredContent.tools${names(output.tools)}`,
  ];
  if (output.unchanged.length > 0) {
    parts.push(
      `${output.unchanged.length} already sent, by name and hash in structuredContent.unchanged${names(output.unchanged)}`,
    );
  }
  return `${parts.join('; ')}. ${output.totalAvailable} available (run ${output.runId}, ${output.mode}).`;
}

function names(tools: readonly { name: string }[]): string {
  if (tools.length === 0) return '';
  const shown = tools.slice(0, SUMMARY_NAMES).map((tool) => tool.name);
  const more = tools.length - shown.length;
  return `: ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
