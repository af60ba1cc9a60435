// edge-esdb as a library: openStore() and the public types and errors.
//
//   import { openStore } from "edge-esdb";
//   await using store = openStore({ dataDir: "./data" });
//   await store.append("order-1", "no_stream", [{ type: "OrderPlaced", data: { total: 42 } }]);

import { EventStore, type StoreOptions } from "./store/index.ts";
import { Subscriptions, type SubscriptionsOptions } from "./subscriptions/index.ts";
import { Metrics, Telemetry, TelemetryStoreObserver, attachOpenTelemetry } from "./telemetry/index.ts";

export interface OpenStoreOptions extends StoreOptions {
  /** Telemetry to report to (default: a new one, with no handlers but the OpenTelemetry bridge). */
  telemetry?: Telemetry;
  /** Bridge telemetry to @opentelemetry/api (default true; silent until the app registers a provider). */
  openTelemetry?: boolean;
  /** Defaults of new persistent subscriptions, and the catch-up stall setting. */
  subscriptions?: Pick<SubscriptionsOptions, "defaults" | "stalledAfterMs">;
}

/** The store with its subscriptions and telemetry attached. */
export type Store = EventStore & {
  readonly subscriptions: Subscriptions;
  readonly telemetry: Telemetry;
  readonly metrics: Metrics;
  /** Every metric in the Prometheus text format (what /metrics serves). */
  prometheusText(): string;
};

export function openStore(options: OpenStoreOptions): Store {
  const telemetry = options.telemetry ?? new Telemetry();
  const metrics = new Metrics();
  const observer = new TelemetryStoreObserver(telemetry, metrics, options.clock);
  const { telemetry: _t, openTelemetry, subscriptions: subscriptionOptions, ...storeOptions } = options;
  const store = EventStore.open({ ...storeOptions, observer });
  observer.storeId = store.storeId;
  if (openTelemetry !== false) store.onClose(shareOpenTelemetryBridge(telemetry));
  const subscriptions = new Subscriptions(store, { telemetry, metrics, ...(options.clock === undefined ? {} : { clock: options.clock }), ...subscriptionOptions });
  return Object.defineProperties(store, {
    subscriptions: { value: subscriptions, enumerable: true },
    telemetry: { value: telemetry, enumerable: true },
    metrics: { value: metrics, enumerable: true },
    prometheusText: { value: () => metrics.prometheusText(), enumerable: false },
  }) as Store;
}

/** Stores that share one Telemetry share one bridge: the last to close detaches it. */
const bridgeUsers = new WeakMap<Telemetry, { count: number; detach: () => void }>();

function shareOpenTelemetryBridge(telemetry: Telemetry): () => void {
  let entry = bridgeUsers.get(telemetry);
  if (entry === undefined) {
    // An application that attached the bridge itself keeps it.
    const detach = telemetry.handlerIds().includes("edge_esdb_opentelemetry") ? () => {} : attachOpenTelemetry(telemetry);
    entry = { count: 0, detach };
    bridgeUsers.set(telemetry, entry);
  }
  entry.count++;
  const shared = entry;
  return () => {
    shared.count--;
    if (shared.count === 0) {
      shared.detach();
      bridgeUsers.delete(telemetry);
    }
  };
}

export { EventStore, SnapshotStore } from "./store/index.ts";
export { Subscriptions, CatchUpSubscription, PersistentConsumer } from "./subscriptions/index.ts";
export type {
  Delivery,
  DeliveryHandler,
  NackAction,
  PersistentSettings,
  Selector,
  StartFrom,
  SubscriptionHealth,
  SubscriptionState,
  StreamSubscribeOptions,
  AllSubscribeOptions,
  CreateOptions,
  ConnectOptions,
} from "./subscriptions/index.ts";
export { Telemetry, Metrics, attachOpenTelemetry, formatTelemetryEvent, telemetryEventNames, telemetryEventPath } from "./telemetry/index.ts";
export type { TelemetryEvent, TelemetryEventMap, TelemetryEventName, TelemetryHandler, MetricFamily } from "./telemetry/index.ts";
export type * from "./store/index.ts";
export type {
  AppendResult,
  Direction,
  EventFilter,
  EventInput,
  ExpectedVersion,
  JsonValue,
  RecordedEvent,
  StreamMetadata,
} from "./events/index.ts";
export {
  EdgeEsdbError,
  WrongExpectedVersionError,
  StreamNotFoundError,
  StreamDeletedError,
  InvalidArgumentError,
  TooLargeError,
  DuplicateEventError,
  NotFoundError,
  AlreadyExistsError,
  StoreLockedError,
  StoreClosedError,
  ReadOnlyError,
  NoQuorumError,
  StorageFullError,
  isEdgeEsdbError,
  limits,
  type ErrorCode,
} from "./lib/index.ts";
