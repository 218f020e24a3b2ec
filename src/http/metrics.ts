/**
 * Prometheus metrics for the HTTP gateway (prom-client, on a registry of its own so two gateways in
 * one process never share series). The core reports through its observer seam; gauges read the
 * downstream registry and the session store when scraped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Gateway } from '../gateway/create.js';
import type { EvalEvent, GatewayObserver, SelectionEvent } from '../gateway/observer.js';
import { countJsonTokens } from '../tokens/count.js';
import { TokenTally } from './tokenTally.js';

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

/** Options of {@link createGatewayMetrics}. */
export interface GatewayMetricsOptions {
  /** cl100k tokens of a value's JSON (default: the real tokenizer; tests inject one that records calls). */
  countJsonTokens?: (value: unknown) => number;
}

/** Creates the metrics, with Node's default process metrics (RSS, heap, event-loop lag, …). */
export function createGatewayMetrics(options: GatewayMetricsOptions = {}): GatewayMetrics {
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
    help: "cl100k tokens of the caller's full catalog (per-definition counts plus the envelope), added once per automatic_mcp response (what a client would load without the gateway)",
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

  // Token counts are off the request path: the observer only queues the selection, and the counting
  // runs in later event-loop turns (a scrape waits for it), so a catalog change never stalls the calls
  // behind it on a recount, nor does the first call on loading the tokenizer.
  const tally = new TokenTally({
    count: options.countJsonTokens ?? countJsonTokens,
    response: (tokens) => responseTokens.inc(tokens),
    catalog: (tokens) => catalogTokens.inc(tokens),
  });
  let gateway: Gateway | undefined;

  const observer: GatewayObserver = {
    onSelection(event: SelectionEvent) {
      selectionSeconds.observe({ mode: event.mode }, event.durationMs / 1000);
      toolsReturned.observe({ kind: 'full' }, event.output.tools.length);
      toolsReturned.observe({ kind: 'unchanged' }, event.output.unchanged.length);
      const bound = gateway;
      const catalog = event.catalog ?? (bound ? () => bound.core.fullCatalog(event.profile) : undefined);
      tally.add({ output: event.output, catalogKey: `${event.profile.name}\u0000${event.output.etag}`, catalog });
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
      // Selections observed so far are counted before the scrape reads the counters.
      await tally.settled();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
