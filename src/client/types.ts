// The client's own types, mirroring the library's (src/events, src/store) as they travel over
// HTTP: the same shapes, with createdAt as a Date again and bytes as a Uint8Array again.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type ExpectedVersion = "any" | "no_stream" | "stream_exists" | number;

export type Direction = "forward" | "backward";

export interface EventInput {
  id?: string;
  type: string;
  /** A JSON value, or bytes (sent as base64, stored as a blob). */
  data: JsonValue | Uint8Array;
  metadata?: JsonValue;
  /** For bytes only (default application/octet-stream). */
  contentType?: string;
}

export interface RecordedEvent {
  id: string;
  streamId: string;
  version: number;
  position: number;
  type: string;
  data: JsonValue | Uint8Array;
  metadata: JsonValue;
  contentType: string;
  createdAt: Date;
}

export interface AppendResult {
  nextVersion: number;
  position: number;
}

export interface EventFilter {
  eventTypes?: readonly string[];
  streamPrefix?: string;
  streamPattern?: string;
  payload?: { [path: string]: JsonValue };
}

export interface ReadOptions {
  from?: number;
  limit?: number;
  direction?: Direction;
}

export interface ReadAllOptions {
  fromPosition?: number;
  limit?: number;
  direction?: Direction;
  filter?: EventFilter;
}

/** A stream's retention settings. */
export interface StreamMetadata {
  maxCount?: number;
  maxAgeMs?: number;
  truncateBefore?: number;
}

export interface StreamSummary {
  streamId: string;
  version: number;
  eventCount: number;
}

export interface StreamsPage {
  streams: StreamSummary[];
  next: string | null;
}

export interface Snapshot {
  streamId: string;
  version: number;
  data: JsonValue | Uint8Array;
  metadata: JsonValue;
  contentType: string;
  createdAt: Date;
}

export type SnapshotSummary = Omit<Snapshot, "data"> & { sizeBytes: number };

export interface FoldResult<S> {
  state: S;
  version: number;
  streamExists: boolean;
}

export interface NodeInfo {
  version: string;
  mode: string;
  dataDir: string;
  storeId: string;
  durability: "full" | "normal";
  schemaVersion: number;
  headPosition: number;
  streamCount: number;
  eventRows: number;
  fileBytes: number;
  walBytes: number;
  uptimeMs: number;
}

export interface LiveOptions {
  /** Where to start (inclusive): a version for a stream, a position for $all; "end" for only new events. */
  from?: number | "end";
  /** Resume after this global position (exclusive); wins over `from`. */
  lastEventId?: number;
  signal?: AbortSignal;
}

export interface LiveAllOptions extends LiveOptions {
  filter?: EventFilter;
}

/** Which events a persistent subscription delivers. */
export type Selector = { stream: string } | { eventType: string } | { pattern: string } | { payload: { [path: string]: JsonValue } };

export type StartFrom = "start" | "end" | { position: number };

export type NackAction = "retry" | "park" | "skip";

export interface CreateSubscriptionOptions {
  selector: Selector;
  from?: StartFrom;
  settings?: Partial<{
    inFlightMax: number;
    ackTimeoutMs: number;
    retryCountMax: number;
    retryBackoffMsMin: number;
    retryBackoffMsMax: number;
    stalledAfterMs: number;
    checkpointIntervalMs: number;
    bufferCount: number;
  }>;
}

export interface SubscriptionHealth {
  name: string;
  kind: "catch_up" | "persistent";
  selectorType: string;
  selector: JsonValue;
  state: "catching_up" | "live" | "stalled" | "paused";
  lagEvents: number;
  headPosition: number;
  checkpoint: number;
  lastAckedPosition: number;
  lastAckedAt: string | null;
  inFlight: number;
  buffered: number;
  parkedCount: number;
  consumers: number;
}
