// Subscription health as the store last recorded it, for inspection from another process (the
// CLI opens the data dir read-only beside a running daemon): the definition and checkpoint from
// the store, the lag against the current head, the parked count from $parked-<name>, and the
// state and in-flight count the daemon saved with its last checkpoint.

import type { JsonValue } from "../events/index.ts";
import { SubscriptionRecords, type EventStore, type SubscriptionRecord } from "../store/index.ts";
import { parkedStreamId, selectorType, validateSelector, type SubscriptionHealth, type SubscriptionState } from "./settings.ts";

export interface SubscriptionReport extends SubscriptionHealth {
  settings: JsonValue;
  startPosition: number;
  createdAt: string;
  /** When the daemon last saved progress (the state and in-flight count are from then). */
  savedAt: string;
}

const states: readonly string[] = ["catching_up", "live", "stalled", "paused"];

export function reportSubscriptions(store: EventStore): SubscriptionReport[] {
  return new SubscriptionRecords(store).list().map((record) => reportOf(store, record));
}

/** One subscription's report; null when there is none by that name. */
export function reportSubscription(store: EventStore, name: string): SubscriptionReport | null {
  const record = new SubscriptionRecords(store).get(name);
  return record === null ? null : reportOf(store, record);
}

function reportOf(store: EventStore, record: SubscriptionRecord): SubscriptionReport {
  const head = store.headPosition;
  const saved = (typeof record.health === "object" && record.health !== null && !Array.isArray(record.health) ? record.health : {}) as Record<string, JsonValue>;
  const state = typeof saved.state === "string" && states.includes(saved.state) ? (saved.state as SubscriptionState) : "paused";
  const parkedLast = store.loadStreamState(parkedStreamId(record.name)).lastVersion;
  return {
    name: record.name,
    kind: "persistent",
    selectorType: selectorType(validateSelector(record.selector)),
    selector: record.selector,
    state,
    lagEvents: Math.max(0, head - (record.checkpoint + 1)),
    headPosition: head,
    checkpoint: record.checkpoint,
    lastAckedPosition: typeof saved.lastAckedPosition === "number" ? saved.lastAckedPosition : -1,
    lastAckedAt: record.ackedAtMs === null ? null : new Date(record.ackedAtMs).toISOString(),
    inFlight: typeof saved.inFlight === "number" ? saved.inFlight : 0,
    buffered: 0,
    parkedCount: Math.max(0, parkedLast + 1 - record.parkedReplayedBefore),
    consumers: typeof saved.consumers === "number" ? saved.consumers : 0,
    settings: record.settings,
    startPosition: record.startPosition,
    createdAt: new Date(record.createdAtMs).toISOString(),
    savedAt: new Date(record.updatedAtMs).toISOString(),
  };
}
