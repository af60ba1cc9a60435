// A persistent subscription: kept by the store under a name, with a checkpoint on disk, and
// delivered at least once to the consumers that join it. Each event goes to one consumer
// (round robin among those with room under their in-flight limit) and stays outstanding until
// it is acknowledged, skipped or parked. A nack with retry, or an ack timeout, puts it back
// with a doubling back-off; past the retry limit it is parked in `$parked-<name>`, from where
// replayParked() brings it back. A consumer that leaves hands its unacknowledged events back.
//
// The checkpoint is the last position resolved with every matching event before it, so a
// restart resumes after it: events after it may come again (at least once), none is skipped.

import { InvalidArgumentError, NotFoundError, StoreClosedError, assert, limits } from "../lib/index.ts";
import type { JsonValue, RecordedEvent } from "../events/index.ts";
import type { EventStore, SubscriptionRecord, SubscriptionRecords } from "../store/index.ts";
import { EventFeed } from "./event-feed.ts";
import type { LiveHub } from "./live-hub.ts";
import { parkedStreamId, selectorSource, selectorType, type PersistentSettings, type Selector, type SubscriptionHealth, type SubscriptionState } from "./settings.ts";

export type NackAction = "retry" | "park" | "skip";

/** Counts since the subscription was loaded in this process (for metrics). */
export interface DeliveryTotals {
  delivered: number;
  redelivered: number;
  acked: number;
  nackedRetry: number;
  parked: number;
  skipped: number;
  timedOut: number;
}

/** One delivery of an event to a consumer. Acknowledge it, or nack it with an action. */
export interface Delivery {
  readonly event: RecordedEvent;
  /** Earlier deliveries of this event (0 on the first). */
  readonly retryCount: number;
  /** True when it comes back from `$parked-<name>` through replayParked(). */
  readonly replayed: boolean;
  /** Resolves the event; false when it was already taken back (timeout) or resolved. */
  ack(): boolean;
  nack(action: NackAction, reason?: string): boolean;
}

interface Pending {
  event: RecordedEvent;
  /** "stream": from the subscription's events, keyed by position; "parked": keyed by its version in $parked-<name>. */
  origin: "stream" | "parked";
  key: number;
  retryCount: number;
  consumer: PersistentConsumer | null;
  /** Increases with each dispatch: an ack must name the current one. */
  attempt: number;
  deadlineMs: number;
  notBeforeMs: number;
  parking: boolean;
}

/** Back-off before a failed feed is opened again: from this... */
const feedRetryDelayMsMin = 100;
/** ...doubling up to this. */
const feedRetryDelayMsMax = 30_000;

export interface PersistentContext {
  store: EventStore;
  records: SubscriptionRecords;
  hub: LiveHub;
  now(): number;
}

export type DeliveryHandler = (delivery: Delivery) => void | Promise<void>;

export class PersistentSubscription {
  readonly name: string;
  readonly selector: Selector;
  readonly settings: PersistentSettings;
  private feed: EventFeed | null = null;
  private feedFailureLogged = false;
  /** One past the position of the last event taken from a feed: where a reopened feed starts. */
  private takenBefore = 0;
  /** Wait before reopening a feed that failed; doubles while reads keep failing. */
  private feedRetryDelayMs: number = feedRetryDelayMsMin;
  private feedRetryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly consumers: PersistentConsumer[] = [];
  private roundRobin = 0;
  /** Outstanding events of the subscription by position. */
  private readonly outstanding = new Map<number, Pending>();
  /** Their positions in ascending order, resolved ones dropped lazily from the front: the first outstanding in O(1). */
  private outstandingOrder: number[] = [];
  private outstandingHead = 0;
  /** Outstanding replayed events by their version in the parked stream. */
  private readonly parkedOutstanding = new Map<number, Pending>();
  /** Taken back (nack retry, timeout, a consumer left): waiting to be dispatched again. */
  private readonly retryQueue: Pending[] = [];
  private checkpoint: number;
  private lastAckedPosition = -1;
  private ackedAtMs: number | null;
  private lastProgressMs: number;
  private parkedLastVersion: number;
  private parkedReplayedBefore: number;
  private parkedNextFetch: number;
  private replayUntil = 0;
  private fetchingParked = false;
  private paused = false;
  private closed = false;
  /** Set by close(): the health saved last says that nothing runs any more. */
  private stopping = false;
  /** The state written with the last save: a change of state is saved too, for inspection. */
  private savedState: SubscriptionState | null = null;
  private tickTimer: ReturnType<typeof setTimeout> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private saving: Promise<void> | null = null;
  private dirty = false;

  constructor(
    private readonly context: PersistentContext,
    record: SubscriptionRecord,
    selector: Selector,
    settings: PersistentSettings,
  ) {
    this.name = record.name;
    this.selector = selector;
    this.settings = settings;
    this.checkpoint = record.checkpoint;
    this.ackedAtMs = record.ackedAtMs;
    this.lastProgressMs = context.now();
    this.parkedReplayedBefore = record.parkedReplayedBefore;
    this.parkedNextFetch = record.parkedReplayedBefore;
    this.parkedLastVersion = context.store.loadStreamState(parkedStreamId(record.name)).lastVersion;
    this.replayUntil = this.parkedNextFetch;
  }

  // ------------------------------------------------------------------------------ consumers

  /** Joins a consumer. With a handler, each delivery is acked when it returns and nacked (retry) when it throws. */
  connect(options: { inFlightMax?: number; handler?: DeliveryHandler } = {}): PersistentConsumer {
    if (this.closed) throw new NotFoundError(`no subscription '${this.name}'`);
    if (this.consumers.length >= limits.consumersPerSubscriptionMax) {
      throw new InvalidArgumentError(`subscription '${this.name}' has ${limits.consumersPerSubscriptionMax} consumers (consumersPerSubscriptionMax)`);
    }
    const inFlightMax = options.inFlightMax ?? this.settings.inFlightMax;
    if (!Number.isSafeInteger(inFlightMax) || inFlightMax < 1 || inFlightMax > limits.inFlightPerConsumerMax) {
      throw new InvalidArgumentError(`inFlightMax must be an integer from 1 to ${limits.inFlightPerConsumerMax}, got ${String(inFlightMax)}`);
    }
    this.ensureFeed();
    const consumer = new PersistentConsumer(this, inFlightMax, options.handler);
    if (this.consumers.length === 0) this.lastProgressMs = this.context.now();
    this.consumers.push(consumer);
    this.scheduleSave();
    this.pump();
    return consumer;
  }

  /** @internal A consumer leaves: its unacknowledged events go back to be delivered to others. */
  leave(consumer: PersistentConsumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    for (const pending of consumer.inFlight) {
      pending.consumer = null;
      pending.notBeforeMs = 0;
      this.retryQueue.push(pending);
    }
    consumer.inFlight.clear();
    this.scheduleSave();
    this.pump();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  // ----------------------------------------------------------------------------- resolution

  /** @internal */
  ack(pending: Pending, attempt: number, consumer: PersistentConsumer): boolean {
    if (!this.isCurrent(pending, attempt, consumer)) return false;
    this.lastAckedPosition = pending.event.position;
    this.totals.acked++;
    this.ackedAtMs = this.context.now();
    this.resolve(pending);
    return true;
  }

  /** @internal */
  nack(pending: Pending, attempt: number, consumer: PersistentConsumer, action: NackAction, reason: string): boolean {
    if (!this.isCurrent(pending, attempt, consumer)) return false;
    if (action !== "retry" && action !== "park" && action !== "skip") throw new InvalidArgumentError(`nack action must be retry, park or skip, got ${JSON.stringify(action)}`);
    consumer.inFlight.delete(pending);
    pending.consumer = null;
    if (action === "skip") {
      this.totals.skipped++;
      this.resolve(pending);
    } else if (action === "park") {
      this.park(pending, reason);
    } else {
      this.totals.nackedRetry++;
      this.retryOrPark(pending, reason);
    }
    this.pump();
    return true;
  }

  private isCurrent(pending: Pending, attempt: number, consumer: PersistentConsumer): boolean {
    return !this.closed && pending.consumer === consumer && pending.attempt === attempt && !pending.parking;
  }

  private retryOrPark(pending: Pending, reason: string): void {
    pending.retryCount++;
    if (pending.retryCount > this.settings.retryCountMax) {
      this.park(pending, `${reason} (after ${pending.retryCount - 1} retries)`);
      return;
    }
    pending.notBeforeMs = this.context.now() + retryDelayMs(pending.retryCount, this.settings);
    this.retryQueue.push(pending);
  }

  private resolve(pending: Pending): void {
    pending.consumer?.inFlight.delete(pending);
    pending.consumer = null;
    if (pending.origin === "stream") this.outstanding.delete(pending.key);
    else this.parkedOutstanding.delete(pending.key);
    this.lastProgressMs = this.context.now();
    this.advance();
    this.pump();
  }

  /** Moves the checkpoint and the parked replay mark up to the first unresolved event. */
  private advance(): void {
    const first = this.firstOutstanding();
    const frontier = first === undefined ? (this.feed?.frontier() ?? this.checkpoint + 1) : first;
    if (frontier - 1 > this.checkpoint) {
      this.checkpoint = frontier - 1;
      this.scheduleSave();
    }
    const firstParked = this.parkedOutstanding.keys().next();
    const parkedFrontier = firstParked.done === true ? this.parkedNextFetch : firstParked.value;
    if (parkedFrontier > this.parkedReplayedBefore) {
      this.parkedReplayedBefore = parkedFrontier;
      this.scheduleSave();
    }
  }

  private firstOutstanding(): number | undefined {
    const order = this.outstandingOrder;
    while (this.outstandingHead < order.length && !this.outstanding.has(order[this.outstandingHead] as number)) this.outstandingHead++;
    if (this.outstandingHead === order.length) {
      this.outstandingOrder = [];
      this.outstandingHead = 0;
      return undefined;
    }
    if (this.outstandingHead >= 1024 && this.outstandingHead * 2 >= order.length) {
      this.outstandingOrder = order.slice(this.outstandingHead);
      this.outstandingHead = 0;
    }
    return this.outstandingOrder[this.outstandingHead];
  }

  /** Appends the event to $parked-<name>; it stays outstanding until that append commits. */
  private park(pending: Pending, reason: string): void {
    pending.parking = true;
    pending.consumer = null;
    const event = pending.event;
    const original: { [key: string]: JsonValue } = {
      eventId: event.id,
      streamId: event.streamId,
      version: event.version,
      position: event.position,
      metadata: event.metadata,
      createdAtMs: event.createdAt.getTime(),
      reason,
      retryCount: pending.retryCount,
    };
    this.context.store
      .appendSystem(parkedStreamId(this.name), "any", [
        { type: event.type, data: event.data, metadata: { $parked: original }, ...(event.data instanceof Uint8Array ? { contentType: event.contentType } : {}) },
      ])
      .then(
        (result) => {
          this.parkedLastVersion = Math.max(this.parkedLastVersion, result.nextVersion);
          pending.parking = false;
          this.totals.parked++;
          if (!this.closed) this.resolve(pending);
        },
        (error: unknown) => {
          pending.parking = false;
          if (this.closed || error instanceof StoreClosedError) return;
          // It stays outstanding and is delivered again after the back-off; nothing is lost.
          console.error(`edge-esdb: subscription '${this.name}' could not park an event:`, error);
          pending.notBeforeMs = this.context.now() + this.settings.retryBackoffMsMax;
          this.retryQueue.push(pending);
          this.pump();
        },
      );
  }

  // ------------------------------------------------------------------------------- dispatch

  private ensureFeed(): void {
    if (this.feed !== null) return;
    // Events taken before are outstanding or resolved; those a failed feed had buffered but not
    // handed out were dropped with it and are read again from here.
    const start = Math.max(0, this.checkpoint + 1, this.takenBefore);
    const feed = new EventFeed(this.context.store, selectorSource(this.selector), { position: start, version: 0 }, this.settings.bufferCount);
    this.feed = feed;
    feed.onReady = () => {
      if (feed.closed && feed.error !== null) {
        this.feedFailed(feed);
        return;
      }
      if (this.feedFailureLogged && (feed.mode === "live" || feed.bufferedCount > 0)) {
        this.feedFailureLogged = false;
        this.feedRetryDelayMs = feedRetryDelayMsMin;
        console.error(`edge-esdb: persistent subscription '${this.name}' reads events again`);
      }
      this.pump();
    };
    this.context.hub.add(this.feed);
  }

  /**
   * A feed that failed (a read error: a damaged page, a full disk, an I/O error) delivers nothing
   * more. Say so once, loudly; health reports the subscription stalled; and open a new feed after
   * a back-off (doubling up to feedRetryDelayMsMax), so a passing fault does not stop it for good.
   */
  private feedFailed(feed: EventFeed): void {
    if (this.feed !== feed || this.closed) return;
    if (!this.feedFailureLogged) {
      this.feedFailureLogged = true;
      console.error(`edge-esdb: persistent subscription '${this.name}' stopped reading events (retrying):`, feed.error);
    }
    if (this.feedRetryTimer !== null) return;
    const delay = this.feedRetryDelayMs;
    this.feedRetryDelayMs = Math.min(feedRetryDelayMsMax, delay * 2);
    this.feedRetryTimer = setTimeout(() => {
      this.feedRetryTimer = null;
      if (this.closed || this.feed !== feed) return;
      this.context.hub.remove(feed);
      this.feed = null;
      this.ensureFeed();
      this.pump();
    }, delay);
    (this.feedRetryTimer as { unref?: () => void }).unref?.();
    this.pump();
  }

  /** Hands events to consumers with room, oldest taken-back events first, then parked replays, then new ones. */
  private pump(): void {
    if (this.closed || this.paused || this.feed === null) return;
    const now = this.context.now();
    for (;;) {
      const consumer = this.nextConsumerWithRoom();
      if (consumer === null) break;
      const pending = this.takeReady(now);
      if (pending === null) break;
      this.dispatch(pending, consumer, now);
    }
    this.refill();
    this.armTimer();
  }

  private nextConsumerWithRoom(): PersistentConsumer | null {
    const count = this.consumers.length;
    for (let i = 0; i < count; i++) {
      const consumer = this.consumers[(this.roundRobin + i) % count] as PersistentConsumer;
      if (consumer.inFlight.size < consumer.inFlightMax) {
        this.roundRobin = (this.roundRobin + i + 1) % count;
        return consumer;
      }
    }
    return null;
  }

  private takeReady(now: number): Pending | null {
    let best = -1;
    for (let i = 0; i < this.retryQueue.length; i++) {
      const candidate = this.retryQueue[i] as Pending;
      if (candidate.notBeforeMs > now) continue;
      if (best < 0 || candidate.event.position < (this.retryQueue[best] as Pending).event.position) best = i;
    }
    if (best >= 0) return this.retryQueue.splice(best, 1)[0] as Pending;
    const parked = this.parkedQueue.shift();
    if (parked !== undefined) return parked;
    if (this.outstanding.size >= limits.outstandingPerSubscriptionMax) return null;
    const event = this.feed?.tryTake();
    if (event === undefined) return null;
    this.takenBefore = event.position + 1;
    const pending: Pending = { event, origin: "stream", key: event.position, retryCount: 0, consumer: null, attempt: 0, deadlineMs: 0, notBeforeMs: 0, parking: false };
    if (this.outstanding.size === 0) this.lastProgressMs = now;
    this.outstanding.set(event.position, pending);
    this.outstandingOrder.push(event.position);
    return pending;
  }

  private readonly parkedQueue: Pending[] = [];
  readonly totals: DeliveryTotals = { delivered: 0, redelivered: 0, acked: 0, nackedRetry: 0, parked: 0, skipped: 0, timedOut: 0 };

  private dispatch(pending: Pending, consumer: PersistentConsumer, now: number): void {
    pending.consumer = consumer;
    pending.attempt++;
    this.totals.delivered++;
    if (pending.attempt > 1) this.totals.redelivered++;
    pending.deadlineMs = now + this.settings.ackTimeoutMs;
    consumer.inFlight.add(pending);
    consumer.push(pending);
  }

  /** Starts a catch-up read or a parked-stream read when consumers wait and nothing is ready. */
  private refill(): void {
    if (this.consumers.length === 0) return;
    const feed = this.feed as EventFeed;
    if (feed.bufferedCount === 0 && feed.mode === "catching_up" && !feed.closed) {
      void feed.fill().then(() => this.pump());
    }
    // Replayed events in memory stay under one read's worth beside those in flight.
    const parkedRoom = this.parkedOutstanding.size < limits.parkedReplayPageCountMax * 4;
    if (parkedRoom && this.parkedQueue.length === 0 && this.parkedNextFetch < this.replayUntil && !this.fetchingParked) void this.fetchParked();
  }

  private async fetchParked(): Promise<void> {
    this.fetchingParked = true;
    try {
      const limit = Math.min(limits.parkedReplayPageCountMax, this.replayUntil - this.parkedNextFetch);
      let events: RecordedEvent[] = [];
      try {
        events = await this.context.store.read(parkedStreamId(this.name), { from: this.parkedNextFetch, limit });
      } catch (error) {
        if ((error as { code?: unknown }).code !== "stream_not_found") throw error;
      }
      if (this.closed) return;
      for (const parked of events) {
        if (parked.version >= this.replayUntil) break;
        const pending: Pending = { event: originalOf(parked), origin: "parked", key: parked.version, retryCount: 0, consumer: null, attempt: 0, deadlineMs: 0, notBeforeMs: 0, parking: false };
        this.parkedOutstanding.set(parked.version, pending);
        this.parkedQueue.push(pending);
      }
      const last = events[events.length - 1];
      this.parkedNextFetch = events.length < limit || last === undefined ? this.replayUntil : last.version + 1;
      this.advance();
    } catch (error) {
      console.error(`edge-esdb: subscription '${this.name}' could not read its parked events:`, error);
    } finally {
      this.fetchingParked = false;
    }
    this.pump();
  }

  /** Brings every event parked so far back into the subscription; resolves with their count. */
  replayParked(): number {
    const until = this.parkedLastVersion + 1;
    const count = Math.max(0, until - this.replayUntil);
    this.replayUntil = Math.max(this.replayUntil, until);
    this.ensureFeed();
    this.pump();
    return count;
  }

  // ---------------------------------------------------------------------- timers and health

  /** While events are outstanding, a tick takes back timed-out ones and releases retries. */
  private armTimer(): void {
    if (this.tickTimer !== null || this.closed) return;
    if (this.outstanding.size === 0 && this.parkedOutstanding.size === 0) return;
    const tickMs = Math.max(1, Math.min(this.settings.ackTimeoutMs, Math.max(1, this.settings.retryBackoffMsMin)) / 2);
    this.tickTimer = setTimeout(() => {
      this.tickTimer = null;
      this.tick();
    }, tickMs);
    (this.tickTimer as { unref?: () => void }).unref?.();
  }

  private tick(): void {
    if (this.closed) return;
    const now = this.context.now();
    for (const consumer of this.consumers) {
      for (const pending of consumer.inFlight) {
        if (pending.deadlineMs > now) continue;
        consumer.inFlight.delete(pending);
        pending.consumer = null;
        this.totals.timedOut++;
        this.retryOrPark(pending, "ack timeout");
      }
    }
    if (this.health().state !== this.savedState) this.scheduleSave();
    this.pump();
  }

  private scheduleSave(): void {
    this.dirty = true;
    if (this.saveTimer !== null || this.closed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.save();
    }, this.settings.checkpointIntervalMs);
    (this.saveTimer as { unref?: () => void }).unref?.();
  }

  /** Writes the checkpoint (and health) to the store now. */
  async save(): Promise<void> {
    if (this.context.store.readOnly) return;
    while (this.saving !== null) await this.saving;
    if (!this.dirty) return;
    this.dirty = false;
    const checkpoint = this.checkpoint;
    const health = this.healthJson();
    this.savedState = (health as { state: SubscriptionState }).state;
    this.saving = this.context.records
      .saveProgress(this.name, { checkpoint, ackedAtMs: this.ackedAtMs, parkedReplayedBefore: this.parkedReplayedBefore, health })
      .then(
        () => {},
        (error: unknown) => {
          this.dirty = true;
          if (!(error instanceof StoreClosedError)) console.error(`edge-esdb: subscription '${this.name}' could not save its checkpoint:`, error);
        },
      )
      .finally(() => {
        this.saving = null;
      });
    await this.saving;
  }

  health(): SubscriptionHealth {
    const head = this.context.store.headPosition;
    const outstanding = this.outstanding.size + this.parkedOutstanding.size;
    const buffered = this.feed?.bufferedCount ?? 0;
    this.advance();
    const lagEvents = Math.max(0, head - (this.checkpoint + 1));
    let inFlight = 0;
    for (const consumer of this.consumers) inFlight += consumer.inFlight.size;
    const feedFailed = this.feed !== null && this.feed.closed && this.feed.error !== null && lagEvents > 0;
    const hasWork = outstanding > 0 || buffered > 0 || this.retryQueue.length > 0 || feedFailed;
    let state: SubscriptionState;
    if (this.paused || this.stopping || this.consumers.length === 0) state = "paused";
    else if (hasWork && this.context.now() - this.lastProgressMs > this.settings.stalledAfterMs) state = "stalled";
    else state = this.feed?.mode ?? "catching_up";
    if (!hasWork && state !== "paused") this.lastProgressMs = this.context.now();
    return {
      name: this.name,
      kind: "persistent",
      selectorType: selectorType(this.selector),
      selector: this.selector as JsonValue,
      state,
      lagEvents,
      headPosition: head,
      checkpoint: this.checkpoint,
      lastAckedPosition: this.lastAckedPosition,
      lastAckedAt: this.ackedAtMs === null ? null : new Date(this.ackedAtMs).toISOString(),
      inFlight: this.stopping ? 0 : inFlight,
      buffered,
      parkedCount: Math.max(0, this.parkedLastVersion + 1 - this.parkedReplayedBefore),
      consumers: this.stopping ? 0 : this.consumers.length,
    };
  }

  private healthJson(): JsonValue {
    const h = this.health();
    return { state: h.state, inFlight: h.inFlight, consumers: h.consumers, lastAckedPosition: h.lastAckedPosition, recordedAtMs: this.context.now() };
  }

  /** Stops delivery: consumers end, progress is saved (unless the subscription is deleted). */
  async close(options: { save?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.stopping = true;
    this.advance();
    this.dirty = true;
    if (options.save !== false) await this.save();
    this.closed = true;
    if (this.tickTimer !== null) clearTimeout(this.tickTimer);
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    if (this.feedRetryTimer !== null) clearTimeout(this.feedRetryTimer);
    for (const consumer of [...this.consumers]) consumer.end();
    this.consumers.length = 0;
    if (this.feed !== null) {
      this.context.hub.remove(this.feed);
      this.feed.close();
    }
  }
}

/** A consumer joined to a persistent subscription: an async iterator of deliveries. */
export class PersistentConsumer implements AsyncIterable<Delivery>, AsyncDisposable {
  /** @internal Events dispatched to this consumer and not yet resolved. */
  readonly inFlight = new Set<Pending>();
  private readonly queue: Delivery[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  readonly done: Promise<void>;
  private settle: () => void = () => {};

  constructor(
    private readonly subscription: PersistentSubscription,
    readonly inFlightMax: number,
    handler?: DeliveryHandler,
  ) {
    this.done = new Promise<void>((resolve) => (this.settle = resolve));
    if (handler !== undefined) void this.run(handler);
  }

  /** @internal */
  push(pending: Pending): void {
    const attempt = pending.attempt;
    const subscription = this.subscription;
    const consumer = this as PersistentConsumer;
    this.queue.push({
      event: pending.event,
      retryCount: pending.retryCount,
      replayed: pending.origin === "parked",
      ack: () => subscription.ack(pending, attempt, consumer),
      nack: (action, reason = "nack") => subscription.nack(pending, attempt, consumer, action, reason),
    });
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** The next delivery, waiting for one; null once the consumer has left. */
  async next(): Promise<Delivery | null> {
    for (;;) {
      if (this.ended) return null;
      const delivery = this.queue.shift();
      if (delivery !== undefined) return delivery;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery> {
    return {
      next: async () => {
        const delivery = await this.next();
        return delivery === null ? { done: true, value: undefined } : { done: false, value: delivery };
      },
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /** Deliveries not yet acknowledged (handed out or waiting in this consumer's queue). */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Leaves the subscription; unacknowledged events go to the other consumers. */
  close(): void {
    if (this.ended) return;
    this.subscription.leave(this);
    this.end();
  }

  /** @internal */
  end(): void {
    this.ended = true;
    this.queue.length = 0;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
    this.settle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  private async run(handler: DeliveryHandler): Promise<void> {
    for (;;) {
      const first = await this.next();
      if (first === null) return;
      // Then what is queued, without a promise per delivery when the handler is synchronous.
      for (let delivery: Delivery | undefined = first; delivery !== undefined; delivery = this.ended ? undefined : this.queue.shift()) {
        try {
          const result = handler(delivery);
          if (result instanceof Promise) await result;
          delivery.ack();
        } catch (error) {
          delivery.nack("retry", error instanceof Error ? error.message : String(error));
        }
      }
    }
  }
}

/** The back-off before the `retryCount`-th redelivery: the minimum, doubling each time, up to the cap. */
export function retryDelayMs(retryCount: number, settings: Pick<PersistentSettings, "retryBackoffMsMin" | "retryBackoffMsMax">): number {
  assert(Number.isSafeInteger(retryCount) && retryCount >= 1, "a retry delay is for the first retry or a later one");
  return Math.min(settings.retryBackoffMsMax, settings.retryBackoffMsMin * 2 ** Math.min(retryCount - 1, 52));
}

/** The event a parked copy stands for: its original id, stream, version and position. */
function originalOf(parked: RecordedEvent): RecordedEvent {
  const meta = (parked.metadata as { $parked?: Record<string, JsonValue> } | null)?.$parked;
  assert(meta !== undefined && typeof meta === "object", "a parked event carries its original in metadata.$parked");
  return {
    id: String(meta.eventId),
    streamId: String(meta.streamId),
    version: Number(meta.version),
    position: Number(meta.position),
    type: parked.type,
    data: parked.data,
    metadata: meta.metadata ?? null,
    contentType: parked.contentType,
    createdAt: new Date(Number(meta.createdAtMs)),
  };
}
