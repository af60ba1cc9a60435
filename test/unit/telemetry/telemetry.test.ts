// Telemetry: erl-esdb's event names with measurements and metadata from the store's write,
// read and snapshot paths and from subscriptions; attach / detach; the default logging handler;
// a throwing handler is detached and the write still succeeds; Prometheus text; and the
// OpenTelemetry bridge, silent without a provider and producing spans with one.

import { afterEach, describe, expect, test } from "bun:test";
import { trace, type Span, type SpanOptions, type Tracer, type TracerProvider } from "@opentelemetry/api";
import { Metrics, Telemetry, telemetryEventPath, type TelemetryEvent } from "../../../src/index.ts";
import { tracingRegistered } from "../../../src/telemetry/index.ts";
import { ev, testStore, waitFor } from "../subscriptions/helpers.ts";

function recorder(telemetry: Telemetry, id = "test"): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  telemetry.attach(id, (event) => void events.push(event));
  return events;
}

describe("telemetry events", () => {
  test("stream write start / stop / error, read start / stop, snapshot created, with measurements and metadata", async () => {
    const telemetry = new Telemetry();
    const events = recorder(telemetry);
    await using t = testStore({ telemetry });
    const { store } = t;
    const storeId = store.storeId;
    expect(storeId).toMatch(/^[0-9a-f-]{36}$/);
    await store.append("order-1", "no_stream", [ev("Placed", { total: 5 }), ev("Paid")]);
    await store.append("order-1", 7, [ev("Late")]).catch(() => {});
    await store.read("order-1");
    await store.readAll({ limit: 10 });
    await store.snapshots.save("order-1", 1, { total: 5 });
    const names = events.map((e) => e.name);
    expect(names).toEqual(["stream.write.start", "stream.write.stop", "stream.write.start", "stream.write.error", "stream.read.start", "stream.read.stop", "stream.read.start", "stream.read.stop", "snapshot.created"]);
    const [start, stop, , error, , readStop, , allStop, snapshot] = events as TelemetryEvent[];
    expect(start).toMatchObject({ measurements: { systemTimeMs: expect.any(Number) }, metadata: { storeId, streamId: "order-1", eventCount: 2 } });
    expect(stop).toMatchObject({ measurements: { durationMs: expect.any(Number), eventCount: 2 }, metadata: { storeId, streamId: "order-1", newVersion: 1, position: 1 } });
    expect((stop as TelemetryEvent<"stream.write.stop">).measurements.bytes).toBeGreaterThan(0);
    expect(error).toMatchObject({ measurements: { durationMs: expect.any(Number) }, metadata: { storeId, streamId: "order-1", reason: "wrong_expected_version" } });
    expect(readStop).toMatchObject({ measurements: { eventCount: 2 }, metadata: { streamId: "order-1" } });
    expect(allStop).toMatchObject({ measurements: { eventCount: 2 }, metadata: { streamId: "$all" } });
    expect(snapshot).toMatchObject({ measurements: { sizeBytes: 11 }, metadata: { storeId, streamId: "order-1", version: 1 } });
    expect(telemetryEventPath("stream.write.start")).toEqual(["edge_esdb", "stream", "write", "start"]);
  });

  test("subscription created / deleted", async () => {
    const telemetry = new Telemetry();
    await using t = testStore({ telemetry });
    const events: TelemetryEvent[] = [];
    telemetry.attach("subs", (e) => void events.push(e), { events: ["subscription.created", "subscription.deleted"] });
    await t.store.subscriptions.create("p", { selector: { eventType: "Paid" } });
    await t.store.subscriptions.delete("p");
    expect(events).toEqual([
      { name: "subscription.created", measurements: { systemTimeMs: expect.any(Number) }, metadata: { storeId: t.store.storeId, subscriptionId: "p", type: "event_type" } },
      { name: "subscription.deleted", measurements: { systemTimeMs: expect.any(Number) }, metadata: { storeId: t.store.storeId, subscriptionId: "p" } },
    ]);
  });

  test("the live fan-out to subscribers is not reported as reads", async () => {
    const telemetry = new Telemetry();
    await using t = testStore({ telemetry });
    const sub = t.store.subscriptions.subscribeToAll({ from: "end" });
    const first = sub.next();
    await waitFor(() => sub.mode === "live", "live");
    const events = recorder(telemetry);
    for (let i = 0; i < 3; i++) await t.store.append("a", "any", [ev("A")]);
    expect((await first)?.position).toBe(0);
    expect((await sub.next())?.position).toBe(1);
    expect((await sub.next())?.position).toBe(2);
    expect(events.map((e) => e.name).filter((n) => n.startsWith("stream.read"))).toEqual([]);
    expect(t.store.prometheusText()).toContain("edge_esdb_events_read_total 0\n");
    sub.close();
  });

  test("attach only to some events, detach, duplicate ids refused, unknown events refused", async () => {
    const telemetry = new Telemetry();
    const writes: string[] = [];
    telemetry.attach("w", (e) => void writes.push(e.name), { events: ["stream.write.stop"] });
    expect(() => telemetry.attach("w", () => {})).toThrow(/already attached/);
    expect(() => telemetry.attach("x", () => {}, { events: ["stream.nope" as never] })).toThrow(/no telemetry event/);
    expect(telemetry.listening("stream.write.stop")).toBe(true);
    expect(telemetry.listening("stream.write.start")).toBe(false);
    await using t = testStore({ telemetry });
    await t.store.append("a", "any", [ev("A")]);
    expect(telemetry.detach("w")).toBe(true);
    expect(telemetry.detach("w")).toBe(false);
    await t.store.append("a", "any", [ev("A")]);
    expect(writes).toEqual(["stream.write.stop"]);
  });

  test("a handler that throws is detached and the write still succeeds; the default handler logs one line per event", async () => {
    const telemetry = new Telemetry();
    const lines: string[] = [];
    telemetry.attachDefaultHandler((line) => lines.push(line));
    telemetry.attach("broken", () => {
      throw new Error("handler bug");
    });
    await using t = testStore({ telemetry });
    const result = await t.store.append("a", "any", [ev("A")]);
    expect(result).toEqual({ nextVersion: 0, position: 0 });
    expect(telemetry.handlerIds()).not.toContain("broken");
    expect(lines[0]).toMatch(/^\[edge_esdb, stream, write, start\] systemTimeMs=\d+ storeId="[0-9a-f-]+" streamId="a" eventCount=1$/);
    expect(lines[1]).toMatch(/^\[edge_esdb, stream, write, stop\] durationMs=\d+\.\d{3} eventCount=1 bytes=\d+ storeId="[0-9a-f-]+" streamId="a" newVersion=0 position=0$/);
  });
});

describe("Prometheus metrics", () => {
  test("appends, events, bytes, errors, latency histograms, reads and subscription gauges", async () => {
    await using t = testStore();
    const { store } = t;
    await store.subscriptions.create("p", { selector: { pattern: "*" }, settings: { retryCountMax: 0, retryBackoffMsMin: 1, retryBackoffMsMax: 1 } });
    await store.append("a", "any", [ev("A"), ev("B")]);
    await store.append("a", "any", [ev("C")]);
    await store.append("a", 0, [ev("D")]).catch(() => {});
    await store.read("a");
    const consumer = store.subscriptions.connect("p");
    (await consumer.next())?.ack();
    const text = store.prometheusText();
    expect(text).toContain("# TYPE edge_esdb_appends_total counter\nedge_esdb_appends_total 2\n");
    expect(text).toContain('edge_esdb_append_errors_total{code="wrong_expected_version"} 1\n');
    expect(text).toContain("edge_esdb_events_appended_total 3\n");
    expect(text).toMatch(/\nedge_esdb_appended_bytes_total [1-9]\d*\n/);
    expect(text).toContain("# TYPE edge_esdb_append_duration_seconds histogram\n");
    expect(text).toContain('edge_esdb_append_duration_seconds_bucket{le="+Inf"} 2\nedge_esdb_append_duration_seconds_sum ');
    expect(text).toContain("edge_esdb_append_duration_seconds_count 2\n");
    expect(text).toMatch(/\nedge_esdb_reads_total [1-9]\d*\n/);
    expect(text).toContain('edge_esdb_subscription_lag_events{subscription="p"} 2\n');
    expect(text).toContain('edge_esdb_subscription_in_flight{subscription="p"} 2\n');
    expect(text).toContain('edge_esdb_subscription_parked{subscription="p"} 0\n');
    expect(text).toContain('edge_esdb_subscription_state{subscription="p",state="live"} 1\n');
    expect(text).toContain('# TYPE edge_esdb_subscription_delivered_total counter\nedge_esdb_subscription_delivered_total{subscription="p"} 3\n');
    expect(text).toContain('edge_esdb_subscription_acked_total{subscription="p"} 1\n');
    expect(text).toContain('edge_esdb_subscription_nacked_retry_total{subscription="p"} 0\n');
    // Buckets are cumulative and end at the count.
    const buckets = [...text.matchAll(/edge_esdb_append_duration_seconds_bucket\{le="[^"]+"\} (\d+)/g)].map((m) => Number(m[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(buckets[buckets.length - 1]).toBe(2);
  });

  test("label values are escaped; collectors can be removed", () => {
    const metrics = new Metrics();
    const remove = metrics.addCollector(() => [{ name: "x_gauge", help: "x", type: "gauge", samples: [{ labels: { name: 'a"b\\c\nd' }, value: 1 }] }]);
    expect(metrics.prometheusText()).toContain('x_gauge{name="a\\"b\\\\c\\nd"} 1\n');
    remove();
    expect(metrics.prometheusText()).not.toContain("x_gauge");
  });
});

describe("OpenTelemetry bridge", () => {
  afterEach(() => trace.disable());

  test("without a registered provider it does nothing (and costs no errors)", async () => {
    expect(tracingRegistered()).toBe(false);
    const telemetry = new Telemetry();
    await using t = testStore({ telemetry });
    expect(telemetry.handlerIds()).toContain("edge_esdb_opentelemetry");
    await t.store.append("a", "any", [ev("A")]);
    await t.store.read("a");
  });

  test("stores sharing one Telemetry share the bridge until the last one closes", async () => {
    const telemetry = new Telemetry();
    const a = testStore({ telemetry });
    const b = testStore({ telemetry });
    expect(telemetry.handlerIds().filter((id) => id === "edge_esdb_opentelemetry")).toHaveLength(1);
    await a[Symbol.asyncDispose]();
    expect(telemetry.handlerIds()).toContain("edge_esdb_opentelemetry");
    await b[Symbol.asyncDispose]();
    expect(telemetry.handlerIds()).not.toContain("edge_esdb_opentelemetry");
  });

  test("with a registered tracer provider, writes, errors and reads become spans", async () => {
    const spans: Array<{ name: string; options: SpanOptions; ended: boolean; status?: unknown }> = [];
    const tracer = {
      startSpan(name: string, options: SpanOptions = {}) {
        const record: { name: string; options: SpanOptions; ended: boolean; status?: unknown } = { name, options, ended: false };
        spans.push(record);
        const span = {
          setStatus(status: unknown) {
            record.status = status;
            return span;
          },
          end() {
            record.ended = true;
          },
        };
        return span as unknown as Span;
      },
    } as unknown as Tracer;
    const provider: TracerProvider = { getTracer: () => tracer };
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    expect(tracingRegistered()).toBe(true);
    await using t = testStore();
    await t.store.append("a", "no_stream", [ev("A")]);
    await t.store.append("a", "no_stream", [ev("A")]).catch(() => {});
    await t.store.read("a");
    expect(spans.map((s) => [s.name, s.ended])).toEqual([
      ["edge_esdb.stream.write", true],
      ["edge_esdb.stream.write", true],
      ["edge_esdb.stream.read", true],
    ]);
    expect(spans[0]?.options.attributes).toMatchObject({ "edge_esdb.stream_id": "a", "edge_esdb.event_count": 1, "edge_esdb.new_version": 0 });
    expect(spans[1]?.options.attributes).toMatchObject({ "edge_esdb.reason": "wrong_expected_version" });
    expect(spans[1]?.status).toMatchObject({ code: 2 });
  });
});
