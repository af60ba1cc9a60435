// Persistent subscriptions over HTTP: create, list, show with health, consume over SSE, ack and
// nack by delivery id, delete; errors with their statuses.

import { describe, expect, test } from "bun:test";
import { DeliveryBook } from "../../../src/api/subscriptions.ts";
import { jsonBody, readSseUntil, startTestGateway } from "./harness.ts";

interface WireDelivery {
  deliveryId: string;
  retryCount: number;
  replayed: boolean;
  event: { position: number; streamId: string; data: unknown };
}

function deliveries(text: string): WireDelivery[] {
  return text
    .split("\n\n")
    .slice(0, -1)
    .filter((block) => /^event: delivery$/m.test(block))
    .map((block) => JSON.parse((/^data: (.*)$/m.exec(block) as RegExpExecArray)[1] as string) as WireDelivery);
}

describe("persistent subscriptions over HTTP", () => {
  test("create, list, show, consume, ack, nack, delete", async () => {
    await using gw = await startTestGateway();
    for (let i = 0; i < 3; i++) await gw.unix(`/v1/streams/order-${i}`, jsonBody({ events: [{ type: "Placed", data: { i } }] }));
    const created = await gw.unix("/v1/subscriptions", jsonBody({ name: "billing", selector: { pattern: "order-*" }, from: "start", settings: { ackTimeoutMs: 60_000 } }));
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: "billing", kind: "persistent", selectorType: "pattern" });
    const again = await gw.unix("/v1/subscriptions", jsonBody({ name: "billing", selector: { pattern: "order-*" } }));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: "already_exists" });
    expect((await gw.unix("/v1/subscriptions", jsonBody({ name: "bad", selector: { nope: 1 } }))).status).toBe(400);
    expect(((await (await gw.unix("/v1/subscriptions")).json()) as { subscriptions: Array<{ name: string }> }).subscriptions.map((s) => s.name)).toEqual(["billing"]);
    expect(await (await gw.unix("/v1/subscriptions/billing")).json()).toMatchObject({ name: "billing", settings: { ackTimeoutMs: 60_000 } });
    expect(await (await gw.unix("/v1/subscriptions/nope")).json()).toMatchObject({ error: "not_found" });

    const consume = await gw.unix("/v1/subscriptions/billing/consume?inFlightMax=10");
    expect(consume.headers.get("content-type")).toBe("text/event-stream");
    const reader = (consume.body as ReadableStream<Uint8Array>).getReader();
    const state = { text: "" };
    await readSseUntil(reader, state, (t) => deliveries(t).length === 3);
    const got = deliveries(state.text);
    expect(got.map((d) => d.event.position)).toEqual([0, 1, 2]);
    const ack = await gw.unix("/v1/subscriptions/billing/ack", jsonBody({ ids: [got[0]?.deliveryId, got[1]?.deliveryId, "9-9"] }));
    expect(await ack.json()).toEqual({ acked: [got[0]?.deliveryId, got[1]?.deliveryId], missed: ["9-9"] });
    const nack = await gw.unix("/v1/subscriptions/billing/nack", jsonBody({ ids: [got[2]?.deliveryId], action: "park", reason: "bad data" }));
    expect(await nack.json()).toEqual({ nacked: [got[2]?.deliveryId], missed: [] });
    expect((await gw.unix("/v1/subscriptions/billing/nack", jsonBody({ ids: [], action: "explode" }))).status).toBe(400);
    expect((await gw.unix("/v1/subscriptions/billing/ack", jsonBody({ nope: 1 }))).status).toBe(400);
    // Live: a new event arrives on the open consumer.
    await gw.unix("/v1/streams/order-9", jsonBody({ events: [{ type: "Placed", data: { i: 9 } }] }));
    await readSseUntil(reader, state, (t) => deliveries(t).length === 4);
    const health = (await (await gw.unix("/v1/subscriptions/billing")).json()) as { lastAckedPosition: number; parkedCount: number; consumers: number };
    expect(health).toMatchObject({ lastAckedPosition: 1, consumers: 1 });
    await reader.cancel();

    expect((await gw.unix("/v1/subscriptions/billing", { method: "DELETE" })).status).toBe(204);
    expect((await gw.unix("/v1/subscriptions/billing", { method: "DELETE" })).status).toBe(404);
    expect(((await (await gw.unix("/v1/subscriptions")).json()) as { subscriptions: unknown[] }).subscriptions).toEqual([]);
  });

  test("a consumer that leaves hands its unacknowledged deliveries to the next one", async () => {
    await using gw = await startTestGateway();
    await gw.unix("/v1/streams/s", jsonBody({ events: [{ type: "T", data: 1 }] }));
    await gw.unix("/v1/subscriptions", jsonBody({ name: "w", selector: { stream: "s" } }));
    const first = (await gw.unix("/v1/subscriptions/w/consume")).body as ReadableStream<Uint8Array>;
    const firstReader = first.getReader();
    const firstState = { text: "" };
    await readSseUntil(firstReader, firstState, (t) => deliveries(t).length === 1);
    const stale = deliveries(firstState.text)[0]?.deliveryId;
    await firstReader.cancel();
    const second = ((await gw.unix("/v1/subscriptions/w/consume")).body as ReadableStream<Uint8Array>).getReader();
    const secondState = { text: "" };
    await readSseUntil(second, secondState, (t) => deliveries(t).length === 1);
    expect(deliveries(secondState.text)[0]?.event.position).toBe(0);
    // The first consumer's delivery id no longer resolves anything.
    expect(await (await gw.unix("/v1/subscriptions/w/ack", jsonBody({ ids: [stale] }))).json()).toEqual({ acked: [], missed: [stale] });
    await second.cancel();
  });
});

describe("DeliveryBook", () => {
  const delivery = (log: string[], name: string) => ({ event: {} as never, retryCount: 0, replayed: false, ack: () => (log.push(`ack ${name}`), true), nack: () => true });

  test("ids resolve once, only for their subscription; a leaving consumer's ids are forgotten; the oldest go past the bound", () => {
    const log: string[] = [];
    const book = new DeliveryBook(3);
    const c1 = book.newConsumer();
    const c2 = book.newConsumer();
    const a = book.add("s", c1, delivery(log, "a"));
    const b = book.add("s", c2, delivery(log, "b"));
    expect(book.take("other", a)).toBeNull();
    expect(book.take("s", a)?.ack()).toBe(true);
    expect(book.take("s", a)).toBeNull();
    book.forget(c2);
    expect(book.take("s", b)).toBeNull();
    const ids = ["1", "2", "3", "4"].map((n) => book.add("s", c1, delivery(log, n)));
    expect(book.size).toBe(3);
    expect(book.take("s", ids[0] as string)).toBeNull();
    expect(book.take("s", ids[3] as string)).not.toBeNull();
    expect(log).toEqual(["ack a"]);
  });
});
