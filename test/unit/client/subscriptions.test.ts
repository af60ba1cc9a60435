// The client's persistent subscriptions: create, list, get, consume as an async iterator with
// ack and nack per delivery, delete; the library's errors back.

import { expect, test } from "bun:test";
import { AlreadyExistsError, EdgeEsdbClient, NotFoundError } from "../../../src/client/index.ts";
import { startTestGateway } from "../api/harness.ts";

test("create, consume with ack and nack, health, delete", async () => {
  await using gw = await startTestGateway();
  using client = new EdgeEsdbClient({ socketPath: gw.socketPath });
  await client.append("job-1", "any", [{ type: "Queued", data: 1 }, { type: "Queued", data: 2 }]);
  expect(await client.subscriptions.create("workers", { selector: { eventType: "Queued" }, from: "start" })).toMatchObject({ name: "workers", selectorType: "event_type" });
  expect(await client.subscriptions.create("workers", { selector: { eventType: "Queued" } }).catch((e: unknown) => e)).toBeInstanceOf(AlreadyExistsError);
  expect((await client.subscriptions.list()).map((s) => s.name)).toEqual(["workers"]);
  const consumer = client.subscriptions.consume("workers", { inFlightMax: 5 });
  const seen: number[] = [];
  for await (const delivery of consumer) {
    seen.push(delivery.event.position);
    if (delivery.event.data === 1) expect(await delivery.ack()).toBe(true);
    else expect(await delivery.nack("park", "cannot")).toBe(true);
    if (seen.length === 2) break;
  }
  expect(seen).toEqual([0, 1]);
  const health = await client.subscriptions.get("workers");
  expect(health).toMatchObject({ lastAckedPosition: 0, settings: expect.objectContaining({ inFlightMax: expect.any(Number) }) });
  // The parked event comes back, marked replayed.
  while ((await client.subscriptions.get("workers")).parkedCount === 0) await Bun.sleep(5);
  expect(await client.subscriptions.replayParked("workers")).toBe(1);
  for await (const delivery of client.subscriptions.consume("workers")) {
    expect({ data: delivery.event.data, replayed: delivery.replayed }).toEqual({ data: 2, replayed: true });
    expect(await delivery.ack()).toBe(true);
    break;
  }
  await client.subscriptions.delete("workers");
  expect(await client.subscriptions.get("workers").catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
});
