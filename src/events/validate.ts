// Validation at the edge: turns what a caller sends into PreparedEvents, or throws a typed error
// that names the problem. Nothing is written before every event of an append passes. Ids and
// time come from the caller's arguments, so this stays pure.

import { InvalidArgumentError, TooLargeError, isUuid, limits } from "../lib/index.ts";
import type { EventInput, ExpectedVersion, JsonValue, PreparedEvent, StreamMetadata } from "./types.ts";
import { expectedVersionNames } from "./types.ts";

/** Nesting of JSON values the store accepts, so a hostile payload cannot blow the stack. */
export const jsonDepthMax = 64;

const jsonContentType = "application/json";
const bytesContentTypeDefault = "application/octet-stream";

export interface PrepareContext {
  nowMs: number;
  newId: () => string;
  /** System writers ($parked-*, $conflicts) may use reserved names. */
  system?: boolean;
}

/** UTF-8 length of a string without allocating. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The checks a name (a stream id, an event type) passes: a non-empty string within its byte
 * limit, well-formed Unicode without control characters, and not starting with `$` unless a
 * system writer gives it.
 */
function checkName(
  value: unknown,
  system: boolean,
  what: { noun: string; plural: string; limitName: "streamIdBytesMax" | "eventTypeBytesMax" },
): asserts value is string {
  const { noun, plural, limitName } = what;
  if (typeof value !== "string") throw new InvalidArgumentError(`${noun} must be a string, got ${describe(value)}`);
  if (value.length === 0) throw new InvalidArgumentError(`${noun} must not be empty`);
  const bytes = utf8Bytes(value);
  const limit = limits[limitName];
  if (bytes > limit) throw new TooLargeError(`${noun} length in bytes`, limitName, limit, bytes);
  if (hasControlCharacter(value)) throw new InvalidArgumentError(`${noun} ${JSON.stringify(value)} contains a control character`);
  // SQLite stores text as UTF-8, where a lone surrogate becomes U+FFFD: the name would come
  // back as another string than the one written.
  if (!value.isWellFormed()) throw new InvalidArgumentError(`${noun} ${JSON.stringify(value)} is not well-formed Unicode (it has a lone surrogate)`);
  if (!system && value.startsWith("$")) throw new InvalidArgumentError(`${noun} '${value}' is reserved: ${plural} starting with '$' belong to the system`);
}

const streamIdName = { noun: "stream id", plural: "ids", limitName: "streamIdBytesMax" } as const;
const eventTypeName = { noun: "event type", plural: "types", limitName: "eventTypeBytesMax" } as const;

export function validateStreamId(streamId: unknown, system = false): string {
  checkName(streamId, system, streamIdName);
  return streamId;
}

/** Event types repeat; remembering the valid ones keeps their checks off the append path. */
const validEventTypes = new Set<string>();
const validEventTypesMax = 1024;

export function validateEventType(type: unknown, system = false): string {
  if (typeof type === "string" && validEventTypes.has(type)) return type;
  checkName(type, system, eventTypeName);
  if (!type.startsWith("$")) {
    if (validEventTypes.size >= validEventTypesMax) validEventTypes.clear();
    validEventTypes.add(type);
  }
  return type;
}

export function validateExpectedVersion(expected: unknown): ExpectedVersion {
  if (typeof expected === "string" && (expectedVersionNames as readonly string[]).includes(expected)) return expected as ExpectedVersion;
  if (typeof expected === "number" && Number.isSafeInteger(expected) && expected >= -1) return expected;
  throw new InvalidArgumentError(
    `expected version must be "any", "no_stream", "stream_exists", -1 or a version >= 0, got ${describe(expected)}`,
  );
}

/** Checks that a value is plain JSON (no undefined, functions, NaN, class instances, cycles). */
export function validateJson(value: unknown, what: string): JsonValue {
  // The fast walk builds no paths; only a failure walks again to say where.
  if (!isPlainJson(value, 0)) describeJsonProblem(value, what, 0, "$");
  return value as JsonValue;
}

function isPlainJson(value: unknown, depth: number): boolean {
  if (depth > jsonDepthMax) return false;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object": {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        const field = (value as Record<string, unknown>)[key];
        // JSON.stringify drops undefined fields, as every JS caller expects; that loses nothing.
        if (field !== undefined && !isPlainJson(field, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Throws the error for the first non-JSON part of a value that isPlainJson refused. */
function describeJsonProblem(value: unknown, what: string, depth: number, path: string): void {
  if (depth > jsonDepthMax) throw new InvalidArgumentError(`${what} nests deeper than ${jsonDepthMax} levels at ${path}`);
  if (typeof value === "number" && !Number.isFinite(value)) throw new InvalidArgumentError(`${what} is not JSON: ${String(value)} at ${path}`);
  if (typeof value === "object" && value !== null) {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) describeJsonProblem(value[i], what, depth + 1, `${path}[${i}]`);
      return;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidArgumentError(`${what} is not JSON: a ${proto?.constructor?.name ?? "class"} instance at ${path}`);
    }
    for (const key in value) {
      const field = (value as Record<string, unknown>)[key];
      if (field !== undefined) describeJsonProblem(field, what, depth + 1, `${path}.${key}`);
    }
    return;
  }
  if (typeof value !== "string" && typeof value !== "boolean" && typeof value !== "number") {
    throw new InvalidArgumentError(`${what} is not JSON: ${typeof value} at ${path}`);
  }
}

/**
 * The UTF-8 size of a string when it could matter for `limit`; below a third of the limit the
 * exact count cannot change a verdict, so the UTF-16 length (a lower bound) stands in for it.
 */
export function utf8BytesNear(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : utf8Bytes(text);
}

function prepareEvent(input: unknown, index: number, context: PrepareContext): PreparedEvent {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError(`event ${index} must be an object with type and data, got ${describe(input)}`);
  }
  const event = input as Partial<EventInput> & Record<string, unknown>;
  let id: string;
  if (event.id === undefined) id = context.newId();
  else if (typeof event.id === "string" && isUuid(event.id.toLowerCase())) id = event.id.toLowerCase();
  else throw new InvalidArgumentError(`event ${index}: id must be a UUID, got ${describe(event.id)}`);
  const type = validateEventType(event.type, context.system);
  if (!("data" in event) || event.data === undefined) throw new InvalidArgumentError(`event ${index} has no data`);
  let data: string | Uint8Array;
  let contentType: string;
  if (event.data instanceof Uint8Array && event.contentType === jsonContentType) {
    // JSON sent as bytes (an HTTP client's base64, say) is stored as JSON text, so that readers,
    // subscriptions and sqlite3 all see JSON: the store never holds a JSON blob it cannot parse.
    data = JSON.stringify(validateJson(parseJsonBytes(event.data, index), `event ${index} data`));
    contentType = jsonContentType;
  } else if (event.data instanceof Uint8Array) {
    data = event.data.slice();
    contentType = event.contentType ?? bytesContentTypeDefault;
    if (typeof contentType !== "string" || contentType.length === 0 || utf8Bytes(contentType) > limits.contentTypeBytesMax) {
      throw new InvalidArgumentError(`event ${index}: content type must be a non-empty string of at most ${limits.contentTypeBytesMax} bytes`);
    }
  } else {
    data = JSON.stringify(validateJson(event.data, `event ${index} data`));
    contentType = jsonContentType;
    if (event.contentType !== undefined && event.contentType !== jsonContentType) {
      throw new InvalidArgumentError(`event ${index}: JSON data has content type ${jsonContentType}, not '${String(event.contentType)}'`);
    }
  }
  const metadata = event.metadata === undefined || event.metadata === null ? null : JSON.stringify(validateJson(event.metadata, `event ${index} metadata`));
  const limit = limits.eventSizeBytesMax;
  const sizeBytes = (typeof data === "string" ? utf8BytesNear(data, limit) : data.byteLength) + (metadata === null ? 0 : utf8BytesNear(metadata, limit));
  if (sizeBytes > limits.eventSizeBytesMax) {
    throw new TooLargeError(`event ${index} (data + metadata) in bytes`, "eventSizeBytesMax", limits.eventSizeBytesMax, sizeBytes);
  }
  return { id, type, data, metadata, contentType, createdAtMs: context.nowMs, sizeBytes };
}

function parseJsonBytes(bytes: Uint8Array, index: number): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InvalidArgumentError(`event ${index}: data has content type ${jsonContentType} but is not UTF-8 JSON (${(error as Error).message})`);
  }
}

/** Validates one append's events; throws on the first problem, naming the event's index. */
export function prepareEvents(events: unknown, context: PrepareContext): PreparedEvent[] {
  if (!Array.isArray(events)) throw new InvalidArgumentError(`events must be an array, got ${describe(events)}`);
  if (events.length === 0) throw new InvalidArgumentError("an append needs at least one event");
  if (events.length > limits.eventsPerAppendMax) {
    throw new TooLargeError("events in one append", "eventsPerAppendMax", limits.eventsPerAppendMax, events.length);
  }
  const prepared: PreparedEvent[] = [];
  // Generated ids are unique by construction; only ids the caller chose need the check.
  let callerIds: Set<string> | null = null;
  let totalBytes = 0;
  for (let i = 0; i < events.length; i++) {
    const event = prepareEvent(events[i], i, context);
    if ((events[i] as { id?: unknown }).id !== undefined) {
      callerIds ??= new Set<string>();
      if (callerIds.has(event.id)) throw new InvalidArgumentError(`event ${i}: id ${event.id} appears twice in one append`);
      callerIds.add(event.id);
    }
    totalBytes += event.sizeBytes;
    prepared.push(event);
  }
  // Sizes below a third of the event limit are lower bounds; count exactly when it could matter.
  if (totalBytes * 3 > limits.appendBytesMax) {
    totalBytes = 0;
    for (const e of prepared) totalBytes += (typeof e.data === "string" ? utf8Bytes(e.data) : e.data.byteLength) + (e.metadata === null ? 0 : utf8Bytes(e.metadata));
    if (totalBytes > limits.appendBytesMax) {
      throw new TooLargeError("one append's events in bytes", "appendBytesMax", limits.appendBytesMax, totalBytes);
    }
  }
  return prepared;
}

export function validateStreamMetadata(input: unknown): StreamMetadata {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError(`stream metadata must be an object, got ${describe(input)}`);
  }
  const result: StreamMetadata = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    if (key !== "maxCount" && key !== "maxAgeMs" && key !== "truncateBefore") {
      throw new InvalidArgumentError(`stream metadata has no setting '${key}' (maxCount, maxAgeMs, truncateBefore)`);
    }
    const minimum = key === "truncateBefore" ? 0 : 1;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) {
      throw new InvalidArgumentError(`stream metadata ${key} must be an integer >= ${minimum}, got ${describe(value)}`);
    }
    result[key] = value;
  }
  return result;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
