// The live fan-out (erl-esdb's emitter pool): beside the write path, not in it. The store's
// commit listener only records the new head and schedules a turn; in that later turn the hub
// reads the new events once and offers them to every live feed, each of which copies what it
// wants into its own bounded buffer. A slow consumer only fills its own buffer (and falls back
// to catch-up reads); it never blocks a commit, the hub, or another subscriber.

import { assert, limits } from "../lib/index.ts";
import type { RecordedEvent } from "../events/index.ts";
import type { EventStore } from "../store/index.ts";
import type { EventFeed } from "./event-feed.ts";

export class LiveHub {
  private readonly feeds = new Set<EventFeed>();
  /** Every event below this position was offered to the live feeds (or no feed was live). */
  private emittedUpTo: number;
  private targetHead: number;
  private scheduled = false;
  private running = false;
  private closed = false;
  private readonly detach: () => void;

  constructor(private readonly store: EventStore) {
    this.emittedUpTo = store.headPosition;
    this.targetHead = this.emittedUpTo;
    this.detach = store.onCommitted((_appends, headPosition) => {
      this.targetHead = headPosition;
      // With no feed at all there is nothing to read: the commit costs one assignment more.
      if (this.feeds.size === 0 && !this.running) this.emittedUpTo = headPosition;
      else this.schedule();
    });
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
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.running) void this.fanOut();
    });
  }

  private async fanOut(): Promise<void> {
    this.running = true;
    try {
      let budget = limits.fanOutEventsPerTurnMax;
      while (!this.closed && this.emittedUpTo < this.targetHead && budget > 0) {
        if (!this.anyLive()) {
          // Nobody is live: feeds that turn live later start from the head they read at.
          this.emittedUpTo = this.targetHead;
          break;
        }
        const from = this.emittedUpTo;
        const limit = Math.min(budget, limits.readCountMax);
        const head = this.store.headPosition;
        // Not a client's read: telemetry and the read metrics do not count it.
        const events: RecordedEvent[] = this.store.readAllQuietly({ fromPosition: from, limit });
        const last = events[events.length - 1];
        const to = events.length < limit || last === undefined ? head : last.position + 1;
        for (const feed of this.feeds) feed.offer(from, to, events);
        this.emittedUpTo = to;
        budget -= Math.max(1, events.length);
      }
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== "store_closed") console.error("edge-esdb: live fan-out failed:", error);
      return;
    } finally {
      this.running = false;
    }
    if (this.emittedUpTo < this.targetHead) this.schedule();
  }

  private anyLive(): boolean {
    for (const feed of this.feeds) if (feed.mode === "live" && !feed.closed) return true;
    return false;
  }
}
