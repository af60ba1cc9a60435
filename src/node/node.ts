// The running node: what `serve` starts and the HTTP gateway talks to. In single mode it is the
// store with its telemetry and subscriptions; cluster and auto modes will add Raft, transport and
// discovery here (writes routed through Raft), so the gateway keeps asking the node and does not
// change.

import { EventStore, type Durability } from "../store/index.ts";
import { Subscriptions } from "../subscriptions/index.ts";
import { Metrics, Telemetry, TelemetryStoreObserver, attachOpenTelemetry } from "../telemetry/index.ts";

export type NodeMode = "single";

export interface NodeConfig {
  dataDir: string;
  durability?: Durability;
  /** The program's version, for /v1/node. */
  version?: string;
  /** Telemetry to report to (default: a new one with the OpenTelemetry bridge, silent until a provider is registered). */
  telemetry?: Telemetry;
}

export interface EdgeNode {
  readonly mode: NodeMode;
  readonly version: string;
  readonly dataDir: string;
  /** Where reads and (in single mode) writes go. A cluster node will route writes through Raft. */
  readonly store: EventStore;
  /** Catch-up and persistent subscriptions over the store; they close (saving progress) with it. */
  readonly subscriptions: Subscriptions | null;
  readonly telemetry: Telemetry;
  /** The store's and subscriptions' metrics; /metrics serves their Prometheus text. */
  readonly metrics: Metrics;
  readonly startedAtMs: number;
  /** Writes out what is queued, checkpoints the WAL and releases the data dir lock. */
  close(): Promise<void>;
}

/** Opens the node's store. Throws StoreLockedError when another process has the data dir. */
export function startNode(config: NodeConfig): EdgeNode {
  // The same wiring as the library's openStore() (src/index.ts), which node/ may not import.
  const telemetry = config.telemetry ?? new Telemetry();
  const metrics = new Metrics();
  const observer = new TelemetryStoreObserver(telemetry, metrics);
  const store = EventStore.open({ dataDir: config.dataDir, durability: config.durability ?? "full", observer });
  observer.storeId = store.storeId;
  if (!telemetry.handlerIds().includes("edge_esdb_opentelemetry")) store.onClose(attachOpenTelemetry(telemetry));
  let closing: Promise<void> | null = null;
  const subscriptions = new Subscriptions(store, { telemetry, metrics });
  return {
    mode: "single",
    version: config.version ?? "0.0.0",
    dataDir: store.dataDir,
    store,
    subscriptions,
    telemetry,
    metrics,
    startedAtMs: Date.now(),
    close() {
      // The store's close hook closes the subscriptions first (they save their checkpoints).
      closing ??= store.close();
      return closing;
    },
  };
}
