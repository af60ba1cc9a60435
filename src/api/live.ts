// Live reads as Server-Sent Events: catch up from a position (or version), then follow commits.
// Each message's `id` is the event's global position and its `data` the event as JSON; a
// `Last-Event-ID` header (exclusive) wins over `?from`. The stream waits for the client between
// batches (pull-based), sends a comment line every heartbeat, and ends when the server stops.

import { InvalidArgumentError, StreamNotFoundError, limits } from "../lib/index.ts";
import { validateFilter, type EventFilter, type RecordedEvent } from "../events/index.ts";
import type { CommittedAppend, EdgeNode } from "../node/index.ts";
import type { Context } from "./context.ts";
import { HttpError } from "./http-error.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { filterParams, intParam, toWireEvent } from "./wire.ts";

/** A batch of SSE text for the client. */
export interface LiveBatch {
  /** SSE messages, each ending with a blank line; "" when there is nothing now. */
  text: string;
  /** Events (or deliveries) in `text`, for the metrics. */
  count: number;
  /** More may be ready at once: ask again on the next pull without waiting for a commit. */
  more: boolean;
  /** The source is done: end the stream after `text`. */
  end?: boolean;
}

/** Where a live read gets its messages from. */
export interface LiveSource {
  /** The next batch after the cursor (advancing it). */
  next(): Promise<LiveBatch>;
  /** Whether a committed group may hold events for this read. */
  concerns(appends: readonly CommittedAppend[]): boolean;
  /** The stream ended (client gone, server stopping, or the source's own end). */
  close?(): void;
}

/** Events as SSE messages: `id` the global position, `data` the event as JSON. */
function eventBatch(events: readonly RecordedEvent[]): LiveBatch {
  let text = "";
  for (const event of events) text += `id: ${event.position}\ndata: ${JSON.stringify(toWireEvent(event))}\n\n`;
  // A full batch means more may be waiting.
  return { text, count: events.length, more: events.length >= limits.sseBatchCountMax };
}

const encoder = new TextEncoder();

class LiveSession {
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private dirty = true;
  private wake: (() => void) | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  closed = false;
  readonly stream: ReadableStream<Uint8Array>;

  constructor(
    private readonly source: LiveSource,
    private readonly hub: LiveHub,
    heartbeatIntervalMs: number,
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
          // An opening comment lets the client see the stream is open before any event.
          controller.enqueue(encoder.encode(": edge-esdb live\n\n"));
          this.heartbeat = setInterval(() => this.send(": keepalive\n\n"), heartbeatIntervalMs);
        },
        pull: () => this.pump(),
        cancel: () => this.close(),
      },
      { highWaterMark: 1 },
    );
  }

  /** Called for every committed group. */
  notify(appends: readonly CommittedAppend[]): void {
    if (this.closed || !this.source.concerns(appends)) return;
    this.dirty = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async pump(): Promise<void> {
    while (!this.closed) {
      if (this.dirty) {
        this.dirty = false;
        let batch: LiveBatch;
        try {
          batch = await this.source.next();
        } catch (error) {
          this.fail(error);
          return;
        }
        if (batch.more) this.dirty = true;
        if (batch.text !== "") {
          this.hub.metrics.liveEventsSent += batch.count;
          this.send(batch.text);
        }
        if (batch.end === true) {
          this.end();
          return;
        }
        if (batch.text !== "") return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private send(text: string): void {
    if (this.closed || this.controller === null) return;
    try {
      this.controller.enqueue(encoder.encode(text));
    } catch {
      this.close();
    }
  }

  private fail(error: unknown): void {
    const e = error as { code?: unknown; message?: unknown };
    const body = { error: typeof e.code === "string" ? e.code : "internal", message: typeof e.message === "string" ? e.message : String(error) };
    this.send(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
    this.end();
  }

  /** Ends the stream from the server's side (shutdown, error). */
  end(): void {
    if (this.closed) return;
    const controller = this.controller;
    this.close();
    try {
      controller?.close();
    } catch {
      // Already closed or cancelled by the client.
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.source.close?.();
    this.hub.remove(this);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** The open live reads: woken by the store's commits, ended together on shutdown. */
export class LiveHub {
  private readonly sessions = new Set<LiveSession>();
  private readonly detach: () => void;

  constructor(
    node: EdgeNode,
    readonly metrics: GatewayMetrics,
    private readonly heartbeatIntervalMs: number,
  ) {
    this.detach = node.store.onCommitted((appends) => {
      for (const session of this.sessions) session.notify(appends);
    });
  }

  get size(): number {
    return this.sessions.size;
  }

  open(source: LiveSource): Response {
    if (this.sessions.size >= limits.sseConnectionsMax) {
      throw new HttpError(503, "unavailable", `too many live reads open (sseConnectionsMax = ${limits.sseConnectionsMax})`);
    }
    const session = new LiveSession(source, this, this.heartbeatIntervalMs);
    this.sessions.add(session);
    this.metrics.liveStreamsOpen = this.sessions.size;
    return new Response(session.stream, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" },
    });
  }

  remove(session: LiveSession): void {
    this.sessions.delete(session);
    this.metrics.liveStreamsOpen = this.sessions.size;
  }

  /** Ends every open stream (shutdown). */
  endAll(): void {
    for (const session of [...this.sessions]) session.end();
    this.detach();
  }
}

/** `Last-Event-ID` as a position, or undefined. */
function lastEventId(request: Request): number | undefined {
  const header = request.headers.get("last-event-id");
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new InvalidArgumentError(`Last-Event-ID must be a global position, got '${text}'`);
  return Number(text);
}

/** `?from=end` means: only what is committed from now on. */
function fromIsEnd(params: URLSearchParams): boolean {
  return params.get("from") === "end";
}

/** GET /v1/all/live?from (position, inclusive)&type&streamPrefix&streamPattern */
export function liveAll(ctx: Context): Response {
  const { store } = ctx.state.node;
  const params = ctx.url.searchParams;
  const filter: EventFilter = validateFilter(filterParams(params));
  const resume = lastEventId(ctx.request);
  let cursor: number;
  if (resume !== undefined) cursor = resume + 1;
  else if (fromIsEnd(params)) cursor = store.headPosition;
  else cursor = intParam(params, "from") ?? intParam(params, "fromPosition") ?? 0;
  if (cursor < 0) throw new InvalidArgumentError(`from must be a position >= 0, got ${cursor}`);
  const source: LiveSource = {
    async next() {
      if (cursor >= store.headPosition) return eventBatch([]);
      const events = await store.readAll({ fromPosition: cursor, limit: limits.sseBatchCountMax, filter });
      const last = events[events.length - 1];
      // With filters a page can end early: skip to the head when nothing more matched.
      cursor = last === undefined ? store.headPosition : last.position + 1;
      return eventBatch(events);
    },
    concerns: () => true,
  };
  if (ctx.state.stopping) throw new HttpError(503, "unavailable", "the server is shutting down");
  ctx.keepOpen();
  return ctx.state.live.open(source);
}

/** GET /v1/streams/{stream}/live?from (version, inclusive) */
export async function liveStream(ctx: Context, streamId: string): Promise<Response> {
  const { store } = ctx.state.node;
  const params = ctx.url.searchParams;
  // Validates the id, and answers 410 for a hard-deleted stream before the stream opens.
  const lastVersion = await store.version(streamId);
  const resume = lastEventId(ctx.request);
  let cursor: number;
  if (resume !== undefined) cursor = await firstVersionAfter(ctx.state.node, streamId, lastVersion, resume);
  else if (fromIsEnd(params)) cursor = lastVersion + 1;
  else cursor = intParam(params, "from") ?? 0;
  if (cursor < 0) throw new InvalidArgumentError(`from must be a version >= 0, got ${cursor}`);
  const source: LiveSource = {
    async next() {
      let events: RecordedEvent[];
      try {
        events = await store.read(streamId, { from: cursor, limit: limits.sseBatchCountMax });
      } catch (error) {
        // Not written yet, or soft-deleted: nothing to send until an append.
        if (error instanceof StreamNotFoundError) return eventBatch([]);
        throw error;
      }
      const last = events[events.length - 1];
      if (last !== undefined) cursor = last.version + 1;
      return eventBatch(events);
    },
    concerns: (appends) => appends.some((a) => a.streamId === streamId),
  };
  if (ctx.state.stopping) throw new HttpError(503, "unavailable", "the server is shutting down");
  ctx.keepOpen();
  return ctx.state.live.open(source);
}

/**
 * The first version of the stream whose position is after `position`. Versions and positions
 * grow together within a stream, so a binary search over versions finds it in O(log n) reads.
 */
async function firstVersionAfter(node: EdgeNode, streamId: string, lastVersion: number, position: number): Promise<number> {
  let low = 0;
  let high = lastVersion + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    let event: RecordedEvent | undefined;
    try {
      event = (await node.store.read(streamId, { from: middle, limit: 1 }))[0];
    } catch (error) {
      if (error instanceof StreamNotFoundError) return high;
      throw error;
    }
    if (event === undefined || event.position > position) high = middle;
    else low = event.version + 1;
  }
  return low;
}
