// The node: starts the store (and, later, the cluster machinery) and is what the gateway serves.
// It also re-exports the store's types the gateway needs, so api/ depends on node/ only.
export { startNode } from "./node.ts";
export type { EdgeNode, NodeConfig, NodeMode } from "./node.ts";
export type {
  EventStore,
  Durability,
  ReadOptions,
  ReadAllOptions,
  StreamSummary,
  StreamsPage,
  Snapshot,
  StoreInfo,
  CommittedAppend,
} from "../store/index.ts";
export type { Subscriptions } from "../subscriptions/index.ts";
export type { Metrics, Telemetry } from "../telemetry/index.ts";
