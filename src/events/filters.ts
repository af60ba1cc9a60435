// Server-side event filters for $all reads and subscriptions: by event type, stream prefix,
// stream pattern (`*` any run, `?` one character) and payload (fields and values the event's
// data must contain, nested paths with dots or nested objects). Pure matching functions.

import { InvalidArgumentError } from "../lib/index.ts";
import type { JsonValue } from "./types.ts";
import { validateJson } from "./validate.ts";

export interface EventFilter {
  eventTypes?: readonly string[];
  streamPrefix?: string;
  streamPattern?: string;
  payload?: { [path: string]: JsonValue };
}

/** The parts of an event a filter looks at. */
export interface FilterableEvent {
  streamId: string;
  type: string;
  data: JsonValue | Uint8Array;
}

export function validateFilter(input: unknown): EventFilter {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input)) throw new InvalidArgumentError("filter must be an object");
  const raw = input as Record<string, unknown>;
  const filter: EventFilter = {};
  for (const key of Object.keys(raw)) {
    if (!["eventTypes", "streamPrefix", "streamPattern", "payload"].includes(key) || raw[key] === undefined) {
      if (raw[key] === undefined) continue;
      throw new InvalidArgumentError(`filter has no field '${key}' (eventTypes, streamPrefix, streamPattern, payload)`);
    }
  }
  if (raw.eventTypes !== undefined) {
    if (!Array.isArray(raw.eventTypes) || raw.eventTypes.length === 0 || !raw.eventTypes.every((t) => typeof t === "string" && t.length > 0)) {
      throw new InvalidArgumentError("filter.eventTypes must be a non-empty array of event types");
    }
    filter.eventTypes = raw.eventTypes as string[];
  }
  if (raw.streamPrefix !== undefined) {
    if (typeof raw.streamPrefix !== "string") throw new InvalidArgumentError("filter.streamPrefix must be a string");
    filter.streamPrefix = raw.streamPrefix;
  }
  if (raw.streamPattern !== undefined) {
    if (typeof raw.streamPattern !== "string" || raw.streamPattern.length === 0) {
      throw new InvalidArgumentError("filter.streamPattern must be a non-empty string");
    }
    filter.streamPattern = raw.streamPattern;
  }
  if (raw.payload !== undefined) {
    if (typeof raw.payload !== "object" || raw.payload === null || Array.isArray(raw.payload)) {
      throw new InvalidArgumentError("filter.payload must be an object of fields and values");
    }
    filter.payload = validateJson(raw.payload, "filter.payload") as { [path: string]: JsonValue };
  }
  return filter;
}

const patternCache = new Map<string, RegExp>();

/** Stream pattern with `*` (any run of characters) and `?` (one character), anchored. */
export function streamPatternRegExp(pattern: string): RegExp {
  let regExp = patternCache.get(pattern);
  if (regExp === undefined) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    // "u": `?` is one Unicode character, as in SQLite GLOB, not one UTF-16 unit.
    regExp = new RegExp(`^${source}$`, "su");
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, regExp);
  }
  return regExp;
}

export function matchesStreamPattern(pattern: string, streamId: string): boolean {
  return streamPatternRegExp(pattern).test(streamId);
}

/**
 * True when `data` contains every field of `expected` with an equal value. A key with dots is a
 * path (`"customer.country"`); a nested object in `expected` matches a subset of the nested data.
 */
export function matchesPayload(expected: { [path: string]: JsonValue }, data: JsonValue | Uint8Array): boolean {
  if (data instanceof Uint8Array || typeof data !== "object" || data === null || Array.isArray(data)) return false;
  for (const [path, value] of Object.entries(expected)) {
    const actual = lookupPath(data, path);
    if (actual === undefined || !containsValue(actual, value)) return false;
  }
  return true;
}

function lookupPath(data: JsonValue, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = data;
  for (const part of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

function containsValue(actual: JsonValue, expected: JsonValue): boolean {
  if (typeof expected !== "object" || expected === null) return actual === expected;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => containsValue(actual[i] as JsonValue, v));
  }
  if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
  return Object.entries(expected).every(([key, v]) => Object.hasOwn(actual, key) && containsValue(actual[key] as JsonValue, v));
}

export function matchesFilter(filter: EventFilter, event: FilterableEvent): boolean {
  if (filter.eventTypes !== undefined && !filter.eventTypes.includes(event.type)) return false;
  if (filter.streamPrefix !== undefined && !event.streamId.startsWith(filter.streamPrefix)) return false;
  if (filter.streamPattern !== undefined && !matchesStreamPattern(filter.streamPattern, event.streamId)) return false;
  if (filter.payload !== undefined && !matchesPayload(filter.payload, event.data)) return false;
  return true;
}
