// The gateway's JSON API as a client meets it: every endpoint, every error status with its
// `{ error, message }` body, the token on TCP, the body limit, and percent-decoding once.

import { describe, expect, test } from "bun:test";
import { startGateway } from "../../../src/api/index.ts";
import { startNode } from "../../../src/node/index.ts";
import { tempDir } from "../../helpers/temp.ts";
import { jsonBody, startTestGateway } from "./harness.ts";

const placed = { type: "Placed", data: { total: 5 } };

describe("streams", () => {
  test("append, read, HEAD, list and DELETE a stream", async () => {
    await using gw = await startTestGateway();
    const first = await gw.unix("/v1/streams/order-1", jsonBody({ expectedVersion: "no_stream", events: [placed, { type: "Shipped", data: { carrier: "dhl" }, metadata: { by: "me" } }] }));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ nextVersion: 1, position: 1 });
    const read = await gw.unix("/v1/streams/order-1");
    const { events } = (await read.json()) as { events: Array<Record<string, unknown>> };
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ streamId: "order-1", version: 1, position: 1, type: "Shipped", data: { carrier: "dhl" }, metadata: { by: "me" }, contentType: "application/json" });
    expect(events[0]?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const backward = (await (await gw.unix("/v1/streams/order-1?direction=backward&limit=1")).json()) as { events: Array<{ version: number }> };
    expect(backward.events.map((e) => e.version)).toEqual([1]);
    const from1 = (await (await gw.unix("/v1/streams/order-1?from=1")).json()) as { events: Array<{ version: number }> };
    expect(from1.events.map((e) => e.version)).toEqual([1]);

    const head = await gw.unix("/v1/streams/order-1", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("edge-esdb-stream-version")).toBe("1");
    const missingHead = await gw.unix("/v1/streams/nope", { method: "HEAD" });
    expect(missingHead.status).toBe(404);
    expect(missingHead.headers.get("edge-esdb-stream-version")).toBe("-1");

    expect((await gw.unix("/v1/streams/order-1?expectedVersion=1", { method: "DELETE" })).status).toBe(204);
    expect((await gw.unix("/v1/streams/order-1")).status).toBe(404);
    expect((await gw.unix("/v1/streams/order-1", { method: "HEAD" })).status).toBe(404);
    // A soft-deleted stream continues its numbering.
    expect(await (await gw.unix("/v1/streams/order-1", jsonBody({ expectedVersion: "no_stream", events: [placed] }))).json()).toEqual({ nextVersion: 2, position: 2 });
  });

  test("bytes travel base64-encoded as dataBase64, with their content type", async () => {
    await using gw = await startTestGateway();
    const bytes = Buffer.from([0, 1, 2, 250, 255]).toString("base64");
    const response = await gw.unix("/v1/streams/blob", jsonBody({ events: [{ type: "Raw", dataBase64: bytes, contentType: "application/x-thing" }] }));
    expect(response.status).toBe(200);
    const { events } = (await (await gw.unix("/v1/streams/blob")).json()) as { events: Array<Record<string, unknown>> };
    expect(events[0]).toMatchObject({ dataBase64: bytes, contentType: "application/x-thing" });
    expect(events[0]).not.toHaveProperty("data");
    const both = await gw.unix("/v1/streams/blob", jsonBody({ events: [{ type: "Raw", dataBase64: bytes, data: 1 }] }));
    expect(both.status).toBe(400);
    const bad = await gw.unix("/v1/streams/blob", jsonBody({ events: [{ type: "Raw", dataBase64: "!!!" }] }));
    expect(await bad.json()).toMatchObject({ error: "invalid_argument", message: expect.stringContaining("base64") });
  });

  test("stream ids in paths are percent-decoded exactly once", async () => {
    await using gw = await startTestGateway();
    const streamId = "site/a%2Fb c";
    const encoded = encodeURIComponent(streamId);
    expect(encoded).toBe("site%2Fa%252Fb%20c");
    expect((await gw.unix(`/v1/streams/${encoded}`, jsonBody({ events: [placed] }))).status).toBe(200);
    const { events } = (await (await gw.unix(`/v1/streams/${encoded}`)).json()) as { events: Array<{ streamId: string }> };
    expect(events[0]?.streamId).toBe(streamId);
    expect(await (await gw.unix("/v1/streams")).json()).toEqual({ streams: [{ streamId, version: 0, eventCount: 1 }], next: null });
    // Decoding twice would have found it here; decoding once does not.
    expect((await gw.unix(`/v1/streams/${encodeURIComponent("site/a/b c")}`)).status).toBe(404);
    // A raw slash is a path separator, not part of the id.
    expect(await (await gw.unix("/v1/streams/site/a")).json()).toMatchObject({ error: "not_found" });
    const malformed = await gw.unix("/v1/streams/%E0%A4%A");
    expect(malformed.status).toBe(400);
  });

  test("GET /v1/streams pages with limit, after and next", async () => {
    await using gw = await startTestGateway();
    for (const id of ["a", "b", "c"]) await gw.unix(`/v1/streams/${id}`, jsonBody({ events: [placed] }));
    const first = (await (await gw.unix("/v1/streams?limit=2")).json()) as { streams: Array<{ streamId: string }>; next: string | null };
    expect(first.streams.map((s) => s.streamId)).toEqual(["a", "b"]);
    expect(first.next).toBe("b");
    const second = await (await gw.unix(`/v1/streams?limit=2&after=${first.next}`)).json();
    expect(second).toEqual({ streams: [{ streamId: "c", version: 0, eventCount: 1 }], next: null });
    expect((await gw.unix("/v1/streams?limit=0")).status).toBe(400);
  });

  test("GET /v1/all reads the global order with type and stream prefix filters", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/order-1", jsonBody({ events: [placed, { type: "Shipped", data: {} }] }));
    await gw.unix("/v1/streams/user-1", jsonBody({ events: [{ type: "Joined", data: {} }] }));
    const all = (await (await gw.unix("/v1/all")).json()) as { events: Array<{ position: number; type: string; streamId: string }> };
    expect(all.events.map((e) => e.position)).toEqual([0, 1, 2]);
    const typed = (await (await gw.unix("/v1/all?type=Shipped&type=Joined")).json()) as typeof all;
    expect(typed.events.map((e) => e.type)).toEqual(["Shipped", "Joined"]);
    const prefixed = (await (await gw.unix("/v1/all?streamPrefix=user-")).json()) as typeof all;
    expect(prefixed.events.map((e) => e.streamId)).toEqual(["user-1"]);
    const page = (await (await gw.unix("/v1/all?fromPosition=1&limit=1")).json()) as typeof all;
    expect(page.events.map((e) => e.position)).toEqual([1]);
    const backward = (await (await gw.unix("/v1/all?direction=backward&limit=2")).json()) as typeof all;
    expect(backward.events.map((e) => e.position)).toEqual([2, 1]);
    const payload = (await (await gw.unix(`/v1/all?payload=${encodeURIComponent('{"total":5}')}`)).json()) as typeof all;
    expect(payload.events.map((e) => e.position)).toEqual([0]);
  });
});

describe("errors: a JSON body { error, message } with the right status", () => {
  test("409 wrong_expected_version with expected as sent and actual", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/s", jsonBody({ events: [placed] }));
    const numeric = await gw.unix("/v1/streams/s", jsonBody({ expectedVersion: 7, events: [placed] }));
    expect(numeric.status).toBe(409);
    expect(await numeric.json()).toMatchObject({ error: "wrong_expected_version", expected: 7, actual: 0, message: expect.any(String) });
    const named = await gw.unix("/v1/streams/s", jsonBody({ expectedVersion: "no_stream", events: [placed] }));
    expect(await named.json()).toMatchObject({ error: "wrong_expected_version", expected: "no_stream", actual: 0 });
    const none = await gw.unix("/v1/streams/new", jsonBody({ expectedVersion: "stream_exists", events: [placed] }));
    expect(await none.json()).toMatchObject({ error: "wrong_expected_version", expected: "stream_exists", actual: -1 });
    const del = await gw.unix("/v1/streams/s?expectedVersion=3", { method: "DELETE" });
    expect(del.status).toBe(409);
    expect(await del.json()).toMatchObject({ error: "wrong_expected_version", expected: 3, actual: 0 });
    // Nothing was written by the refused appends.
    expect(((await (await gw.unix("/v1/all")).json()) as { events: unknown[] }).events).toHaveLength(1);
  });

  test("400 invalid_argument for malformed input", async () => {
    await using gw = await startTestGateway();
    const cases: Array<[string, RequestInit]> = [
      ["/v1/streams/s", { method: "POST", body: "{not json" }],
      ["/v1/streams/s", { method: "POST" }],
      ["/v1/streams/s", jsonBody([1, 2])],
      ["/v1/streams/s", jsonBody({ events: "no" })],
      ["/v1/streams/s", jsonBody({ events: [] })],
      ["/v1/streams/s", jsonBody({ expectedVersion: "sometimes", events: [placed] })],
      ["/v1/streams/s", jsonBody({ events: [{ type: "", data: 1 }] })],
      ["/v1/streams/s", jsonBody({ events: [{ type: "T" }] })],
      ["/v1/streams/s?from=abc", {}],
      ["/v1/streams/s?direction=sideways", {}],
      ["/v1/all?limit=999999999", {}],
      ["/v1/all?payload=nope", {}],
      ["/v1/streams/s?hard=maybe", { method: "DELETE" }],
    ];
    for (const [p, init] of cases) {
      const response = await gw.unix(p, init);
      expect({ p, init: init.body, status: response.status }).toEqual({ p, init: init.body, status: 400 });
      expect(await response.json()).toMatchObject({ error: "invalid_argument", message: expect.any(String) });
    }
  });

  test("404 stream_not_found, 404 not_found for routes, 405 for methods", async () => {
    await using gw = await startTestGateway();
    const missing = await gw.unix("/v1/streams/nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "stream_not_found", message: "stream 'nope' not found", streamId: "nope" });
    const route = await gw.unix("/v2/things");
    expect(route.status).toBe(404);
    expect(await route.json()).toMatchObject({ error: "not_found" });
    const method = await gw.unix("/v1/streams/s", { method: "PATCH" });
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toContain("POST");
    expect(await method.json()).toMatchObject({ error: "method_not_allowed" });
  });

  test("410 stream_deleted after a hard delete, for writes and reads", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/gone", jsonBody({ events: [placed] }));
    expect((await gw.unix("/v1/streams/gone?hard=true", { method: "DELETE" })).status).toBe(204);
    for (const [p, init] of [
      ["/v1/streams/gone", {}],
      ["/v1/streams/gone", jsonBody({ events: [placed] })],
      ["/v1/streams/gone/live", {}],
      ["/v1/streams/gone/snapshots/latest", {}],
    ] as Array<[string, RequestInit]>) {
      const response = await gw.unix(p, init);
      expect(response.status).toBe(410);
      expect(await response.json()).toMatchObject({ error: "stream_deleted" });
    }
    expect((await gw.unix("/v1/streams/gone", { method: "HEAD" })).status).toBe(410);
  });

  test("413 too_large before parsing, for Content-Length and for chunked bodies", async () => {
    await using gw = await startTestGateway({ bodyBytesMax: 1024 });
    const big = JSON.stringify({ events: [{ type: "T", data: "x".repeat(2000) }] });
    const sized = await gw.unix("/v1/streams/s", { method: "POST", body: big });
    expect(sized.status).toBe(413);
    expect(await sized.json()).toMatchObject({ error: "too_large", limitName: "bodyBytesMax", limit: 1024 });
    const bytes = new TextEncoder().encode(big);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.subarray(i, i + 100));
        controller.close();
      },
    });
    const streamed = await gw.unix("/v1/streams/s", { method: "POST", body: chunked });
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ error: "too_large", limitName: "bodyBytesMax" });
    // Nothing was written; a body under the limit still goes through.
    expect((await gw.unix("/v1/streams/s")).status).toBe(404);
    expect((await gw.unix("/v1/streams/s", jsonBody({ events: [placed] }))).status).toBe(200);
  });

  test("a token guards TCP: 401 without it and nothing changes; the unix socket needs none", async () => {
    await using gw = await startTestGateway({ token: "s3cret" });
    for (const authorization of [undefined, "Bearer wrong", "s3cret", "Bearer s3cret2", "Basic s3cret"]) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const response = await gw.tcp("/v1/streams/s", { ...jsonBody({ events: [placed] }), headers });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
      expect(await response.json()).toMatchObject({ error: "unauthorized" });
    }
    expect((await gw.tcp("/v1/streams/s")).status).toBe(401);
    expect((await gw.unix("/v1/streams/s")).status).toBe(404);
    const ok = await gw.tcp("/v1/streams/s", { ...jsonBody({ events: [placed] }), headers: { authorization: "Bearer s3cret" } });
    expect(ok.status).toBe(200);
    expect(await (await gw.unix("/v1/streams")).json()).toMatchObject({ streams: [{ streamId: "s", eventCount: 1 }] });
  });

  test("no token on a non-loopback host: the gateway refuses to start", async () => {
    using dir = tempDir();
    const node = startNode({ dataDir: dir.path, durability: "normal" });
    try {
      for (const host of ["0.0.0.0", "::", "192.168.1.10"]) {
        await expect(startGateway(node, { host, port: 0 })).rejects.toThrow(/reachable from other machines: set a token/);
      }
      await expect(startGateway(node, {})).rejects.toThrow(/needs a unix socket or a TCP host/);
    } finally {
      await node.close();
    }
  });
});

describe("stream metadata", () => {
  test("PUT and GET a stream's retention; reads honour it; bad settings are 400", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/m", jsonBody({ events: [placed, placed, placed] }));
    expect(await (await gw.unix("/v1/streams/m/metadata")).json()).toEqual({});
    expect((await gw.unix("/v1/streams/m/metadata", { method: "PUT", body: JSON.stringify({ maxCount: 2 }) })).status).toBe(204);
    expect(await (await gw.unix("/v1/streams/m/metadata")).json()).toEqual({ maxCount: 2 });
    const { events } = (await (await gw.unix("/v1/streams/m")).json()) as { events: Array<{ version: number }> };
    expect(events.map((e) => e.version)).toEqual([1, 2]);
    const bad = await gw.unix("/v1/streams/m/metadata", { method: "PUT", body: JSON.stringify({ maxCount: -1 }) });
    expect(bad.status).toBe(400);
    expect(await (await gw.unix("/v1/streams/m/metadata", { method: "PUT", body: JSON.stringify({ ttl: 1 }) })).json()).toMatchObject({ error: "invalid_argument" });
  });
});

describe("snapshots", () => {
  test("PUT, GET latest and by version, list, DELETE", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/acc", jsonBody({ events: [placed, placed, placed] }));
    const put = await gw.unix("/v1/streams/acc/snapshots/1", { method: "PUT", body: JSON.stringify({ data: { total: 10 }, metadata: { v: 1 } }) });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ streamId: "acc", version: 1, data: { total: 10 }, metadata: { v: 1 }, createdAt: expect.stringMatching(/Z$/) });
    const bytes = Buffer.from("state").toString("base64");
    expect((await gw.unix("/v1/streams/acc/snapshots/2", { method: "PUT", body: JSON.stringify({ dataBase64: bytes }) })).status).toBe(200);
    expect(await (await gw.unix("/v1/streams/acc/snapshots/latest")).json()).toMatchObject({ version: 2, dataBase64: bytes, contentType: "application/octet-stream" });
    expect(await (await gw.unix("/v1/streams/acc/snapshots/1")).json()).toMatchObject({ version: 1, data: { total: 10 } });
    const list = (await (await gw.unix("/v1/streams/acc/snapshots")).json()) as { snapshots: Array<{ version: number; sizeBytes: number }> };
    expect(list.snapshots.map((s) => s.version)).toEqual([2, 1]);
    expect(list.snapshots[0]).not.toHaveProperty("data");
    expect((await gw.unix("/v1/streams/acc/snapshots/2", { method: "DELETE" })).status).toBe(204);
    const gone = await gw.unix("/v1/streams/acc/snapshots/2");
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: "not_found" });
    expect((await gw.unix("/v1/streams/acc/snapshots/2", { method: "DELETE" })).status).toBe(404);
    expect((await gw.unix("/v1/streams/acc/snapshots/9", { method: "PUT", body: JSON.stringify({ data: 1 }) })).status).toBe(400);
    expect((await gw.unix("/v1/streams/acc/snapshots/x")).status).toBe(400);
    expect((await gw.unix("/v1/streams/acc/snapshots/1", { method: "PUT", body: JSON.stringify({}) })).status).toBe(400);
    expect(await (await gw.unix("/v1/streams/none/snapshots/0", { method: "PUT", body: JSON.stringify({ data: 1 }) })).json()).toMatchObject({ error: "stream_not_found" });
  });
});

describe("node endpoints", () => {
  test("/health, /metrics and /v1/node", async () => {
    await using gw = await startTestGateway({ metricsText: () => "# from telemetry\nedge_esdb_extra 1\n" });
    await gw.unix("/v1/streams/s", jsonBody({ events: [placed, placed] }));
    const health = await gw.unix("/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", mode: "single" });
    const metrics = await gw.unix("/metrics");
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toContain("edge_esdb_http_events_appended_total 2");
    expect(text).toContain("edge_esdb_head_position 2");
    expect(text).toMatch(/edge_esdb_http_responses_total\{status="200"\} \d+/);
    expect(text).toContain("edge_esdb_extra 1");
    // The node's metrics from src/telemetry: the store's appends and the subscriptions'.
    expect(text).toContain("edge_esdb_appends_total 1");
    expect(text).toContain("edge_esdb_events_appended_total 2");
    expect(text).toMatch(/# TYPE edge_esdb_append_duration_seconds histogram/);
    const node = (await (await gw.unix("/v1/node")).json()) as { fileBytes: number };
    expect(node).toMatchObject({ version: "test", mode: "single", dataDir: gw.node.dataDir, headPosition: 2, streamCount: 1, eventRows: 2, durability: "normal" });
    expect(node.fileBytes).toBeGreaterThan(0);
  });
});

describe("stopping", () => {
  test("stop() refuses new connections but finishes a request already in flight", async () => {
    const gw = await startTestGateway();
    try {
      const body = new TextEncoder().encode(JSON.stringify({ events: [placed] }));
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started: () => void = () => undefined;
      const bodyStarted = new Promise<void>((resolve) => (started = resolve));
      const slowBody = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(body.subarray(0, 5));
          started();
          await gate;
          controller.enqueue(body.subarray(5));
          controller.close();
        },
      });
      const inFlight = gw.unix("/v1/streams/late", { method: "POST", body: slowBody });
      await bodyStarted;
      // Wait until the gateway holds the request (its handler is reading the body).
      while (gw.gateway.inFlightCount === 0) await Bun.sleep(5);
      const stopped = gw.gateway.stop();
      release();
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ nextVersion: 0, position: 0 });
      await stopped;
      await expect(gw.unix("/health")).rejects.toThrow();
    } finally {
      await gw[Symbol.asyncDispose]();
    }
  });
});
