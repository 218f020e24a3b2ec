/**
 * automcp as a library: build a gateway from a runtime configuration and serve it over any MCP
 * transport. Named exports only; the command line lives in cli/.
 */
export { createGateway } from './gateway/create.js';
export type { Gateway, GatewayOptions } from './gateway/create.js';
export { loadConfig, loadProfile, parseProfile, parseRuntime } from './config/load.js';
export type { Profile, RuntimeConfig, ServerSpec } from './config/load.js';
export { ConfigError, GatewayError, isConfigError, isGatewayError } from './errors.js';
export type { GatewayErrorCode } from './errors.js';
export { createLogger } from './logging/logger.js';
export type { Logger } from './logging/logger.js';
export type { AutomaticMcpOutput, CallerContext } from './gateway/core.js';
export type { EvalEvent, GatewayObserver, SelectionEvent } from './gateway/observer.js';
export type { TraceStore } from './traces/store.js';
export type { TraceQuery } from './traces/query.js';
export type { EvalTrace, SelectionTrace, TraceRecord } from './traces/record.js';
export type { CatalogTool, ToolDefinition } from './catalog/types.js';
export type { SessionKey, SessionStore, SessionStoreStatus } from './session/store.js';
export type { TransportFactory } from './downstream/transport.js';
export type { LlmTrace, SelectionMode } from './selection/graph.js';
export type { ProbeResult } from './selection/llm.js';
export type { SelectorState } from './selection/providers.js';
export type { Embedder, EmbeddingsState } from './selection/embeddings.js';
export type { EmbeddingsStatus, ToolVectors } from './selection/vectors.js';
export type { RunFilter, RunLog } from './ops/runLog.js';
export type { LiveConfig, RefusedEdit, ReloadOutcome } from './ops/reload.js';
