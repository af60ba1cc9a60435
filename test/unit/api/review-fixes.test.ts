// Found in review: JSON sent as base64 bytes, a null expected version, and a duplicate id's
// error body over HTTP.

import { expect, test } from "bun:test";
import { jsonBody, startTestGateway } from "./harness.ts";

test("JSON sent as dataBase64 with content type application/json is stored as JSON; invalid JSON bytes get 400", async () => {
  await using gw = await startTestGateway();
  const good = Buffer.from('{"x":1}').toString("base64");
  expect((await gw.unix("/v1/streams/j", jsonBody({ events: [{ type: "T", dataBase64: good, contentType: "application/json" }] }))).status).toBe(200);
  const { events } = (await (await gw.unix("/v1/streams/j")).json()) as { events: Array<Record<string, unknown>> };
  expect(events[0]).toMatchObject({ data: { x: 1 }, contentType: "application/json" });
  const bad = await gw.unix("/v1/streams/j", jsonBody({ events: [{ type: "T", dataBase64: Buffer.from("not json").toString("base64"), contentType: "application/json" }] }));
  expect(bad.status).toBe(400);
  expect(await bad.json()).toMatchObject({ error: "invalid_argument", message: expect.stringContaining("not UTF-8 JSON") });
  // The stream still reads, and $all past it too.
  expect((await gw.unix("/v1/all")).status).toBe(200);
});

test("expectedVersion null is refused, not taken as any", async () => {
  await using gw = await startTestGateway();
  await gw.unix("/v1/streams/s", jsonBody({ expectedVersion: "no_stream", events: [{ type: "T", data: 1 }] }));
  const response = await gw.unix("/v1/streams/s", jsonBody({ expectedVersion: null, events: [{ type: "T", data: 2 }] }));
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ error: "invalid_argument" });
  const { events } = (await (await gw.unix("/v1/streams/s")).json()) as { events: unknown[] };
  expect(events).toHaveLength(1);
});

test("a duplicate_event body names the event id", async () => {
  await using gw = await startTestGateway();
  const id = "0190a8c4-0000-7000-8000-000000000001";
  await gw.unix("/v1/streams/a", jsonBody({ events: [{ id, type: "T", data: 1 }] }));
  const response = await gw.unix("/v1/streams/b", jsonBody({ events: [{ id, type: "T", data: 1 }] }));
  expect(response.status).toBe(409);
  expect(await response.json()).toMatchObject({ error: "duplicate_event", eventId: id });
});
