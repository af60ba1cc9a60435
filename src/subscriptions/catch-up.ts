// Catch-up subscriptions: to one stream or to $all (filtered in the store), from the start, the
// end, or a version / position. An async iterator over the events, in order, history then live;
// or a handler called for each event in turn. Nothing is kept on disk: the caller remembers
// where it got to and subscribes from there next time.

import type { RecordedEvent } from "../events/index.ts";
import type { EventFeed } from "./event-feed.ts";
import type { SubscriptionHealth, SubscriptionState } from "./settings.ts";

export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

export interface CatchUpContext {
  headPosition(): number;
  now(): number;
  stalledAfterMs: number;
  detach(subscription: CatchUpSubscription): void;
}

export class CatchUpSubscription implements AsyncIterable<RecordedEvent>, AsyncDisposable {
  /** Position of the last event handed out, -1 for none. */
  lastPosition = -1;
  private lastProgressMs: number;
  private handling = false;
  /** True while the consumer waits inside next(): waiting for events is not being stalled. */
  private waiting = false;
  /** With a handler: settles when the subscription ends (rejects with the handler's error). */
  readonly done: Promise<void>;
  private settle: (error: unknown) => void = () => {};

  constructor(
    readonly name: string,
    readonly selectorType: "stream" | "all",
    readonly selector: SubscriptionHealth["selector"],
    private readonly feed: EventFeed,
    private readonly context: CatchUpContext,
    handler?: EventHandler,
  ) {
    this.lastProgressMs = context.now();
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === null ? resolve() : reject(error));
    });
    if (handler === undefined) this.done.catch(() => {});
    else void this.run(handler);
  }

  /** The next event, waiting for one; null once closed. */
  async next(): Promise<RecordedEvent | null> {
    const event = await this.waitForNext();
    if (event !== null) this.lastPosition = event.position;
    return event;
  }

  private async waitForNext(): Promise<RecordedEvent | null> {
    this.waiting = true;
    this.lastProgressMs = this.context.now();
    try {
      return await this.feed.next();
    } finally {
      this.waiting = false;
      this.lastProgressMs = this.context.now();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return {
      next: async () => {
        const event = await this.next();
        return event === null ? { done: true, value: undefined } : { done: false, value: event };
      },
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  get closed(): boolean {
    return this.feed.closed;
  }

  /** Events waiting in this subscription's buffer (never more than its capacity). */
  get bufferedCount(): number {
    return this.feed.bufferedCount;
  }

  get mode(): "catching_up" | "live" {
    return this.feed.mode;
  }

  close(): void {
    if (this.feed.closed) return;
    this.feed.close();
    this.context.detach(this);
    this.settle(null);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  health(): SubscriptionHealth {
    const head = this.context.headPosition();
    const frontier = this.handling ? this.lastPosition : this.feed.frontier();
    const lagEvents = Math.max(0, head - frontier);
    // Work: an event in the handler, events buffered, or events in the store not yet read.
    const hasWork = this.handling || this.feed.bufferedCount > 0 || lagEvents > 0;
    let state: SubscriptionState = this.feed.mode;
    if (hasWork && !this.waiting && this.context.now() - this.lastProgressMs > this.context.stalledAfterMs) state = "stalled";
    return {
      name: this.name,
      kind: "catch_up",
      selectorType: this.selectorType,
      selector: this.selector,
      state,
      lagEvents,
      headPosition: head,
      checkpoint: this.lastPosition,
      lastAckedPosition: this.lastPosition,
      lastAckedAt: null,
      inFlight: this.handling ? 1 : 0,
      buffered: this.feed.bufferedCount,
      parkedCount: 0,
      consumers: 1,
    };
  }

  /** Runs the handler; a synchronous one finishes at once (progress is stamped once per drained batch). */
  private handle(handler: EventHandler, event: RecordedEvent): Promise<void> | undefined {
    this.handling = true;
    this.lastPosition = event.position;
    const result = handler(event);
    if (result instanceof Promise) {
      this.lastProgressMs = this.context.now();
      return result.then(() => {
        this.handling = false;
        this.lastProgressMs = this.context.now();
      });
    }
    this.handling = false;
    return undefined;
  }

  private async run(handler: EventHandler): Promise<void> {
    try {
      for (;;) {
        const event = await this.waitForNext();
        if (event === null) break;
        const pending = this.handle(handler, event);
        if (pending !== undefined) await pending;
        // Drain what is buffered without a promise per event: a synchronous handler then costs
        // a call, which is what keeps 100 live subscribers cheap for the writer.
        for (let next = this.feed.tryTake(); next !== undefined && !this.feed.closed; next = this.feed.tryTake()) {
          const result = this.handle(handler, next);
          if (result !== undefined) await result;
        }
        this.lastProgressMs = this.context.now();
      }
      this.settle(null);
    } catch (error) {
      this.handling = false;
      this.feed.close(error);
      this.context.detach(this);
      this.settle(error);
    }
  }
}
