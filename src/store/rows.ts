// Converting between SQLite rows and the domain's values.

import type { DeletionState, JsonValue, RecordedEvent, StreamMetadata, StreamState } from "../events/index.ts";

export const eventColumns = "position, stream_id, version, event_id, type, data, metadata, content_type, created_at";

/** The same columns for reads, named as EncodedEvent's fields: `all()` and `iterate()` give EncodedEvent objects. */
export const eventSelectColumns = "position, stream_id AS streamId, version, event_id AS id, type, data, metadata, content_type AS contentType, created_at AS createdAtMs";

export const jsonContentType = "application/json";

export function decodeData(data: string | Uint8Array, contentType: string): JsonValue | Uint8Array {
  if (contentType === jsonContentType) return JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data)) as JsonValue;
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

/**
 * A stored event as it is on disk, for readers that pass it on rather than use it (the HTTP
 * gateway writes JSON responses): JSON data and metadata stay the text the store holds, so a
 * read costs no parse and the writer no stringify. Same fields as RecordedEvent otherwise.
 */
export interface EncodedEvent {
  id: string;
  streamId: string;
  version: number;
  position: number;
  type: string;
  /** JSON text when contentType is application/json, else the bytes. */
  data: string | Uint8Array;
  /** JSON text, or null when the event has none. */
  metadata: string | null;
  contentType: string;
  createdAtMs: number;
}

/**
 * Fixes up an event selected with eventSelectColumns, in place: JSON is stored as text, but a
 * JSON data or metadata blob (never written by this store; sqlite3 could) is turned into text.
 */
export function normalizeEncoded(event: EncodedEvent): EncodedEvent {
  if (typeof event.data !== "string" && event.contentType === jsonContentType) event.data = new TextDecoder().decode(event.data);
  if (event.metadata !== null && typeof event.metadata !== "string") event.metadata = textOf(event.metadata);
  return event;
}

/** Metadata is JSON text; one stored as a blob (sqlite3 could) is read as its UTF-8 text. */
function textOf(value: string | Uint8Array): string {
  return typeof value === "string" ? value : new TextDecoder().decode(value);
}

/** The event a reader gets (data and metadata decoded) from its encoded form. */
export function decodeEvent(event: EncodedEvent): RecordedEvent {
  return {
    id: event.id,
    streamId: event.streamId,
    version: event.version,
    position: event.position,
    type: event.type,
    data: decodeData(event.data, event.contentType),
    metadata: event.metadata === null ? null : (JSON.parse(event.metadata) as JsonValue),
    contentType: event.contentType,
    createdAt: new Date(event.createdAtMs),
  };
}

/** The bytes an encoded event's data and metadata take (UTF-16 length for text: close enough for budgets). */
export function encodedSizeBytes(event: EncodedEvent): number {
  return (typeof event.data === "string" ? event.data.length : event.data.byteLength) + (event.metadata === null ? 0 : event.metadata.length);
}

/** A streams row as selected by STREAM_COLUMNS. */
export type StreamRow = [
  streamId: string,
  lastVersion: number,
  lastPosition: number,
  truncateBefore: number,
  deletion: number,
  maxCount: number | null,
  maxAgeMs: number | null,
  metaTruncateBefore: number | null,
];

/**
 * The columns of a StreamRow for a query over `streams s`: the last version and position come
 * from the stream's newest event (one seek in events_by_stream), -1 when it has none.
 */
export const streamColumns = `s.stream_id,
  coalesce((SELECT version FROM events WHERE stream_id = s.stream_id ORDER BY version DESC LIMIT 1), -1),
  coalesce((SELECT position FROM events WHERE stream_id = s.stream_id ORDER BY version DESC LIMIT 1), -1),
  s.truncate_before, s.deletion, s.max_count, s.max_age_ms, s.meta_truncate_before`;

const deletionByCode: readonly DeletionState[] = ["none", "soft", "hard"];

export function deletionCode(deletion: DeletionState): number {
  return deletionByCode.indexOf(deletion);
}

export function toStreamState(row: StreamRow): StreamState {
  return {
    streamId: row[0],
    lastVersion: row[1],
    lastPosition: row[2],
    truncateBefore: row[3],
    deletion: deletionByCode[row[4]] ?? "none",
  };
}

export function toStreamMetadata(row: StreamRow): StreamMetadata {
  const metadata: StreamMetadata = {};
  if (row[5] !== null) metadata.maxCount = row[5];
  if (row[6] !== null) metadata.maxAgeMs = row[6];
  if (row[7] !== null) metadata.truncateBefore = row[7];
  return metadata;
}
