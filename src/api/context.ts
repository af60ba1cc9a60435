// What every handler gets: the request, its URL, the node, and the gateway's shared state.

import type { EdgeNode } from "../node/index.ts";
import type { LiveHub } from "./live.ts";
import type { GatewayMetrics } from "./metrics.ts";
import type { DeliveryBook } from "./subscriptions.ts";

export interface GatewaySettings {
  /** Request bodies at most, in bytes; 413 beyond. */
  bodyBytesMax: number;
  /** A comment line on idle SSE streams this often. */
  heartbeatIntervalMs: number;
  /** Extra Prometheus text appended to /metrics, after the gateway's and the node's. */
  metricsText?: () => string | Promise<string>;
}

export interface GatewayState {
  node: EdgeNode;
  settings: GatewaySettings;
  metrics: GatewayMetrics;
  live: LiveHub;
  /** Open deliveries of persistent-subscription consumers, by id, for ack and nack. */
  deliveries: DeliveryBook;
  /** True once shutdown began: /health answers 503, new live reads are refused. */
  stopping: boolean;
}

export interface Context {
  request: Request;
  url: URL;
  state: GatewayState;
  /** Lifts the server's idle timeout for this request (SSE streams stay open). */
  keepOpen(): void;
}
