// The event-store domain's types: what callers send, what is stored, what a stream's state is.
// Plain data only, so the same values travel through a replicated log unchanged.

/** JSON as the store keeps it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * The version a caller expects the stream to be at before its append:
 * - "any": no check;
 * - "no_stream" (or -1): the stream has no visible events (never written, or soft-deleted);
 * - "stream_exists": the stream has visible events;
 * - n >= 0: the stream's last event has version n.
 */
export type ExpectedVersion = "any" | "no_stream" | "stream_exists" | number;

export const expectedVersionNames = ["any", "no_stream", "stream_exists"] as const;

/** An event as a caller gives it. `data` is a JSON value, or bytes stored as a blob. */
export interface EventInput {
  id?: string;
  type: string;
  data: JsonValue | Uint8Array;
  metadata?: JsonValue;
  /** For bytes only (default application/octet-stream); JSON data is always application/json. */
  contentType?: string;
}

/**
 * An event after validation at the edge: its id, time and encodings are fixed, so applying it is
 * deterministic. `data` is the JSON text or the bytes; `metadata` is JSON text or null.
 */
export interface PreparedEvent {
  id: string;
  type: string;
  data: string | Uint8Array;
  metadata: string | null;
  contentType: string;
  createdAtMs: number;
  /** data plus metadata in bytes: exact near eventSizeBytesMax, else the UTF-16 length (a lower bound within 3x). */
  sizeBytes: number;
}

/** An event as stored and read back. */
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

export type Direction = "forward" | "backward";

export type DeletionState = "none" | "soft" | "hard";

/** What the write path needs to know of one stream. A stream never written has `lastVersion` -1. */
export interface StreamState {
  streamId: string;
  /** Version of the last event ever written (soft deletes keep it), -1 when none. */
  lastVersion: number;
  /** Global position of the last event written, -1 when none. */
  lastPosition: number;
  /** Events below this version are hidden (set by soft delete and by stream metadata). */
  truncateBefore: number;
  deletion: DeletionState;
}

export function emptyStreamState(streamId: string): StreamState {
  return { streamId, lastVersion: -1, lastPosition: -1, truncateBefore: 0, deletion: "none" };
}

/** Where an event id is already stored, if anywhere. */
export interface StoredEventRef {
  id: string;
  streamId: string;
  version: number;
  position: number;
}

/** Retention settings of a stream (KurrentDB's $maxCount, $maxAge, $tb). */
export interface StreamMetadata {
  maxCount?: number;
  maxAgeMs?: number;
  truncateBefore?: number;
}

export interface AppendResult {
  /** The version of the last event written (or, for an idempotent retry, already stored). */
  nextVersion: number;
  /** The global position of that event. */
  position: number;
}
