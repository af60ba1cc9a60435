// The live fan-out (erl-esdb's emitter pool): beside the write path, not in it. The store's
// commit listener only queues what the group appended (the events as written) and schedules a
// turn; in that later turn the hub decodes the new events once and offers them to every live
// feed, each of which copies what it wants into its own bounded buffer. A slow consumer only
// fills its own buffer (and falls back to catch-up reads); it never blocks a commit, the hub, or
// another subscriber. Nothing is read back from the store: the commit hands the events over.
//
// Live events are the events as committed. A stream deleted (or truncated by its metadata) just
// after an append may still have that append delivered live; a catch-up read after the delete
// skips it, as a read would.

import { assert, limits } from "../lib/index.ts";
import type { JsonValue, RecordedEvent } from "../events/index.ts";
import type { CommittedAppend, EventStore } from "../store/index.ts";
import type { EventFeed } from "./event-feed.ts";

const jsonContentType = "application/json";

export class LiveHub {
  private readonly feeds = new Set<EventFeed>();
  /** Every event below this position was offered to the live feeds (or no feed was live). */
  private emittedUpTo: number;
  private targetHead: number;
  /** Committed appends not yet offered, in commit order: they cover [emittedUpTo, targetHead). */
  private pending: CommittedAppend[] = [];
  private scheduled = false;
  private closed = false;
  private readonly detach: () => void;

  constructor(store: EventStore) {
    this.emittedUpTo = store.headPosition;
    this.targetHead = this.emittedUpTo;
    this.detach = store.onCommitted((appends, headPosition) => this.committed(appends, headPosition));
  }

  add(feed: EventFeed): void {
    // Subscriptions checks its limits before it adds a feed.
    assert(this.feeds.size < limits.catchUpSubscriptionsMax + limits.persistentSubscriptionsMax, "feeds on one hub are bounded");
    this.feeds.add(feed);
  }

  remove(feed: EventFeed): void {
    this.feeds.delete(feed);
  }

  get feedCount(): number {
    return this.feeds.size;
  }

  close(): void {
    this.closed = true;
    this.detach();
    this.feeds.clear();
    this.pending = [];
  }

  private committed(appends: readonly CommittedAppend[], headPosition: number): void {
    this.targetHead = headPosition;
    if (this.feeds.size === 0) {
      // Nobody listens: a feed added later starts from the head it reads at.
      this.emittedUpTo = headPosition;
      this.pending = [];
      return;
    }
    for (const append of appends) this.pending.push(append);
    if (!this.scheduled && !this.closed) {
      this.scheduled = true;
      setImmediate(() => this.fanOut());
    }
  }

  private fanOut(): void {
    this.scheduled = false;
    const appends = this.pending;
    this.pending = [];
    if (this.closed) return;
    if (!this.anyLive()) {
      this.emittedUpTo = this.targetHead;
      return;
    }
    let batch: RecordedEvent[] = [];
    let sizes: number[] = [];
    let from = this.emittedUpTo;
    for (const append of appends) {
      assert(append.firstPosition === from + batch.length, "committed appends cover the positions without a gap");
      for (let i = 0; i < append.eventCount; i++) {
        batch.push(recordedEvent(append, i));
        sizes.push((append.events[i]?.sizeBytes ?? 0) + limits.feedEventOverheadBytes);
        if (batch.length === limits.fanOutEventsPerTurnMax) {
          this.offer(from, from + batch.length, batch, sizes);
          from += batch.length;
          batch = [];
          sizes = [];
        }
      }
    }
    this.offer(from, from + batch.length, batch, sizes);
    assert(this.emittedUpTo === this.targetHead, "the fan-out reached the head it was told of");
  }

  private offer(from: number, to: number, events: readonly RecordedEvent[], sizes: readonly number[]): void {
    if (to > from) for (const feed of this.feeds) feed.offer(from, to, events, sizes);
    this.emittedUpTo = to;
  }

  private anyLive(): boolean {
    for (const feed of this.feeds) if (feed.mode === "live" && !feed.closed) return true;
    return false;
  }
}

/** The i-th event of a committed append as a reader gets it. */
function recordedEvent(append: CommittedAppend, i: number): RecordedEvent {
  const prepared = append.events[i];
  assert(prepared !== undefined, "a committed append carries its events");
  const data = prepared.contentType === jsonContentType ? (JSON.parse(prepared.data as string) as JsonValue) : (prepared.data as Uint8Array);
  return {
    id: prepared.id,
    streamId: append.streamId,
    version: append.firstVersion + i,
    position: append.firstPosition + i,
    type: prepared.type,
    data,
    metadata: prepared.metadata === null ? null : (JSON.parse(prepared.metadata) as JsonValue),
    contentType: prepared.contentType,
    createdAt: new Date(prepared.createdAtMs),
  };
}
