// The in-memory transport: same interface, messages pass through CBOR and the validators, and a
// manual network lets a test deliver, drop or reorder what is in flight.

import { describe, expect, test } from "bun:test";
import { MemoryNetwork } from "../../../src/transport/index.ts";
import { pingType, testRegistry } from "../codec/fixtures.ts";

describe("in-memory transport", () => {
  test("messages arrive as (peer, message), automatically", async () => {
    const network = new MemoryNetwork({ registry: testRegistry() });
    const a = network.transport("a");
    const b = network.transport("b");
    const got: unknown[] = [];
    b.onMessage((peer, message) => got.push([peer, message]));
    await a.send("b", { type: pingType.id, body: { n: 1, text: "x" } });
    await Promise.resolve();
    expect(got).toEqual([["a", { type: pingType.id, body: { n: 1, text: "x" } }]]);
  });

  test("manual delivery: a test chooses the order and what is lost", async () => {
    const network = new MemoryNetwork({ registry: testRegistry(), autoDeliver: false });
    const a = network.transport("a");
    const b = network.transport("b");
    const got: number[] = [];
    b.onMessage((_peer, message) => got.push((message.body as { n: number }).n));
    for (let n = 1; n <= 3; n++) await a.send("b", { type: pingType.id, body: { n, text: "" } });
    expect(network.pending.length).toBe(3);
    network.deliver(2);
    network.pending.splice(0, 1); // lost
    network.deliverAll();
    expect(got).toEqual([3, 2]);
  });

  test("a filter drops messages (a partition); unknown peers and invalid messages are refused", async () => {
    const network = new MemoryNetwork({ registry: testRegistry() });
    const a = network.transport("a");
    const b = network.transport("b");
    let got = 0;
    b.onMessage(() => got++);
    network.filter = (from, to) => !(from === "a" && to === "b");
    await a.send("b", { type: pingType.id, body: { n: 1, text: "" } });
    await Promise.resolve();
    expect(got).toBe(0);
    expect(network.droppedCount).toBe(1);
    expect(await a.send("zz", { type: pingType.id, body: { n: 1, text: "" } }).catch((e: { code: string }) => e.code)).toBe("unavailable");
    expect(() => a.send("b", { type: pingType.id, body: { n: -1, text: "" } })).toThrow(/registered and valid/);
  });
});
