// The OpenTelemetry bridge: turns telemetry events into spans (stream write, read, snapshot)
// and metric instruments through @opentelemetry/api. Until the application registers a tracer
// or meter provider (with an SDK of its choice), every call here checks that and does nothing.

import { metrics, trace, ProxyTracerProvider, SpanKind, SpanStatusCode, createNoopMeter, type Counter, type Histogram, type Meter, type MeterProvider } from "@opentelemetry/api";
import type { TelemetryEvent } from "./events.ts";
import type { Telemetry } from "./telemetry.ts";

export const openTelemetryHandlerId = "edge_esdb_opentelemetry";
const scopeName = "edge-esdb";
const noopTracerProvider = new ProxyTracerProvider().getDelegate();
const noopMeterConstructor = createNoopMeter().constructor;

/** True when the application registered a tracer provider. */
export function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider && provider.getDelegate() === noopTracerProvider);
}

interface Instruments {
  provider: MeterProvider;
  meter: Meter | null;
  writeDurationMs?: Histogram;
  readDurationMs?: Histogram;
  eventsAppended?: Counter;
  writeErrors?: Counter;
}

/**
 * Attaches the bridge to `telemetry`; returns a function that detaches it. Spans carry the
 * event's metadata as `edge_esdb.*` attributes; their start is the stop time minus the duration.
 */
export function attachOpenTelemetry(telemetry: Telemetry): () => void {
  let instruments: Instruments | null = null;
  const meterFor = (): Instruments => {
    const provider = metrics.getMeterProvider();
    if (instruments?.provider === provider) return instruments;
    const meter = provider.getMeter(scopeName);
    if (meter.constructor === noopMeterConstructor) return (instruments = { provider, meter: null });
    return (instruments = {
      provider,
      meter,
      writeDurationMs: meter.createHistogram("edge_esdb.stream.write.duration", { unit: "ms", description: "Time from an append's call to its commit." }),
      readDurationMs: meter.createHistogram("edge_esdb.stream.read.duration", { unit: "ms", description: "Time of one read." }),
      eventsAppended: meter.createCounter("edge_esdb.events.appended", { description: "Events committed by appends." }),
      writeErrors: meter.createCounter("edge_esdb.stream.write.errors", { description: "Appends that failed." }),
    });
  };
  const handler = (event: TelemetryEvent): void => {
    const m = meterFor();
    if (m.meter !== null) record(m, event);
    if (tracingRegistered()) span(event);
  };
  telemetry.attach(openTelemetryHandlerId, handler, { events: ["stream.write.stop", "stream.write.error", "stream.read.stop", "snapshot.created", "subscription.created", "subscription.deleted", "cluster.node.up", "cluster.node.down", "cluster.leader.elected"] });
  return () => telemetry.detach(openTelemetryHandlerId);
}

function record(m: Instruments, event: TelemetryEvent): void {
  switch (event.name) {
    case "stream.write.stop": {
      const e = event as TelemetryEvent<"stream.write.stop">;
      m.writeDurationMs?.record(e.measurements.durationMs, { "edge_esdb.store_id": e.metadata.storeId });
      m.eventsAppended?.add(e.measurements.eventCount, { "edge_esdb.store_id": e.metadata.storeId });
      return;
    }
    case "stream.write.error": {
      const e = event as TelemetryEvent<"stream.write.error">;
      m.writeErrors?.add(1, { "edge_esdb.store_id": e.metadata.storeId, "edge_esdb.reason": e.metadata.reason });
      return;
    }
    case "stream.read.stop": {
      const e = event as TelemetryEvent<"stream.read.stop">;
      m.readDurationMs?.record(e.measurements.durationMs, { "edge_esdb.store_id": e.metadata.storeId });
      return;
    }
    default:
      return;
  }
}

function span(event: TelemetryEvent): void {
  const endMs = Date.now();
  const measurements = event.measurements as Record<string, number>;
  const durationMs = measurements.durationMs ?? 0;
  const attributes: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(event.metadata)) attributes[`edge_esdb.${snakeCase(key)}`] = value;
  for (const [key, value] of Object.entries(measurements)) attributes[`edge_esdb.${snakeCase(key)}`] = value;
  const name = `edge_esdb.${event.name.replace(/\.(stop|error)$/, "")}`;
  const s = trace.getTracer(scopeName).startSpan(name, { kind: SpanKind.INTERNAL, startTime: endMs - durationMs, attributes });
  if (event.name === "stream.write.error") s.setStatus({ code: SpanStatusCode.ERROR, message: (event as TelemetryEvent<"stream.write.error">).metadata.reason });
  s.end(endMs);
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
