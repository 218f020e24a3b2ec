/**
 * The Prometheus metrics fed through the observer seam: token counts stay within a few tokens of
 * counting the whole response, evals are labelled by server and outcome.
 */
import { describe, expect, it, vi } from 'vitest';
import type { AutomaticMcpOutput } from '../../src/gateway/core.js';
import { createGatewayMetrics } from '../../src/http/metrics.js';
import { countJsonTokens } from '../../src/tokens/count.js';
import { FakeDownstream, makeProfile, startInProcessGateway, toolDefinition } from '../helpers/inprocess.js';
import { metricValue } from '../helpers/http.js';

const output = (tools: number, unchanged: number): AutomaticMcpOutput => ({
  runId: 'r_0000abcd',
  mode: 'lexical',
  etag: '1a2b3c4d',
  tools: Array.from({ length: tools }, (_, index) => ({
    name: `memory.create_entities_${index}`,
    description: 'Create multiple new entities in the knowledge graph, each with a name, a type and observations.',
    inputSchema: {
      type: 'object',
      properties: { entities: { type: 'array', items: { type: 'string' } } },
      required: ['entities'],
    },
    hash: index.toString(16).padStart(16, '0'),
  })),
  unchanged: Array.from({ length: unchanged }, (_, index) => ({
    name: `everything.echo_${index}`,
    hash: `f${index}`.padStart(16, '0'),
  })),
  totalAvailable: 36,
});

const evalContext = { profile: makeProfile('default'), session: 's' };

describe('gateway metrics', () => {
  it('counts response tokens within a few of the exact count, and labels evals by server and outcome', async () => {
    const metrics = createGatewayMetrics();
    const outputs = [output(8, 0), output(3, 5), output(0, 8)];
    for (const [index, out] of outputs.entries()) {
      metrics.observer.onSelection?.({
        runId: `r_${index}`,
        caller: 'a',
        profile: makeProfile('default'),
        mode: 'lexical',
        durationMs: 12,
        output: out,
        sessionId: 's',
        request: { query: 'q', limit: 8, fresh: false },
        selection: { mode: 'lexical', tools: [], candidates: [], view: undefined as never },
      });
    }
    metrics.observer.onEval?.({
      runId: 'r_9',
      caller: 'a',
      ...evalContext,
      toolName: 'x.y',
      server: 'x',
      outcome: 'ok',
      durationMs: 5,
    });
    metrics.observer.onEval?.({
      runId: 'r_10',
      caller: 'a',
      ...evalContext,
      toolName: 'nope',
      outcome: 'TOOL_NOT_FOUND',
      durationMs: 1,
    });
    const text = (await metrics.render()).body;

    const exact = outputs.reduce((sum, out) => sum + countJsonTokens(out), 0);
    const counted = metricValue(text, 'automcp_selection_response_tokens_total')!;
    expect(Math.abs(counted - exact) / exact).toBeLessThan(0.03);
    expect(metricValue(text, 'automcp_selection_duration_seconds_count', { mode: 'lexical' })).toBe(3);
    expect(metricValue(text, 'automcp_selection_duration_seconds_sum', { mode: 'lexical' })).toBeCloseTo(0.036);
    expect(metricValue(text, 'automcp_selection_tools_returned_sum', { kind: 'full' })).toBe(11);
    expect(metricValue(text, 'automcp_selection_tools_returned_sum', { kind: 'unchanged' })).toBe(13);
    expect(metricValue(text, 'automcp_evals_total', { server: 'x', outcome: 'ok' })).toBe(1);
    expect(metricValue(text, 'automcp_evals_total', { server: '-', outcome: 'TOOL_NOT_FOUND' })).toBe(1);
    expect(metricValue(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts tokens off the request path: an automatic_mcp call neither reads nor tokenizes the catalog', async () => {
    const tokenized: unknown[] = [];
    const metrics = createGatewayMetrics({
      countJsonTokens: (value) => {
        tokenized.push(value);
        return countJsonTokens(value);
      },
    });
    const tools = Array.from({ length: 30 }, (_, index) => ({
      definition: toolDefinition(`tool_${index}`, `Tool number ${index} reads and writes records of kind ${index}.`),
      handler: () => ({ content: [{ type: 'text' as const, text: 'ok' }] }),
    }));
    const running = await startInProcessGateway({ servers: [new FakeDownstream('store', tools)], observer: metrics.observer });
    try {
      metrics.attach({ gateway: running.gateway, mcpSessions: () => 0 });
      const fullCatalog = vi.spyOn(running.gateway.core, 'fullCatalog');
      const profile = makeProfile('default');
      const output = await running.gateway.core.automaticMcp(
        { query: 'read records' },
        { caller: 'c', profile, connectionId: 'conn' },
      );
      expect(output.tools.length).toBeGreaterThan(0);
      // The call has returned: nothing was tokenized and the catalog was not listed for the metrics.
      expect(tokenized).toHaveLength(0);
      expect(fullCatalog).not.toHaveBeenCalled();
      const text = (await metrics.render()).body;
      expect(tokenized.length).toBeGreaterThan(0);
      // What this caller sees: the downstream tools, not the gateway's own (no profile grant here).
      const visible = running.gateway.catalog.tools().filter((tool) => tool.server !== 'automcp');
      const exact = countJsonTokens(visible.map((tool) => tool.definition));
      const counted = metricValue(text, 'automcp_selection_catalog_tokens_total')!;
      expect(Math.abs(counted - exact) / exact).toBeLessThan(0.005);
      expect(metricValue(text, 'automcp_selection_response_tokens_total')).toBeGreaterThan(0);
    } finally {
      await running.close();
    }
  });
});
