// The typed client of the HTTP gateway: the library's methods (append, read, readAll, exists,
// version, delete, streams, fold, snapshots) and errors, over the unix socket or TCP, with live
// reads as async iterators over SSE. Works in Bun and in Node 20.

import { EdgeEsdbError, uuidV7 } from "../lib/index.ts";
import { errorFromResponse, HttpStatusError } from "./errors.ts";
import { parseSse } from "./sse.ts";
import { chooseTransport, type RawResponse, type Transport } from "./transport.ts";
import type {
  AppendResult,
  EventFilter,
  EventInput,
  ExpectedVersion,
  FoldResult,
  JsonValue,
  CreateSubscriptionOptions,
  LiveAllOptions,
  NackAction,
  LiveOptions,
  NodeInfo,
  ReadAllOptions,
  ReadOptions,
  RecordedEvent,
  Snapshot,
  SnapshotSummary,
  StreamMetadata,
  StreamsPage,
  SubscriptionHealth,
} from "./types.ts";

export interface ClientOptions {
  /** The daemon's unix socket (e.g. /run/edge-esdb/edge-esdb.sock). */
  socketPath?: string;
  /** Or its TCP address, e.g. http://127.0.0.1:2113. */
  url?: string;
  /** Bearer token for TCP. */
  token?: string;
  /**
   * Times an append or a read is sent again after the connection failed before an answer came
   * (refused, reset, closed mid-response); default 2, 0 turns it off. An HTTP error status is
   * never retried. Appends are safe to resend: the client gives every event without an id a
   * UUID v7 before the first attempt, and the store answers a resent batch with its original
   * result without writing it twice.
   */
  retries?: number;
}

/** Waits before the retries after a connection failure: short, the daemon is local. */
const retryDelaysMs = [25, 100, 250, 500, 1000] as const;

/** A UUID v7 from this runtime's clock and random source (Bun and Node 20 alike). */
function newEventId(): string {
  return uuidV7(Date.now(), crypto.getRandomValues(new Uint8Array(10)));
}

/** True for an error that is the server's answer (a status and body) or an answer we could not parse. */
function isServerAnswer(error: unknown): boolean {
  return error instanceof EdgeEsdbError || error instanceof HttpStatusError || error instanceof SyntaxError;
}


/** Pages a fold reads at a time: the server's readCountMax. */
const foldPageCount = 10_000;

interface WireEvent {
  id: string;
  streamId: string;
  version: number;
  position: number;
  type: string;
  data?: JsonValue;
  dataBase64?: string;
  metadata: JsonValue;
  contentType: string;
  createdAt: string;
}

function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function fromWireEvent(wire: WireEvent): RecordedEvent {
  return {
    id: wire.id,
    streamId: wire.streamId,
    version: wire.version,
    position: wire.position,
    type: wire.type,
    data: wire.dataBase64 !== undefined ? fromBase64(wire.dataBase64) : (wire.data ?? null),
    metadata: wire.metadata,
    contentType: wire.contentType,
    createdAt: new Date(wire.createdAt),
  };
}

function toWireInput(event: EventInput): Record<string, unknown> {
  if (!(event.data instanceof Uint8Array)) return event as unknown as Record<string, unknown>;
  const { data, ...rest } = event;
  return { ...rest, dataBase64: toBase64(data) };
}

function fromWireSnapshot(wire: Record<string, unknown>): Snapshot {
  const { dataBase64, data, createdAt, ...rest } = wire;
  return {
    ...(rest as Omit<Snapshot, "data" | "createdAt">),
    data: typeof dataBase64 === "string" ? fromBase64(dataBase64) : (data as JsonValue),
    createdAt: new Date(String(createdAt)),
  };
}

function query(params: Record<string, string | number | boolean | undefined | readonly string[]>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) search.append(key, String(item));
    else search.set(key, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

function filterQuery(filter: EventFilter | undefined): Record<string, string | readonly string[] | undefined> {
  return {
    type: filter?.eventTypes,
    streamPrefix: filter?.streamPrefix,
    streamPattern: filter?.streamPattern,
    payload: filter?.payload === undefined ? undefined : JSON.stringify(filter.payload),
  };
}

const streamPath = (streamId: string) => `/v1/streams/${encodeURIComponent(streamId)}`;

/** A live read: iterate it for events; `lastEventId` is the position to resume after. */
export interface LiveRead extends AsyncIterable<RecordedEvent> {
  readonly lastEventId: number | undefined;
  close(): void;
}

export class EdgeEsdbClient {
  private readonly transport: Transport;
  private readonly headers: Record<string, string>;
  private readonly retries: number;
  readonly snapshots: ClientSnapshots;
  readonly subscriptions: ClientSubscriptions;

  constructor(options: ClientOptions) {
    this.transport = chooseTransport(options);
    this.headers = options.token === undefined || options.token === "" ? {} : { authorization: `Bearer ${options.token}` };
    const retries = options.retries ?? 2;
    if (!Number.isInteger(retries) || retries < 0 || retries > retryDelaysMs.length) {
      throw new TypeError(`edge-esdb client: retries must be an integer from 0 to ${retryDelaysMs.length}, got ${retries}`);
    }
    this.retries = retries;
    this.snapshots = new ClientSnapshots(this);
    this.subscriptions = new ClientSubscriptions(this);
  }

  /** @internal Sends a request; throws the library's error for a status >= 400. */
  async call(method: string, path: string, options: { body?: unknown; streamId?: string; signal?: AbortSignal; accept?: number[] } = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { ...this.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    const response = await this.transport.request({ method, path, headers, ...(body === undefined ? {} : { body }), ...(options.signal === undefined ? {} : { signal: options.signal }) });
    if (response.status >= 400 && !(options.accept ?? []).includes(response.status)) {
      throw errorFromResponse(response.status, await response.text(), options.streamId);
    }
    return response;
  }

  /** @internal */
  async json<T>(method: string, path: string, options: { body?: unknown; streamId?: string } = {}): Promise<T> {
    const response = await this.call(method, path, options);
    const text = await response.text();
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /**
   * json() for a request that is safe to send again (a read, or an append whose events all have
   * ids): a failure of the connection before the whole answer arrived is retried; an answer with
   * an error status is thrown as it is.
   */
  private async jsonWithRetry<T>(method: string, path: string, options: { body?: unknown; streamId?: string } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.json<T>(method, path, options);
      } catch (error) {
        if (isServerAnswer(error) || attempt >= this.retries) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[attempt]));
      }
    }
  }

  /**
   * Appends events; an event without an id gets a UUID v7 here, so that a resend after a lost
   * answer (see ClientOptions.retries) is recognised by the store and stored once.
   */
  async append(streamId: string, expectedVersion: ExpectedVersion, events: readonly EventInput[]): Promise<AppendResult> {
    const withIds = events.map((event) => (event.id === undefined ? { ...event, id: newEventId() } : event));
    return this.jsonWithRetry<AppendResult>("POST", streamPath(streamId), { body: { expectedVersion, events: withIds.map(toWireInput) }, streamId });
  }

  async read(streamId: string, options: ReadOptions = {}): Promise<RecordedEvent[]> {
    const body = await this.jsonWithRetry<{ events: WireEvent[] }>("GET", `${streamPath(streamId)}${query({ from: options.from, limit: options.limit, direction: options.direction })}`, { streamId });
    return body.events.map(fromWireEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const q = query({ fromPosition: options.fromPosition, limit: options.limit, direction: options.direction, ...filterQuery(options.filter) });
    const body = await this.jsonWithRetry<{ events: WireEvent[] }>("GET", `/v1/all${q}`);
    return body.events.map(fromWireEvent);
  }

  /** True when the stream has visible events (false for a deleted one, as in the library). */
  async exists(streamId: string): Promise<boolean> {
    const response = await this.call("HEAD", streamPath(streamId), { streamId, accept: [404, 410] });
    return response.status === 200;
  }

  /** The stream's last version, -1 for a stream never written; stream_deleted after a hard delete. */
  async version(streamId: string): Promise<number> {
    const response = await this.call("HEAD", streamPath(streamId), { streamId, accept: [404] });
    return Number(response.header("edge-esdb-stream-version") ?? -1);
  }

  async delete(streamId: string, expectedVersion: ExpectedVersion = "any", options: { hard?: boolean } = {}): Promise<void> {
    await this.json("DELETE", `${streamPath(streamId)}${query({ expectedVersion, hard: options.hard === true ? true : undefined })}`, { streamId });
  }

  /** Sets a stream's retention (maxCount, maxAgeMs, truncateBefore); omitted settings are cleared. */
  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    await this.json("PUT", `${streamPath(streamId)}/metadata`, { body: metadata, streamId });
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    return this.json<StreamMetadata>("GET", `${streamPath(streamId)}/metadata`, { streamId });
  }

  async streams(options: { after?: string; limit?: number } = {}): Promise<StreamsPage> {
    return this.json<StreamsPage>("GET", `/v1/streams${query({ after: options.after, limit: options.limit })}`);
  }

  async fold<S>(streamId: string, reducer: (state: S, event: RecordedEvent) => S, initial: S): Promise<FoldResult<S>> {
    let state = initial;
    let version = -1;
    for (let from = 0; ; ) {
      let page: RecordedEvent[];
      try {
        page = await this.read(streamId, { from, limit: foldPageCount });
      } catch (error) {
        if ((error as { code?: unknown }).code === "stream_not_found" && version === -1) return { state, version: -1, streamExists: false };
        throw error;
      }
      for (const event of page) {
        state = reducer(state, event);
        version = event.version;
      }
      if (page.length < foldPageCount) return { state, version, streamExists: true };
      from = version + 1;
    }
  }

  /** Folds from the latest snapshot (its data is the starting state) plus the events after it. */
  async foldFromSnapshot<S>(streamId: string, reducer: (state: S, event: RecordedEvent) => S, initial: S): Promise<FoldResult<S>> {
    const snapshot = await this.snapshots.load(streamId).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === "not_found") return null;
      throw error;
    });
    if (snapshot === null) return this.fold(streamId, reducer, initial);
    let state = snapshot.data as S;
    let version = snapshot.version;
    for (;;) {
      const page = await this.read(streamId, { from: version + 1, limit: foldPageCount });
      for (const event of page) {
        state = reducer(state, event);
        version = event.version;
      }
      if (page.length < foldPageCount) return { state, version, streamExists: true };
    }
  }

  /** Catch-up, then live: every event of the stream from `from` (a version), as it commits. */
  live(streamId: string, options: LiveOptions = {}): LiveRead {
    return this.liveRead(`${streamPath(streamId)}/live${query({ from: options.from })}`, options, streamId);
  }

  /** Catch-up, then live, over $all from `from` (a position), filtered on the server. */
  liveAll(options: LiveAllOptions = {}): LiveRead {
    return this.liveRead(`/v1/all/live${query({ from: options.from, ...filterQuery(options.filter) })}`, options, "");
  }

  private liveRead(path: string, options: LiveOptions, streamId: string): LiveRead {
    let lastEventId = options.lastEventId;
    let response: RawResponse | null = null;
    let closed = false;
    const client = this;
    return {
      get lastEventId() {
        return lastEventId;
      },
      close() {
        closed = true;
        response?.close();
      },
      async *[Symbol.asyncIterator]() {
        const headers: Record<string, string> = lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) };
        response = await client.callWithHeaders("GET", path, headers, streamId, options.signal);
        if (closed) response.close();
        try {
          for await (const message of parseSse(response.body)) {
            if (message.event === "error") throw errorFromResponse(500, message.data, streamId);
            const event = fromWireEvent(JSON.parse(message.data) as WireEvent);
            lastEventId = event.position;
            yield event;
          }
        } catch (error) {
          // Closing on our side aborts the body: that is the end, not a failure.
          if (closed) return;
          throw error;
        } finally {
          response.close();
        }
      },
    };
  }

  /** @internal */
  async callWithHeaders(method: string, path: string, extra: Record<string, string>, streamId: string, signal?: AbortSignal): Promise<RawResponse> {
    const response = await this.transport.request({ method, path, headers: { ...this.headers, ...extra, accept: "text/event-stream" }, ...(signal === undefined ? {} : { signal }) });
    if (response.status >= 400) throw errorFromResponse(response.status, await response.text(), streamId);
    return response;
  }

  /** /v1/node: version, mode, data dir, sizes. */
  async info(): Promise<NodeInfo> {
    return this.json<NodeInfo>("GET", "/v1/node");
  }

  /** True when /health answers 200. */
  async health(): Promise<boolean> {
    const response = await this.call("GET", "/health", { accept: [503] });
    await response.text();
    return response.status === 200;
  }

  /** /metrics in Prometheus text. */
  async metrics(): Promise<string> {
    return (await this.call("GET", "/metrics")).text();
  }

  /** Releases kept-alive connections (Node). */
  close(): void {
    this.transport.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export class ClientSnapshots {
  constructor(private readonly client: EdgeEsdbClient) {}

  async save(streamId: string, version: number, data: JsonValue | Uint8Array, metadata: JsonValue = null): Promise<Snapshot> {
    const body = data instanceof Uint8Array ? { dataBase64: toBase64(data), metadata } : { data, metadata };
    return fromWireSnapshot(await this.client.json<Record<string, unknown>>("PUT", `${streamPath(streamId)}/snapshots/${version}`, { body, streamId }));
  }

  /** The latest snapshot, or the one at `version`. Throws not_found when there is none. */
  async load(streamId: string, version?: number): Promise<Snapshot> {
    return fromWireSnapshot(await this.client.json<Record<string, unknown>>("GET", `${streamPath(streamId)}/snapshots/${version ?? "latest"}`, { streamId }));
  }

  async list(streamId: string): Promise<SnapshotSummary[]> {
    const body = await this.client.json<{ snapshots: Array<SnapshotSummary & { createdAt: string }> }>("GET", `${streamPath(streamId)}/snapshots`, { streamId });
    return body.snapshots.map((s) => ({ ...s, createdAt: new Date(s.createdAt) }));
  }

  async delete(streamId: string, version: number): Promise<void> {
    await this.client.json("DELETE", `${streamPath(streamId)}/snapshots/${version}`, { streamId });
  }
}

/** One delivery of a persistent subscription; ack or nack it (one request each). */
export interface ClientDelivery {
  readonly deliveryId: string;
  readonly event: RecordedEvent;
  readonly retryCount: number;
  readonly replayed: boolean;
  /** True when it was still open (not timed out or resolved). */
  ack(): Promise<boolean>;
  nack(action?: NackAction, reason?: string): Promise<boolean>;
}

export interface Consumer extends AsyncIterable<ClientDelivery> {
  close(): void;
}

const subscriptionPath = (name: string) => `/v1/subscriptions/${encodeURIComponent(name)}`;

export class ClientSubscriptions {
  constructor(private readonly client: EdgeEsdbClient) {}

  /** Creates a persistent subscription; already_exists when the name is taken. */
  async create(name: string, options: CreateSubscriptionOptions): Promise<SubscriptionHealth> {
    return this.client.json<SubscriptionHealth>("POST", "/v1/subscriptions", { body: { name, ...options } });
  }

  async list(): Promise<SubscriptionHealth[]> {
    return (await this.client.json<{ subscriptions: SubscriptionHealth[] }>("GET", "/v1/subscriptions")).subscriptions;
  }

  /** Health and settings; not_found when there is none. */
  async get(name: string): Promise<SubscriptionHealth & { settings: Record<string, number> }> {
    return this.client.json("GET", subscriptionPath(name));
  }

  async delete(name: string): Promise<void> {
    await this.client.json("DELETE", subscriptionPath(name));
  }

  /** Acknowledges deliveries by id; returns the ids that were still open. */
  async ack(name: string, deliveryIds: readonly string[]): Promise<string[]> {
    return (await this.client.json<{ acked: string[] }>("POST", `${subscriptionPath(name)}/ack`, { body: { ids: deliveryIds } })).acked;
  }

  async nack(name: string, deliveryIds: readonly string[], action: NackAction = "retry", reason?: string): Promise<string[]> {
    return (await this.client.json<{ nacked: string[] }>("POST", `${subscriptionPath(name)}/nack`, { body: { ids: deliveryIds, action, reason } })).nacked;
  }

  /** Brings every parked event back into the subscription (delivered with replayed: true); returns how many. */
  async replayParked(name: string): Promise<number> {
    return (await this.client.json<{ replayed: number }>("POST", `${subscriptionPath(name)}/replay-parked`)).replayed;
  }

  /** Joins as a consumer: deliveries as an async iterator until close() (or the server stops). */
  consume(name: string, options: { inFlightMax?: number; signal?: AbortSignal } = {}): Consumer {
    const client = this.client;
    const subscriptions = this;
    let response: RawResponse | null = null;
    let closed = false;
    return {
      close() {
        closed = true;
        response?.close();
      },
      async *[Symbol.asyncIterator]() {
        response = await client.callWithHeaders("GET", `${subscriptionPath(name)}/consume${query({ inFlightMax: options.inFlightMax })}`, {}, "", options.signal);
        if (closed) response.close();
        try {
          for await (const message of parseSse(response.body)) {
            if (message.event === "error") throw errorFromResponse(500, message.data);
            if (message.event !== "delivery") continue;
            const wire = JSON.parse(message.data) as { deliveryId: string; retryCount: number; replayed: boolean; event: WireEvent };
            yield {
              deliveryId: wire.deliveryId,
              event: fromWireEvent(wire.event),
              retryCount: wire.retryCount,
              replayed: wire.replayed,
              ack: async () => (await subscriptions.ack(name, [wire.deliveryId])).length === 1,
              nack: async (action: NackAction = "retry", reason?: string) => (await subscriptions.nack(name, [wire.deliveryId], action, reason)).length === 1,
            };
          }
        } catch (error) {
          if (closed) return;
          throw error;
        } finally {
          response.close();
        }
      },
    };
  }
}
