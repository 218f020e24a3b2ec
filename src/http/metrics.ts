/**
 * Prometheus metrics for the HTTP gateway (prom-client, on a registry of its own so two gateways in
 * one process never share series). The core reports through its observer seam; gauges read the
 * downstream registry and the session store when scraped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AutomaticMcpOutput } from '../gateway/core.js';
import type { Gateway } from '../gateway/create.js';
import type { EvalEvent, GatewayObserver, SelectionEvent } from '../gateway/observer.js';
import { countJsonTokens } from '../tokens/count.js';

/** The metrics of one gateway process. */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Pass to `createGateway({observer})`. */
  readonly observer: GatewayObserver;
  /** Binds the gauges that read live state: downstream up/down, active sessions, open MCP sessions. */
  attach(options: { gateway: Gateway; mcpSessions: () => number }): void;
  /** Counts a refused request (no or wrong token). */
  unauthorized(reason: string): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Creates the metrics, with Node's default process metrics (RSS, heap, event-loop lag, …). */
export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const selectionSeconds = new Histogram({
    name: 'automcp_selection_duration_seconds',
    help: 'automatic_mcp selection latency by mode',
    labelNames: ['mode'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const toolsReturned = new Histogram({
    name: 'automcp_selection_tools_returned',
    help: 'tools per automatic_mcp response: full definitions and names-only',
    labelNames: ['kind'],
    buckets: [0, 1, 2, 3, 5, 8, 13, 20, 50],
    registers,
  });
  const responseTokens = new Counter({
    name: 'automcp_selection_response_tokens_total',
    help: 'cl100k tokens of automatic_mcp responses (per-definition counts plus the envelope)',
    registers,
  });
  const catalogTokens = new Counter({
    name: 'automcp_selection_catalog_tokens_total',
    help: "cl100k tokens of the caller's full catalog, counted once per automatic_mcp response (what a client would load without the gateway)",
    registers,
  });
  const evalSeconds = new Histogram({
    name: 'automcp_eval_duration_seconds',
    help: 'automatic_eval latency by downstream server ("-" when the tool did not resolve)',
    labelNames: ['server'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const evals = new Counter({
    name: 'automcp_evals_total',
    help: 'automatic_eval calls by server and outcome (ok, tool_error, cancelled or a gateway error code)',
    labelNames: ['server', 'outcome'],
    registers,
  });
  const unauthorized = new Counter({
    name: 'automcp_http_unauthorized_total',
    help: 'requests refused for a missing or wrong bearer token',
    labelNames: ['reason'],
    registers,
  });

  // The full catalog is the same for every call with the same view, so count it once per (profile, etag).
  const catalogCache = new Map<string, number>();
  // Tokenizing every response on the request path costs milliseconds; a definition's tokens depend only
  // on its hash, so count each once and add the envelope: within a few tokens of counting the whole text.
  const itemTokens = new Map<string, number>();
  const cachedTokens = (key: string, value: unknown) => {
    let tokens = itemTokens.get(key);
    if (tokens === undefined) {
      if (itemTokens.size > 10_000) itemTokens.clear();
      tokens = countJsonTokens(value);
      itemTokens.set(key, tokens);
    }
    return tokens;
  };
  const responseTokenCount = (output: AutomaticMcpOutput) =>
    countJsonTokens({ ...output, tools: [], unchanged: [] }) +
    output.tools.reduce((sum, tool) => sum + cachedTokens(`full:${tool.name}:${tool.hash}`, tool), 0) +
    output.unchanged.reduce((sum, tool) => sum + cachedTokens(`name:${tool.name}:${tool.hash}`, tool), 0);
  let gateway: Gateway | undefined;

  const observer: GatewayObserver = {
    onSelection(event: SelectionEvent) {
      selectionSeconds.observe({ mode: event.mode }, event.durationMs / 1000);
      toolsReturned.observe({ kind: 'full' }, event.output.tools.length);
      toolsReturned.observe({ kind: 'unchanged' }, event.output.unchanged.length);
      responseTokens.inc(responseTokenCount(event.output));
      if (gateway) {
        const key = `${event.profile.name}\u0000${event.output.etag}`;
        let tokens = catalogCache.get(key);
        if (tokens === undefined) {
          if (catalogCache.size > 1000) catalogCache.clear();
          tokens = countJsonTokens(gateway.core.fullCatalog(event.profile));
          catalogCache.set(key, tokens);
        }
        catalogTokens.inc(tokens);
      }
    },
    onEval(event: EvalEvent) {
      const server = event.server ?? '-';
      evalSeconds.observe({ server }, event.durationMs / 1000);
      evals.inc({ server, outcome: event.outcome });
    },
  };

  return {
    registry,
    observer,
    attach({ gateway: bound, mcpSessions }) {
      gateway = bound;
      new Gauge({
        name: 'automcp_downstream_up',
        help: '1 when the downstream server is connected, else 0',
        labelNames: ['server'],
        registers,
        collect() {
          for (const status of bound.registry.status()) this.set({ server: status.name }, status.state === 'up' ? 1 : 0);
        },
      });
      new Gauge({
        name: 'automcp_sessions_active',
        help: 'sessions whose sent definitions the session store holds',
        registers,
        collect() {
          this.set(bound.sessions.size());
        },
      });
      new Gauge({
        name: 'automcp_http_mcp_sessions',
        help: 'open MCP sessions (Mcp-Session-Id) on this process',
        registers,
        collect() {
          this.set(mcpSessions());
        },
      });
    },
    unauthorized(reason) {
      unauthorized.inc({ reason });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
