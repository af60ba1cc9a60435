// One subscriber's ordered supply of events: catch-up reads from the store, then live batches
// from the hub, into a bounded buffer. The cursor (nextPosition, and nextVersion for one
// stream) names the first event not yet examined, so the switch from history to live has no
// gap and no duplicate: a live batch is taken only from the cursor on, and a batch that starts
// past the cursor, or a full buffer, sends the feed back to catch-up reads from the cursor.
// Memory stays bounded whatever the lag: the buffer never holds more than `capacity` events nor
// (soft by one event) more than `bytesCapacity` bytes of data and metadata; catch-up reads ask
// the store for no more than the room left, in events and in bytes.

import { StreamNotFoundError, assert, limits } from "../lib/index.ts";
import { matchesFilter, type EventFilter, type RecordedEvent } from "../events/index.ts";
import { decodeEvent, encodedSizeBytes, type EncodedEvent, type EventStore } from "../store/index.ts";

export type FeedSource =
  | { kind: "stream"; streamId: string }
  | { kind: "all"; filter: EventFilter; exactStream?: string; includeSystem: boolean };

export type FeedMode = "catching_up" | "live";

export class EventFeed {
  mode: FeedMode = "catching_up";
  /** First global position not yet examined (live batches and catch-up of $all). */
  nextPosition: number;
  /** First stream version not yet examined (catch-up of one stream). */
  nextVersion: number;
  closed = false;
  error: unknown = null;
  /** Called whenever events arrive, the mode changes or the feed closes. */
  onReady: (() => void) | null = null;
  private buffer: RecordedEvent[] = [];
  /** The bytes each buffered event counts for (parallel to buffer). */
  private sizes: number[] = [];
  private head = 0;
  /** Bytes of the events buffered now. */
  bufferedBytes = 0;
  private waiter: (() => void) | null = null;
  private filling: Promise<void> | null = null;
  /** A $all feed without a filter: only the $-stream check remains (the common case, made cheap). */
  private readonly unfiltered: boolean;

  constructor(
    private readonly store: EventStore,
    readonly source: FeedSource,
    start: { position: number; version: number },
    readonly capacity: number,
    readonly bytesCapacity: number = limits.feedBufferBytesMax,
  ) {
    assert(Number.isSafeInteger(start.position) && start.position >= 0, "a feed starts at a position >= 0");
    assert(Number.isSafeInteger(start.version) && start.version >= 0, "a feed starts at a version >= 0");
    assert(Number.isSafeInteger(capacity) && capacity >= 1 && capacity <= limits.liveBufferCountMax, "a feed's capacity is within liveBufferCountMax");
    assert(Number.isSafeInteger(bytesCapacity) && bytesCapacity >= 1, "a feed's byte capacity is a positive integer");
    this.nextPosition = start.position;
    this.nextVersion = start.version;
    const f = source.kind === "all" ? source.filter : null;
    this.unfiltered = f !== null && source.kind === "all" && source.exactStream === undefined &&
      f.eventTypes === undefined && f.streamPrefix === undefined && f.streamPattern === undefined && f.payload === undefined;
  }

  get bufferedCount(): number {
    return this.buffer.length - this.head;
  }

  /** Position of the first event not yet taken: everything before it is taken or filtered out. */
  frontier(): number {
    const first = this.buffer[this.head];
    return first === undefined ? this.nextPosition : first.position;
  }

  matches(event: RecordedEvent): boolean {
    const source = this.source;
    if (this.unfiltered) return (source as { includeSystem: boolean }).includeSystem || event.streamId.charCodeAt(0) !== 36 /* $ */;
    if (source.kind === "stream") return event.streamId === source.streamId;
    if (source.exactStream !== undefined) return event.streamId === source.exactStream;
    if (!source.includeSystem && event.streamId.charCodeAt(0) === 36 /* $ */) return false;
    return matchesFilter(source.filter, event);
  }

  /**
   * A live batch from the hub: every visible event with a position in [from, to), in order, with
   * the bytes each counts for. Ignored unless the feed is live; a batch past the cursor means the
   * feed missed one, so it goes back to catch-up reads (the hub's batches are contiguous, so this
   * is a safeguard).
   */
  offer(from: number, to: number, events: readonly RecordedEvent[], sizes: readonly number[]): void {
    if (this.closed || this.mode !== "live" || to <= this.nextPosition) return;
    if (from > this.nextPosition) {
      this.mode = "catching_up";
      this.wake();
      return;
    }
    let added = false;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as RecordedEvent;
      if (event.position < this.nextPosition || !this.matches(event)) continue;
      const size = sizes[i] as number;
      if (this.isFull(size)) {
        // Behind its buffer: read the rest from the store when the consumer gets here.
        this.mode = "catching_up";
        this.nextPosition = event.position;
        if (this.source.kind === "stream") this.nextVersion = event.version;
        this.wake();
        return;
      }
      this.push(event, size);
      if (this.source.kind === "stream") this.nextVersion = event.version + 1;
      added = true;
    }
    this.nextPosition = to;
    if (added) this.wake();
  }

  /** The next buffered event, without waiting or reading. */
  tryTake(): RecordedEvent | undefined {
    const event = this.buffer[this.head];
    if (event === undefined) return undefined;
    this.buffer[this.head] = undefined as unknown as RecordedEvent;
    this.bufferedBytes -= this.sizes[this.head] as number;
    this.head++;
    if (this.head === this.buffer.length) {
      this.buffer = [];
      this.sizes = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return event;
  }

  /** The next event, reading history or waiting for live ones; null once closed. */
  async next(): Promise<RecordedEvent | null> {
    for (;;) {
      const event = this.tryTake();
      if (event !== undefined) return event;
      if (this.closed) {
        if (this.error !== null) throw this.error;
        return null;
      }
      if (this.mode === "catching_up") {
        await this.fill();
        continue;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  /**
   * One catch-up read into the buffer's free room. When the read comes back short, the feed has
   * reached the head it read at and turns live from there. Concurrent calls share one read.
   */
  fill(): Promise<void> {
    if (this.filling === null) {
      this.filling = this.readPage().finally(() => {
        this.filling = null;
      });
    }
    return this.filling;
  }

  private async readPage(): Promise<void> {
    if (this.closed || this.mode === "live") return;
    const room = this.capacity - this.bufferedCount;
    if (room <= 0 || (this.bufferedCount > 0 && this.bufferedBytes >= this.bytesCapacity)) return;
    const limit = Math.min(room, limits.catchUpPageCountMax);
    // The store stops a page after the event that reaches this many bytes of data and metadata.
    const maxBytes = Math.max(1, this.bytesCapacity - this.bufferedBytes);
    // headPosition and the read run in the same synchronous stretch (bun:sqlite reads are
    // synchronous; commits run in their own turn), so the read saw exactly the events before head.
    const head = this.store.headPosition;
    let events: EncodedEvent[];
    const decoded: Array<{ event: RecordedEvent; size: number; version: number }> = [];
    let pageBytes = 0;
    try {
      events = await this.readFromStore(limit, maxBytes);
      if (this.closed) return;
      // Decoded before anything is buffered: a row that does not decode (a damaged page) fails
      // the read as a whole, as a failed SELECT would.
      for (const encoded of events) {
        const stored = encodedSizeBytes(encoded);
        pageBytes += stored;
        if (encoded.position < this.nextPosition && this.source.kind === "all") continue;
        const event = decodeEvent(encoded);
        if (this.source.kind === "all" && !this.matches(event)) continue;
        decoded.push({ event, size: stored + limits.feedEventOverheadBytes, version: encoded.version });
      }
    } catch (error) {
      this.close(error);
      return;
    }
    for (const { event, size, version } of decoded) {
      if (this.isFull(size)) {
        // The store's page ends with the event that crossed the byte bound: leave it (and what
        // follows) for the next read, so the buffer stays within its bound.
        this.nextPosition = event.position;
        if (this.source.kind === "stream") this.nextVersion = version;
        this.wake();
        return;
      }
      this.push(event, size);
    }
    const last = events[events.length - 1];
    if (this.source.kind === "stream" && last !== undefined) this.nextVersion = last.version + 1;
    // A page short in events and in bytes reached the head it was read at.
    if (events.length < limit && pageBytes < maxBytes) {
      this.nextPosition = Math.max(this.nextPosition, head);
      this.mode = "live";
    } else if (last !== undefined) {
      this.nextPosition = Math.max(this.nextPosition, last.position + 1);
    }
    this.wake();
  }

  private async readFromStore(limit: number, maxBytes: number): Promise<EncodedEvent[]> {
    const source = this.source;
    if (source.kind === "stream") {
      try {
        return await this.store.readEncoded(source.streamId, { from: this.nextVersion, limit, maxBytes });
      } catch (error) {
        // Not written yet, or soft-deleted: nothing to read now; live events will come.
        if (error instanceof StreamNotFoundError) return [];
        throw error;
      }
    }
    return await this.store.readAllEncoded({ fromPosition: this.nextPosition, limit, filter: source.filter, maxBytes });
  }

  /** True when an event of `size` bytes does not fit the buffer (an empty buffer takes any one). */
  private isFull(size: number): boolean {
    return this.bufferedCount >= this.capacity || (this.bufferedCount > 0 && this.bufferedBytes + size > this.bytesCapacity);
  }

  private push(event: RecordedEvent, size: number): void {
    this.buffer.push(event);
    this.sizes.push(size);
    this.bufferedBytes += size;
  }

  close(error: unknown = null): void {
    if (this.closed) return;
    this.closed = true;
    this.error = error;
    this.buffer = [];
    this.sizes = [];
    this.bufferedBytes = 0;
    this.head = 0;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
    this.onReady?.();
  }
}
