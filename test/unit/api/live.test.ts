// SSE live reads: catch-up then live, the id is the global position, Last-Event-ID (exclusive)
// wins over ?from, heartbeats on idle streams, and the server ends open streams when it stops.

import { describe, expect, test } from "bun:test";
import { jsonBody, readSseUntil, sseEvents, startTestGateway } from "./harness.ts";

const ev = (n: number) => ({ type: "T", data: { n } });

describe("live reads over SSE", () => {
  test("$all: catch-up, then live; ids are global positions; filters apply", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/a", jsonBody({ events: [ev(0), ev(1)] }));
    await gw.unix("/v1/streams/b", jsonBody({ events: [{ type: "Other", data: {} }] }));
    const response = await gw.unix("/v1/all/live");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const state = { text: "" };
    await readSseUntil(reader, state, (t) => sseEvents(t).length === 3);
    await gw.unix("/v1/streams/a", jsonBody({ events: [ev(2)] }));
    await readSseUntil(reader, state, (t) => sseEvents(t).length === 4);
    const events = sseEvents(state.text);
    expect(events.map((e) => e.id)).toEqual([0, 1, 2, 3]);
    expect(events[3]?.data).toMatchObject({ streamId: "a", version: 2, position: 3, data: { n: 2 }, createdAt: expect.stringMatching(/Z$/) });
    await reader.cancel();

    const typed = await gw.unix("/v1/all/live?type=Other");
    const typedReader = (typed.body as ReadableStream<Uint8Array>).getReader();
    const typedState = { text: "" };
    await gw.unix("/v1/streams/b", jsonBody({ events: [{ type: "Other", data: { late: true } }] }));
    await readSseUntil(typedReader, typedState, (t) => sseEvents(t).length === 2);
    expect(sseEvents(typedState.text).map((e) => e.id)).toEqual([2, 4]);
    await typedReader.cancel();
  });

  test("Last-Event-ID (exclusive) wins over ?from, for $all and for a stream", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/a", jsonBody({ events: [ev(0), ev(1)] }));
    await gw.unix("/v1/streams/b", jsonBody({ events: [ev(2)] }));
    await gw.unix("/v1/streams/a", jsonBody({ events: [ev(3), ev(4)] }));
    // Positions: a0=0 a1=1 b0=2 a2=3 a3=4.
    const all = await gw.unix("/v1/all/live?from=0", { headers: { "last-event-id": "2" } });
    const allReader = (all.body as ReadableStream<Uint8Array>).getReader();
    const allState = { text: "" };
    await readSseUntil(allReader, allState, (t) => sseEvents(t).length >= 2);
    expect(sseEvents(allState.text).map((e) => e.id)).toEqual([3, 4]);
    await allReader.cancel();

    const fromOnly = await gw.unix("/v1/streams/a/live?from=2");
    const fromReader = (fromOnly.body as ReadableStream<Uint8Array>).getReader();
    const fromState = { text: "" };
    await readSseUntil(fromReader, fromState, (t) => sseEvents(t).length >= 2);
    expect(sseEvents(fromState.text).map((e) => e.data.version)).toEqual([2, 3]);
    await fromReader.cancel();

    // Resume after position 1 (a's version 1): the next of a is version 2 at position 3.
    const resumed = await gw.unix("/v1/streams/a/live?from=0", { headers: { "last-event-id": "1" } });
    const reader = (resumed.body as ReadableStream<Uint8Array>).getReader();
    const state = { text: "" };
    await readSseUntil(reader, state, (t) => sseEvents(t).length >= 2);
    await gw.unix("/v1/streams/b", jsonBody({ events: [ev(5)] }));
    await gw.unix("/v1/streams/a", jsonBody({ events: [ev(6)] }));
    await readSseUntil(reader, state, (t) => sseEvents(t).length >= 3);
    expect(sseEvents(state.text).map((e) => [e.id, e.data.version])).toEqual([[3, 2], [4, 3], [6, 4]]);
    await reader.cancel();

    expect((await gw.unix("/v1/all/live", { headers: { "last-event-id": "x" } })).status).toBe(400);
  });

  test("a stream not written yet is followed until its first event; from=end skips history", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/old", jsonBody({ events: [ev(0)] }));
    const response = await gw.unix("/v1/streams/later/live");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const state = { text: "" };
    const tail = await gw.unix("/v1/all/live?from=end");
    const tailReader = (tail.body as ReadableStream<Uint8Array>).getReader();
    const tailState = { text: "" };
    await gw.unix("/v1/streams/later", jsonBody({ events: [ev(1)] }));
    await readSseUntil(reader, state, (t) => sseEvents(t).length === 1);
    expect(sseEvents(state.text)[0]).toMatchObject({ id: 1, data: { streamId: "later", version: 0 } });
    await readSseUntil(tailReader, tailState, (t) => sseEvents(t).length === 1);
    expect(sseEvents(tailState.text).map((e) => e.id)).toEqual([1]);
    await reader.cancel();
    await tailReader.cancel();
  });

  test("idle streams get a comment line every heartbeat interval", async () => {
    await using gw = await startTestGateway({ heartbeatIntervalMs: 20 });
    const response = await gw.unix("/v1/all/live");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const state = { text: "" };
    await readSseUntil(reader, state, (t) => t.split(": keepalive\n\n").length > 3);
    expect(sseEvents(state.text)).toEqual([]);
    await reader.cancel();
  });

  test("catch-up of more than one batch arrives whole and in order", async () => {
    await using gw = await startTestGateway();
    const events = Array.from({ length: 1500 }, (_, i) => ev(i));
    await gw.unix("/v1/streams/big", jsonBody({ events }));
    const response = await gw.unix("/v1/streams/big/live");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const state = { text: "" };
    await readSseUntil(reader, state, (t) => sseEvents(t).length === 1500);
    expect(sseEvents(state.text).every((e, i) => e.id === i && e.data.version === i)).toBe(true);
    await reader.cancel();
  });

  test("stopping the gateway ends open streams cleanly", async () => {
    const gw = await startTestGateway();
    try {
      const response = await gw.unix("/v1/all/live");
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const state = { text: "" };
      await readSseUntil(reader, state, (t) => t.startsWith(": edge-esdb live"));
      expect(gw.gateway.liveCount).toBe(1);
      const stopping = gw.gateway.stop();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) state.text += new TextDecoder().decode(chunk.value);
      await stopping;
      expect(gw.gateway.liveCount).toBe(0);
    } finally {
      await gw[Symbol.asyncDispose]();
    }
  });

  test("a client that goes away frees its live read", async () => {
    await using gw = await startTestGateway();
    const response = await gw.unix("/v1/streams/s/live");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await readSseUntil(reader, { text: "" }, (t) => t.length > 0);
    expect(gw.gateway.liveCount).toBe(1);
    await reader.cancel();
    for (let i = 0; i < 200 && gw.gateway.liveCount > 0; i++) await Bun.sleep(5);
    expect(gw.gateway.liveCount).toBe(0);
  });
});
