// Attach and detach handlers, emit typed events (erl-esdb's `telemetry` in miniature). Emitting
// an event nobody listens to costs one map lookup, so the write path can always call emit. A
// handler that throws is detached and reported once: telemetry must never break a write.

import { InvalidArgumentError, limits } from "../lib/index.ts";
import { telemetryEventNames, telemetryEventPath, type TelemetryEvent, type TelemetryEventMap, type TelemetryEventName } from "./events.ts";

export type TelemetryHandler = (event: TelemetryEvent, config: unknown) => void;

interface Attached {
  id: string;
  names: readonly TelemetryEventName[];
  handler: TelemetryHandler;
  config: unknown;
}

export class Telemetry {
  private readonly attached = new Map<string, Attached>();
  private byName = new Map<TelemetryEventName, Attached[]>();

  /**
   * Attaches `handler` under a unique id to the given events (all of them when omitted).
   * Throws already_exists-like invalid_argument when the id is taken.
   */
  attach(id: string, handler: TelemetryHandler, options: { events?: readonly TelemetryEventName[]; config?: unknown } = {}): void {
    if (typeof id !== "string" || id.length === 0) throw new InvalidArgumentError("a telemetry handler id is a non-empty string");
    if (this.attached.has(id)) throw new InvalidArgumentError(`a telemetry handler '${id}' is already attached`);
    if (this.attached.size >= limits.telemetryHandlersMax) {
      throw new InvalidArgumentError(`telemetry handlers are limited to ${limits.telemetryHandlersMax} (telemetryHandlersMax)`);
    }
    const names = options.events ?? telemetryEventNames;
    for (const name of names) {
      if (!telemetryEventNames.includes(name)) throw new InvalidArgumentError(`no telemetry event '${String(name)}'`);
    }
    this.attached.set(id, { id, names, handler, config: options.config });
    this.rebuild();
  }

  /** Detaches a handler; false when no handler has that id. */
  detach(id: string): boolean {
    const removed = this.attached.delete(id);
    if (removed) this.rebuild();
    return removed;
  }

  /** The ids of attached handlers. */
  handlerIds(): string[] {
    return [...this.attached.keys()];
  }

  /** True when some handler listens to `name`: callers skip building the event otherwise. */
  listening(name: TelemetryEventName): boolean {
    return this.byName.has(name);
  }

  emit<N extends TelemetryEventName>(name: N, measurements: TelemetryEventMap[N]["measurements"], metadata: TelemetryEventMap[N]["metadata"]): void {
    const handlers = this.byName.get(name);
    if (handlers === undefined) return;
    const event = { name, measurements, metadata } as TelemetryEvent;
    for (const attached of handlers) {
      try {
        attached.handler(event, attached.config);
      } catch (error) {
        this.detach(attached.id);
        console.error(`edge-esdb: telemetry handler '${attached.id}' threw on ${name} and was detached:`, error);
      }
    }
  }

  /** Attaches a handler that logs every event as one line (id "edge_esdb_default_logger"). */
  attachDefaultHandler(log: (line: string) => void = (line) => console.log(line)): void {
    this.attach(defaultHandlerId, (event) => log(formatTelemetryEvent(event)));
  }

  private rebuild(): void {
    const byName = new Map<TelemetryEventName, Attached[]>();
    for (const attached of this.attached.values()) {
      for (const name of attached.names) {
        const list = byName.get(name);
        if (list === undefined) byName.set(name, [attached]);
        else list.push(attached);
      }
    }
    this.byName = byName;
  }
}

export const defaultHandlerId = "edge_esdb_default_logger";

/** `[edge_esdb, stream, write, stop] durationMs=1.2 eventCount=1 storeId=... streamId=order-1`. */
export function formatTelemetryEvent(event: TelemetryEvent): string {
  const parts = [`[${telemetryEventPath(event.name).join(", ")}]`];
  for (const [key, value] of Object.entries(event.measurements)) parts.push(`${key}=${typeof value === "number" && !Number.isInteger(value) ? value.toFixed(3) : String(value)}`);
  for (const [key, value] of Object.entries(event.metadata)) parts.push(`${key}=${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
  return parts.join(" ");
}
