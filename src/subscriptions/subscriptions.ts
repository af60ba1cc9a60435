// The subscriptions of one store: catch-up subscriptions (to a stream or to $all) and the
// persistent subscriptions the store keeps by name, all fed by one live hub beside the write
// path. openStore() attaches one of these to the store as `store.subscriptions`.

import { AlreadyExistsError, InvalidArgumentError, NotFoundError, ReadOnlyError, StreamDeletedError, TooLargeError, limits } from "../lib/index.ts";
import { streamIsVisible, validateFilter, validateStreamId, type EventFilter, type JsonValue } from "../events/index.ts";
import { SubscriptionRecords, type EventStore, type SubscriptionRecord } from "../store/index.ts";
import type { Metrics, MetricFamily, Telemetry } from "../telemetry/index.ts";
import { CatchUpSubscription, type CatchUpContext, type EventHandler } from "./catch-up.ts";
import { EventFeed } from "./event-feed.ts";
import { LiveHub } from "./live-hub.ts";
import { PersistentSubscription, type DeliveryHandler, type DeliveryTotals, type PersistentConsumer } from "./persistent.ts";
import {
  defaultPersistentSettings,
  parkedStreamId,
  selectorType,
  validateName,
  validateSelector,
  validateSettings,
  validateStart,
  type PersistentSettings,
  type Selector,
  type StartFrom,
  type SubscriptionHealth,
} from "./settings.ts";

export interface SubscriptionsOptions {
  telemetry?: Telemetry;
  metrics?: Metrics;
  /** Milliseconds since the epoch (tests pass their own). */
  clock?: () => number;
  /** Defaults for new persistent subscriptions (each may override them). */
  defaults?: Partial<PersistentSettings>;
  /** Catch-up subscriptions: stalled after this long with work and no progress. */
  stalledAfterMs?: number;
}

interface CatchUpOptionsBase {
  /** Events buffered ahead of the consumer; past it the subscription reads from the store. */
  bufferCount?: number;
  /** Called for each event in order; without it, iterate the subscription. */
  handler?: EventHandler;
  /** A name for health reports (default catch-up-<n>). */
  name?: string;
}

export interface StreamSubscribeOptions extends CatchUpOptionsBase {
  /** "start" (default), "end" (only new events), or the first version to deliver. */
  from?: "start" | "end" | { version: number };
}

export interface AllSubscribeOptions extends CatchUpOptionsBase {
  /** "start" (default), "end", or the first position to deliver. */
  from?: StartFrom;
  filter?: EventFilter;
  /** Include events of $-streams ($parked-*, $conflicts); default false. */
  includeSystem?: boolean;
}

export interface CreateOptions {
  selector: Selector;
  from?: StartFrom;
  settings?: Partial<PersistentSettings>;
}

export interface ConnectOptions {
  inFlightMax?: number;
  /** Called for each delivery; returning acks it, throwing nacks it with retry. */
  handler?: DeliveryHandler;
}

export class Subscriptions {
  private readonly hub: LiveHub;
  private readonly records: SubscriptionRecords;
  private readonly persistent = new Map<string, PersistentSubscription>();
  private readonly catchUps = new Set<CatchUpSubscription>();
  private readonly clock: () => number;
  private readonly defaults: PersistentSettings;
  private readonly catchUpContext: Omit<CatchUpContext, "detach">;
  private catchUpCounter = 0;
  private closed = false;
  private readonly detachCollector: () => void;

  constructor(
    private readonly store: EventStore,
    private readonly options: SubscriptionsOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.defaults = validateSettings(options.defaults ?? {}, defaultPersistentSettings);
    this.hub = new LiveHub(store);
    this.records = new SubscriptionRecords(store);
    this.catchUpContext = {
      headPosition: () => this.store.headPosition,
      now: this.clock,
      stalledAfterMs: validateSettings({ stalledAfterMs: options.stalledAfterMs }).stalledAfterMs,
    };
    this.detachCollector = options.metrics?.addCollector(() => this.metricFamilies()) ?? (() => {});
    store.onClose(() => this.close());
  }

  // ------------------------------------------------------------------------------- catch-up

  /** Events of one stream in version order: history from `from`, then live. */
  subscribeToStream(streamId: string, options: StreamSubscribeOptions = {}): CatchUpSubscription {
    this.open();
    validateStreamId(streamId, true);
    const state = this.store.loadStreamState(streamId);
    if (state.deletion === "hard") throw new StreamDeletedError(streamId);
    let version: number;
    const from = options.from ?? "start";
    if (from === "start") version = 0;
    else if (from === "end") version = state.lastVersion + 1;
    else if (typeof from === "object" && Number.isSafeInteger(from.version) && from.version >= 0) version = from.version;
    else throw new InvalidArgumentError(`from must be "start", "end" or { version: n >= 0 }, got ${JSON.stringify(from)}`);
    const feed = new EventFeed(this.store, { kind: "stream", streamId }, { position: 0, version }, this.bufferCount(options.bufferCount));
    return this.startCatchUp(feed, options, "stream", { stream: streamId, from: typeof from === "string" ? from : from.version });
  }

  /** Every event in global order (filtered in the store), history from `from`, then live. */
  subscribeToAll(options: AllSubscribeOptions = {}): CatchUpSubscription {
    this.open();
    const filter = validateFilter(options.filter);
    const position = validateStart(options.from, this.store.headPosition);
    const feed = new EventFeed(this.store, { kind: "all", filter, includeSystem: options.includeSystem === true }, { position, version: 0 }, this.bufferCount(options.bufferCount));
    return this.startCatchUp(feed, options, "all", { filter: filter as JsonValue, from: position });
  }

  private startCatchUp(feed: EventFeed, options: CatchUpOptionsBase, kind: "stream" | "all", selector: JsonValue): CatchUpSubscription {
    if (this.catchUps.size >= limits.catchUpSubscriptionsMax) {
      throw new TooLargeError("open catch-up subscriptions", "catchUpSubscriptionsMax", limits.catchUpSubscriptionsMax, this.catchUps.size + 1);
    }
    const name = options.name ?? `catch-up-${++this.catchUpCounter}`;
    this.hub.add(feed);
    const context: CatchUpContext = {
      ...this.catchUpContext,
      detach: (subscription) => {
        this.hub.remove(feed);
        this.catchUps.delete(subscription);
      },
    };
    const subscription = new CatchUpSubscription(name, kind, selector, feed, context, options.handler);
    this.catchUps.add(subscription);
    return subscription;
  }

  private bufferCount(value: number | undefined): number {
    const count = value ?? limits.liveBufferCountDefault;
    if (!Number.isSafeInteger(count) || count < 1 || count > limits.liveBufferCountMax) {
      throw new InvalidArgumentError(`bufferCount must be an integer from 1 to ${limits.liveBufferCountMax} (liveBufferCountMax), got ${String(value)}`);
    }
    return count;
  }

  // ----------------------------------------------------------------------------- persistent

  /** Creates a persistent subscription; throws already_exists when the name is taken. */
  async create(name: string, options: CreateOptions): Promise<SubscriptionHealth> {
    this.open();
    if (this.store.readOnly) throw new ReadOnlyError("subscriptions.create");
    validateName(name);
    if (typeof options !== "object" || options === null) throw new InvalidArgumentError("create needs { selector, from?, settings? }");
    const selector = validateSelector(options.selector);
    const settings = validateSettings(options.settings, this.defaults);
    if (this.records.list().length >= limits.persistentSubscriptionsMax) {
      throw new TooLargeError("persistent subscriptions", "persistentSubscriptionsMax", limits.persistentSubscriptionsMax, limits.persistentSubscriptionsMax + 1);
    }
    if (this.records.get(name) !== null) throw new AlreadyExistsError(`subscription '${name}' already exists`);
    const startPosition = validateStart(options.from, this.store.headPosition);
    const parkedVersion = this.store.loadStreamState(parkedStreamId(name)).lastVersion;
    const now = this.clock();
    await this.records.create({
      name,
      selector: selector as JsonValue,
      settings: settings as unknown as JsonValue,
      startPosition,
      checkpoint: startPosition - 1,
      ackedAtMs: null,
      parkedReplayedBefore: parkedVersion + 1,
      health: null,
      createdAtMs: now,
    });
    this.options.telemetry?.emit("subscription.created", { systemTimeMs: now }, { storeId: this.store.storeId, subscriptionId: name, type: selectorType(selector) });
    return this.get(name);
  }

  /** Health of every persistent subscription, by name. */
  list(): SubscriptionHealth[] {
    this.open();
    return this.records.list().map((record) => this.subscription(record.name, record).health());
  }

  /** Health of one persistent subscription; throws not_found. */
  get(name: string): SubscriptionHealth {
    this.open();
    return this.subscription(name).health();
  }

  /** Health of every subscription, persistent and catch-up. */
  health(): SubscriptionHealth[] {
    return [...this.list(), ...[...this.catchUps].map((s) => s.health())];
  }

  /** The settings a persistent subscription runs with. */
  settings(name: string): PersistentSettings {
    return { ...this.subscription(name).settings };
  }

  /** Deletes a persistent subscription: its consumers end, its record and parked stream go. */
  async delete(name: string): Promise<void> {
    this.open();
    const subscription = this.persistent.get(name);
    await this.records.delete(name);
    this.persistent.delete(name);
    await subscription?.close({ save: false });
    // Only a parked stream with events to hide: one an earlier subscription of this name left
    // soft-deleted would fail the delete with stream_not_found after the record is gone.
    if (streamIsVisible(this.store.loadStreamState(parkedStreamId(name)))) await this.store.deleteSystem(parkedStreamId(name));
    this.options.telemetry?.emit("subscription.deleted", { systemTimeMs: this.clock() }, { storeId: this.store.storeId, subscriptionId: name });
  }

  /** Joins a consumer to a persistent subscription. */
  connect(name: string, options: ConnectOptions = {}): PersistentConsumer {
    this.open();
    if (this.store.readOnly) throw new ReadOnlyError("subscriptions.connect");
    return this.subscription(name).connect(options);
  }

  /** Brings every event parked so far back into the subscription; returns how many. */
  replayParked(name: string): number {
    this.open();
    if (this.store.readOnly) throw new ReadOnlyError("subscriptions.replayParked");
    return this.subscription(name).replayParked();
  }

  pause(name: string): void {
    this.subscription(name).pause();
  }

  resume(name: string): void {
    this.subscription(name).resume();
  }

  /** Saves every persistent subscription's progress now. */
  async flush(): Promise<void> {
    await Promise.all([...this.persistent.values()].map((s) => s.save()));
  }

  /** @internal for tests: the live fan-out's feed count. */
  get liveFeedCount(): number {
    return this.hub.feedCount;
  }

  /** Stops every subscription and saves progress. The store calls this when it closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const subscription of [...this.catchUps]) subscription.close();
    await Promise.all([...this.persistent.values()].map((s) => s.close()));
    this.closed = true;
    this.persistent.clear();
    this.hub.close();
    this.detachCollector();
  }

  private subscription(name: string, known?: SubscriptionRecord): PersistentSubscription {
    let subscription = this.persistent.get(name);
    if (subscription !== undefined) return subscription;
    const record = known ?? this.records.get(name);
    if (record === null) throw new NotFoundError(`no subscription '${name}'`);
    const selector = validateSelector(record.selector);
    const settings = validateSettings(record.settings, this.defaults);
    subscription = new PersistentSubscription({ store: this.store, records: this.records, hub: this.hub, now: this.clock }, record, selector, settings);
    this.persistent.set(name, subscription);
    return subscription;
  }

  private open(): void {
    if (this.closed) throw new NotFoundError("subscriptions are closed (the store is closed)");
    this.store.open();
  }

  private metricFamilies(): MetricFamily[] {
    if (this.closed) return [];
    const healths = this.list();
    const sample = (pick: (h: SubscriptionHealth) => number) => healths.map((h) => ({ labels: { subscription: h.name }, value: pick(h) }));
    return [
      { name: "edge_esdb_subscription_lag_events", help: "Positions between a persistent subscription's checkpoint and the head.", type: "gauge", samples: sample((h) => h.lagEvents) },
      { name: "edge_esdb_subscription_in_flight", help: "Events delivered and not yet acknowledged.", type: "gauge", samples: sample((h) => h.inFlight) },
      { name: "edge_esdb_subscription_parked", help: "Events parked and not yet replayed.", type: "gauge", samples: sample((h) => h.parkedCount) },
      { name: "edge_esdb_subscription_consumers", help: "Consumers joined.", type: "gauge", samples: sample((h) => h.consumers) },
      {
        name: "edge_esdb_subscription_state",
        help: "1 for the state each persistent subscription is in.",
        type: "gauge",
        samples: healths.map((h) => ({ labels: { subscription: h.name, state: h.state }, value: 1 })),
      },
      { name: "edge_esdb_catch_up_subscriptions", help: "Open catch-up subscriptions.", type: "gauge", samples: [{ value: this.catchUps.size }] },
      ...totalFamilies([...this.persistent.values()]),
    ];
  }
}

const totalHelp: Record<keyof DeliveryTotals, string> = {
  delivered: "Deliveries to consumers (first ones and redeliveries).",
  redelivered: "Redeliveries (after a nack retry, an ack timeout, or a consumer leaving).",
  acked: "Events acknowledged.",
  nackedRetry: "Nacks asking for a retry.",
  parked: "Events parked in $parked-<name>.",
  skipped: "Events nacked with skip.",
  timedOut: "Deliveries not acknowledged in time.",
};

/** Per-subscription counters since the process loaded each subscription. */
function totalFamilies(subscriptions: readonly PersistentSubscription[]): MetricFamily[] {
  return (Object.keys(totalHelp) as Array<keyof DeliveryTotals>).map((key) => ({
    name: `edge_esdb_subscription_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`,
    help: totalHelp[key],
    type: "counter" as const,
    samples: subscriptions.map((s) => ({ labels: { subscription: s.name }, value: s.totals[key] })),
  }));
}
