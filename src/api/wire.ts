// What travels in JSON: events and snapshots as the client sees them, and the checks on what a
// request sends. Conventions (README "HTTP API"): `createdAt` is ISO 8601; JSON data travels as
// `data`; bytes travel base64-encoded as `dataBase64` (with their `contentType`), never `data`.

import { InvalidArgumentError } from "../lib/index.ts";
import type { EventFilter, EventInput, JsonValue, RecordedEvent } from "../events/index.ts";
import type { Snapshot } from "../node/index.ts";

export interface WireEvent {
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

export function toWireEvent(event: RecordedEvent): WireEvent {
  const wire: WireEvent = {
    id: event.id,
    streamId: event.streamId,
    version: event.version,
    position: event.position,
    type: event.type,
    metadata: event.metadata,
    contentType: event.contentType,
    createdAt: event.createdAt.toISOString(),
  };
  if (event.data instanceof Uint8Array) wire.dataBase64 = Buffer.from(event.data).toString("base64");
  else wire.data = event.data;
  return wire;
}

export function toWireSnapshot(snapshot: Snapshot): Record<string, unknown> {
  const { data, createdAt, ...rest } = snapshot;
  return {
    ...rest,
    ...(data instanceof Uint8Array ? { dataBase64: Buffer.from(data).toString("base64") } : { data }),
    createdAt: createdAt.toISOString(),
  };
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeBase64(text: unknown, what: string): Uint8Array {
  if (typeof text !== "string" || text.length % 4 !== 0 || !base64Pattern.test(text)) {
    throw new InvalidArgumentError(`${what} must be standard base64 (with padding)`);
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** `data` as JSON, or `dataBase64` as bytes: exactly one of them. */
export function dataOf(body: Record<string, unknown>, what: string): JsonValue | Uint8Array {
  const hasBytes = body.dataBase64 !== undefined;
  if (hasBytes && body.data !== undefined) throw new InvalidArgumentError(`${what} has both data and dataBase64: send one`);
  if (hasBytes) return decodeBase64(body.dataBase64, `${what} dataBase64`);
  return body.data as JsonValue;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An append's body: `{ expectedVersion?, events: [...] }`; the store validates each event. */
export function parseAppendBody(body: unknown): { expectedVersion: unknown; events: EventInput[] } {
  if (!isObject(body)) throw new InvalidArgumentError("the body must be an object { expectedVersion, events }");
  const events = body.events;
  if (!Array.isArray(events)) throw new InvalidArgumentError("events must be an array");
  for (let i = 0; i < events.length; i++) {
    const event: unknown = events[i];
    if (isObject(event) && event.dataBase64 !== undefined) {
      events[i] = { id: event.id, type: event.type, data: dataOf(event, `event ${i}`), metadata: event.metadata, contentType: event.contentType };
    }
  }
  // Only a missing field means "any": null is a mistake the library refuses, so it stays null.
  return { expectedVersion: body.expectedVersion === undefined ? "any" : body.expectedVersion, events: events as EventInput[] };
}

/** An integer query parameter, or undefined when absent. */
export function intParam(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null || text === "") return undefined;
  if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new InvalidArgumentError(`${name} must be an integer, got '${text}'`);
  return Number(text);
}

export function boolParam(params: URLSearchParams, name: string): boolean {
  const text = params.get(name);
  if (text === null || text === "" || text === "false" || text === "0") return false;
  if (text === "true" || text === "1") return true;
  throw new InvalidArgumentError(`${name} must be true or false, got '${text}'`);
}

export function directionParam(params: URLSearchParams): "forward" | "backward" | undefined {
  const text = params.get("direction");
  if (text === null || text === "") return undefined;
  if (text === "forward" || text === "backward") return text;
  throw new InvalidArgumentError(`direction must be forward or backward, got '${text}'`);
}

/** An expected version in a query: a number, or one of the names. */
export function expectedVersionParam(params: URLSearchParams): unknown {
  const text = params.get("expectedVersion");
  if (text === null || text === "") return "any";
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

/** $all filters from the query: `type` (repeatable), `streamPrefix`, `streamPattern`, `payload` (JSON). */
export function filterParams(params: URLSearchParams): EventFilter | undefined {
  const filter: EventFilter = {};
  const types = params.getAll("type").filter((t) => t !== "");
  if (types.length > 0) filter.eventTypes = types;
  const prefix = params.get("streamPrefix");
  if (prefix !== null && prefix !== "") filter.streamPrefix = prefix;
  const pattern = params.get("streamPattern");
  if (pattern !== null && pattern !== "") filter.streamPattern = pattern;
  const payload = params.get("payload");
  if (payload !== null && payload !== "") {
    try {
      filter.payload = JSON.parse(payload) as EventFilter["payload"] & object;
    } catch {
      throw new InvalidArgumentError("payload must be a JSON object of fields and values");
    }
  }
  return Object.keys(filter).length === 0 ? undefined : filter;
}
