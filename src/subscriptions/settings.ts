// What a subscription is made of, validated at the edge: persistent selectors (erl-esdb's
// by_stream, by_event_type, by_pattern, by_payload), start points, delivery settings with their
// defaults, and the health report every subscription gives.

import { InvalidArgumentError, TooLargeError, limits } from "../lib/index.ts";
import { utf8Bytes, validateFilter, validateStreamId, type JsonValue } from "../events/index.ts";
import type { FeedSource } from "./event-feed.ts";

/** Which events a persistent subscription delivers. */
export type Selector =
  | { stream: string }
  | { eventType: string }
  /** Stream ids with `*` (any run) and `?` (one character), e.g. `order-*`. */
  | { pattern: string }
  /** Events whose JSON data contains these fields and values; dotted keys are nested paths. */
  | { payload: { [path: string]: JsonValue } };

export type SelectorType = "stream" | "event_type" | "pattern" | "payload";

export type StartFrom = "start" | "end" | { position: number };

export interface PersistentSettings {
  /** Unacknowledged events one consumer holds at most. */
  inFlightMax: number;
  /** An event not acknowledged within this time is taken back and redelivered. */
  ackTimeoutMs: number;
  /** Redeliveries of one event (nack retry or ack timeout) before it is parked. */
  retryCountMax: number;
  /** Back-off before a retry: the first delay, doubling each time up to the cap. */
  retryBackoffMsMin: number;
  retryBackoffMsMax: number;
  /** With work and no progress for this long, the subscription is reported stalled. */
  stalledAfterMs: number;
  /** Progress is written to the store at most this often (and on close). */
  checkpointIntervalMs: number;
  /** Events buffered ahead of the consumers. */
  bufferCount: number;
}

export const defaultPersistentSettings: Readonly<PersistentSettings> = {
  inFlightMax: limits.inFlightPerConsumerDefault,
  ackTimeoutMs: limits.ackTimeoutMsDefault,
  retryCountMax: limits.retryCountMaxDefault,
  retryBackoffMsMin: limits.retryBackoffMsMinDefault,
  retryBackoffMsMax: limits.retryBackoffMsMaxDefault,
  stalledAfterMs: limits.stalledAfterMsDefault,
  checkpointIntervalMs: limits.checkpointIntervalMsDefault,
  bufferCount: limits.liveBufferCountDefault,
};

export type SubscriptionState = "catching_up" | "live" | "stalled" | "paused";

export interface SubscriptionHealth {
  name: string;
  kind: "catch_up" | "persistent";
  /** stream, event_type, pattern or payload for persistent ones; stream or all for catch-up. */
  selectorType: string;
  selector: JsonValue;
  state: SubscriptionState;
  /** Positions between the last resolved event and the head (events of other streams count too). */
  lagEvents: number;
  headPosition: number;
  /** Last position resolved with everything before it (the checkpoint), -1 for none. */
  checkpoint: number;
  /** Position of the last acknowledged event, -1 for none. */
  lastAckedPosition: number;
  lastAckedAt: string | null;
  inFlight: number;
  buffered: number;
  parkedCount: number;
  consumers: number;
}

export function selectorType(selector: Selector): SelectorType {
  if ("stream" in selector) return "stream";
  if ("eventType" in selector) return "event_type";
  if ("pattern" in selector) return "pattern";
  return "payload";
}

export function validateSelector(input: unknown): Selector {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError("selector must be one of { stream }, { eventType }, { pattern }, { payload }");
  }
  const keys = Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) throw new InvalidArgumentError(`selector must have exactly one of stream, eventType, pattern, payload; got ${JSON.stringify(keys)}`);
  const raw = input as Record<string, unknown>;
  if (raw.stream !== undefined) return { stream: validateStreamId(raw.stream, true) };
  if (raw.eventType !== undefined) {
    validateFilter({ eventTypes: [raw.eventType] });
    return { eventType: raw.eventType as string };
  }
  if (raw.pattern !== undefined) {
    validateFilter({ streamPattern: raw.pattern });
    return { pattern: raw.pattern as string };
  }
  if (raw.payload !== undefined) {
    const filter = validateFilter({ payload: raw.payload });
    if (Object.keys(filter.payload ?? {}).length === 0) throw new InvalidArgumentError("selector.payload must name at least one field");
    return { payload: filter.payload as { [path: string]: JsonValue } };
  }
  throw new InvalidArgumentError(`selector has no field '${keys[0]}' (stream, eventType, pattern, payload)`);
}

/** The feed source of a persistent selector. $-streams are left out unless named exactly. */
export function selectorSource(selector: Selector): FeedSource {
  if ("stream" in selector) {
    const wildcard = /[*?]/.test(selector.stream);
    return { kind: "all", filter: wildcard ? {} : { streamPattern: selector.stream }, exactStream: selector.stream, includeSystem: true };
  }
  if ("eventType" in selector) return { kind: "all", filter: { eventTypes: [selector.eventType] }, includeSystem: false };
  if ("pattern" in selector) return { kind: "all", filter: { streamPattern: selector.pattern }, includeSystem: false };
  return { kind: "all", filter: { payload: selector.payload }, includeSystem: false };
}

export function validateName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) throw new InvalidArgumentError("a subscription name is a non-empty string");
  const bytes = utf8Bytes(name);
  if (bytes > limits.subscriptionNameBytesMax) throw new TooLargeError("subscription name length in bytes", "subscriptionNameBytesMax", limits.subscriptionNameBytesMax, bytes);
  // The name becomes part of a stream id ($parked-<name>): the same rules apply.
  validateStreamId(parkedStreamId(name), true);
  return name;
}

export function parkedStreamId(name: string): string {
  return `$parked-${name}`;
}

export function validateStart(from: unknown, headPosition: number): number {
  if (from === undefined || from === "start") return 0;
  if (from === "end") return headPosition;
  if (typeof from === "object" && from !== null && "position" in from) {
    const position = (from as { position: unknown }).position;
    if (typeof position === "number" && Number.isSafeInteger(position) && position >= 0) return position;
  }
  throw new InvalidArgumentError(`from must be "start", "end" or { position: n >= 0 }, got ${JSON.stringify(from)}`);
}

const settingBounds: Record<keyof PersistentSettings, readonly [number, number]> = {
  inFlightMax: [1, limits.inFlightPerConsumerMax],
  ackTimeoutMs: [1, limits.subscriptionSettingMsMax],
  retryCountMax: [0, limits.retryCountMax],
  retryBackoffMsMin: [0, limits.subscriptionSettingMsMax],
  retryBackoffMsMax: [0, limits.subscriptionSettingMsMax],
  stalledAfterMs: [1, limits.subscriptionSettingMsMax],
  checkpointIntervalMs: [0, limits.subscriptionSettingMsMax],
  bufferCount: [1, limits.liveBufferCountMax],
};

/** Settings over the defaults; every value an integer within its bounds. */
export function validateSettings(input: unknown, base: Readonly<PersistentSettings> = defaultPersistentSettings): PersistentSettings {
  if (input === undefined || input === null) return { ...base };
  if (typeof input !== "object" || Array.isArray(input)) throw new InvalidArgumentError("settings must be an object");
  const settings: PersistentSettings = { ...base };
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const bounds = settingBounds[key as keyof PersistentSettings] as readonly [number, number] | undefined;
    if (bounds === undefined) throw new InvalidArgumentError(`settings has no field '${key}' (${Object.keys(settingBounds).join(", ")})`);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < bounds[0] || value > bounds[1]) {
      throw new InvalidArgumentError(`settings.${key} must be an integer from ${bounds[0]} to ${bounds[1]}, got ${JSON.stringify(value)}`);
    }
    settings[key as keyof PersistentSettings] = value;
  }
  if (settings.retryBackoffMsMax < settings.retryBackoffMsMin) throw new InvalidArgumentError("settings.retryBackoffMsMax must be >= retryBackoffMsMin");
  return settings;
}
