// Converting between SQLite rows and the domain's values.

import type { DeletionState, JsonValue, RecordedEvent, StreamMetadata, StreamState } from "../events/index.ts";

export const eventColumns = "position, stream_id, version, event_id, type, data, metadata, content_type, created_at";

export const jsonContentType = "application/json";

export function decodeData(data: string | Uint8Array, contentType: string): JsonValue | Uint8Array {
  if (contentType === jsonContentType) return JSON.parse(textOf(data)) as JsonValue;
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

/** JSON is stored as text; a blob (sqlite3 could leave one) is read as its UTF-8 text. */
function textOf(value: string | Uint8Array): string {
  return typeof value === "string" ? value : new TextDecoder().decode(value);
}

/**
 * A stored event as it is on disk: JSON data and metadata stay the text the store holds, so a
 * read costs no parse, and a reader that passes events on as JSON need not stringify them again.
 * Same fields as RecordedEvent otherwise.
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

/**
 * The bytes an encoded event's data and metadata take (UTF-16 length for text: close enough for
 * budgets). A selected row not yet finished counts the same as the event it makes: JSON stored
 * as a blob counts as the text it becomes.
 */
export function encodedSizeBytes(event: StoredParts): number {
  const json = event.contentType === null || event.contentType === jsonContentType;
  const data = typeof event.data === "string" ? event.data.length : json ? textOf(event.data).length : event.data.byteLength;
  return data + (event.metadata === null ? 0 : typeof event.metadata === "string" ? event.metadata.length : textOf(event.metadata).length);
}

/** The columns of a row, selected or finished, that its size is counted on (contentType null: JSON). */
export interface StoredParts {
  data: string | Uint8Array;
  metadata: string | Uint8Array | null;
  contentType: string | null;
}

/**
 * A row as a read selects it (readColumns), before its shape finishes it. streamId is null when
 * the read named the stream; contentType is null for JSON.
 */
interface SelectedRow extends StoredParts {
  id: string;
  streamId: string | null;
  version: number;
  position: number;
  type: string;
}

export interface EncodedRow extends SelectedRow {
  createdAtMs: number;
}

export interface RecordedRow extends SelectedRow {
  createdAt: number;
}

/**
 * The columns a read selects, named as the event's fields and in RecordedEvent's order, so that
 * the row bun:sqlite builds becomes the event itself. Making a JS string of a column is most of
 * what a row costs, so two columns whose strings would repeat row after row are not selected as
 * text: content_type is NULL for JSON (nearly every event), to become the one shared
 * jsonContentType, and a stream read (`streamKnown`) takes no stream_id, which it already has.
 */
function readColumns(createdAtField: "createdAt" | "createdAtMs", streamKnown: boolean, table: string): string {
  const t = table === "" ? "" : `${table}.`;
  return [
    `${t}event_id AS id`,
    streamKnown ? "NULL AS streamId" : `${t}stream_id AS streamId`,
    `${t}version`,
    `${t}position`,
    `${t}type`,
    `${t}data`,
    `${t}metadata`,
    `NULLIF(${t}content_type, '${jsonContentType}') AS contentType`,
    `${t}created_at AS ${createdAtField}`,
  ].join(", ");
}

/**
 * Finishes a selected row as an EncodedEvent, in place: the stream id and content type put
 * back, and JSON stored as a blob (never written by this store; sqlite3 could) made text.
 */
function finishEncoded(row: EncodedRow, streamId: string): EncodedEvent {
  if (row.streamId === null) row.streamId = streamId;
  row.contentType ??= jsonContentType;
  if (row.contentType === jsonContentType && typeof row.data !== "string") row.data = textOf(row.data);
  if (row.metadata !== null && typeof row.metadata !== "string") row.metadata = textOf(row.metadata);
  return row as EncodedEvent;
}

/**
 * Finishes a selected row as the RecordedEvent itself, in place: data and metadata decoded,
 * createdAt a Date. The same event as decodeEvent of the encoded row, with no second object.
 */
function finishRecorded(row: RecordedRow, streamId: string): RecordedEvent {
  const event = row as unknown as { streamId: string; contentType: string; data: JsonValue | Uint8Array; metadata: JsonValue; createdAt: Date };
  if (row.streamId === null) event.streamId = streamId;
  event.contentType = row.contentType ?? jsonContentType;
  event.data = decodeData(row.data, event.contentType);
  event.metadata = row.metadata === null ? null : (JSON.parse(textOf(row.metadata)) as JsonValue);
  event.createdAt = new Date(row.createdAt);
  return event as unknown as RecordedEvent;
}

/**
 * What a read makes of its rows: the columns it selects, and how a selected row becomes the
 * result. encodedShape keeps JSON as stored text (EncodedEvent), recordedShape decodes it
 * (RecordedEvent). A read counts a row's bytes (encodedSizeBytes) before it finishes the row.
 */
export interface ReadShape<Row extends StoredParts, Result> {
  readonly key: string;
  /** The columns of a stream read (stream id known) and of an $all read over `events e`. */
  readonly streamColumns: string;
  readonly allColumns: string;
  /** The result a row makes; `streamId` is the stream a stream read named. */
  finish(row: Row, streamId: string): Result;
  /** The row's created_at (ms), before it is finished. */
  createdAtMs(row: Row): number;
  /** The decoded data of a finished result, for payload filters. */
  payload(result: Result): JsonValue | Uint8Array;
}

export const encodedShape: ReadShape<EncodedRow, EncodedEvent> = {
  key: "encoded",
  streamColumns: readColumns("createdAtMs", true, ""),
  allColumns: readColumns("createdAtMs", false, "e"),
  finish: finishEncoded,
  createdAtMs: (row) => row.createdAtMs,
  payload: (event) => decodeData(event.data, event.contentType),
};

export const recordedShape: ReadShape<RecordedRow, RecordedEvent> = {
  key: "recorded",
  streamColumns: readColumns("createdAt", true, ""),
  allColumns: readColumns("createdAt", false, "e"),
  finish: finishRecorded,
  createdAtMs: (row) => row.createdAt,
  payload: (event) => event.data,
};

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
