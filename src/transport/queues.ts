// The bounded per-peer queues and their policy when full. Small messages (UDP) are cheap to lose
// and soon stale, so a full small queue drops its oldest. Bulk messages (TCP: entries, snapshot
// chunks) make the sender wait for room instead (back-pressure), and the number of waiting
// senders is bounded too, so a slow or gone peer never makes memory grow without bound.

import { assert, EdgeEsdbError, limits } from "../lib/index.ts";

const { bulkQueueBytesMax, bulkQueueCountMax, bulkWaitersMax, smallQueueCountMax } = limits;

export class SmallQueue<T> {
  private items: T[] = [];
  dropped = 0;

  constructor(private readonly countMax = smallQueueCountMax) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length >= this.countMax) {
      this.items.shift();
      this.dropped += 1;
    }
    this.items.push(item);
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  unshift(item: T): void {
    this.items.unshift(item);
    if (this.items.length > this.countMax) {
      this.items.pop();
      this.dropped += 1;
    }
  }

  clear(): void {
    this.items = [];
  }
}

interface Waiter<T> {
  item: T;
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class BulkQueue<T> {
  private items: Array<{ item: T; bytes: number }> = [];
  private waiting: Array<Waiter<T>> = [];
  private bytesQueued = 0;

  constructor(
    private readonly countMax = bulkQueueCountMax,
    private readonly bytesMax = bulkQueueBytesMax,
    private readonly waitersMax = bulkWaitersMax,
  ) {}

  get length(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.bytesQueued;
  }

  get waiters(): number {
    return this.waiting.length;
  }

  /** Queues the item, or waits for room (an item larger than bytesMax goes alone into an empty queue). */
  push(item: T, bytes: number): Promise<void> {
    if (this.waiting.length === 0 && this.hasRoom(bytes)) {
      this.enqueue(item, bytes);
      return Promise.resolve();
    }
    if (this.waiting.length >= this.waitersMax) {
      return Promise.reject(new EdgeEsdbError("unavailable", `peer queue full: ${this.waitersMax} senders already wait`));
    }
    return new Promise((resolve, reject) => this.waiting.push({ item, bytes, resolve, reject }));
  }

  shift(): T | undefined {
    const head = this.items.shift();
    if (head === undefined) return undefined;
    this.bytesQueued -= head.bytes;
    this.admitWaiters();
    return head.item;
  }

  peek(): T | undefined {
    return this.items[0]?.item;
  }

  /** Drops everything queued and rejects every waiting sender. */
  clear(error: Error): void {
    this.items = [];
    this.bytesQueued = 0;
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.reject(error);
  }

  private hasRoom(bytes: number): boolean {
    if (this.items.length === 0) return true;
    return this.items.length < this.countMax && this.bytesQueued + bytes <= this.bytesMax;
  }

  private enqueue(item: T, bytes: number): void {
    this.items.push({ item, bytes });
    this.bytesQueued += bytes;
    assert(this.items.length <= this.countMax, "bulk queue within its count");
  }

  private admitWaiters(): void {
    while (this.waiting.length > 0 && this.hasRoom((this.waiting[0] as Waiter<T>).bytes)) {
      const w = this.waiting.shift() as Waiter<T>;
      this.enqueue(w.item, w.bytes);
      w.resolve();
    }
  }
}

/** Reconnect delays: doubling from reconnectDelayMsMin up to reconnectDelayMsMax, each with
 * "equal jitter" (half fixed, half random) so peers that lost each other do not redial in step. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly random: () => number,
    private readonly minMs = limits.reconnectDelayMsMin,
    private readonly maxMs = limits.reconnectDelayMsMax,
  ) {}

  next(): number {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 20));
    this.attempt += 1;
    return cap / 2 + this.random() * (cap / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
