// The per-peer queue policy: small drops oldest, bulk makes senders wait and bounds the waiters,
// clearing rejects the waiters; back-off doubles with jitter up to its cap.

import { describe, expect, test } from "bun:test";
import { Backoff, BulkQueue, SmallQueue } from "../../../src/transport/index.ts";
import { limits } from "../../../src/lib/index.ts";

describe("small queue", () => {
  test("when full it drops the oldest and counts the drop", () => {
    const q = new SmallQueue<number>(3);
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(q.length).toBe(3);
    expect(q.dropped).toBe(2);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([3, 4, 5, undefined]);
  });
});

describe("bulk queue", () => {
  test("within its bounds a push resolves at once", async () => {
    const q = new BulkQueue<string>(2, 100, 2);
    await q.push("a", 10);
    await q.push("b", 10);
    expect(q.length).toBe(2);
    expect(q.bytes).toBe(20);
  });

  test("when full the sender waits until room frees up, in order", async () => {
    const q = new BulkQueue<string>(2, 100, 10);
    await q.push("a", 10);
    await q.push("b", 10);
    const order: string[] = [];
    const c = q.push("c", 10).then(() => order.push("c"));
    const d = q.push("d", 10).then(() => order.push("d"));
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(q.waiters).toBe(2);
    expect(q.shift()).toBe("a");
    await c;
    expect(order).toEqual(["c"]);
    expect(q.shift()).toBe("b");
    await d;
    expect(order).toEqual(["c", "d"]);
    expect([q.shift(), q.shift(), q.shift()]).toEqual(["c", "d", undefined]);
  });

  test("a byte bound holds too; one oversized item still goes alone into an empty queue", async () => {
    const q = new BulkQueue<string>(10, 100, 10);
    await q.push("big", 500);
    let second = false;
    const p = q.push("small", 1).then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    q.shift();
    await p;
    expect(second).toBe(true);
  });

  test("beyond the bound on waiters a sender is refused at once with unavailable", async () => {
    const q = new BulkQueue<string>(1, 100, 1);
    await q.push("a", 1);
    const waiting = q.push("b", 1);
    const refused = await q.push("c", 1).catch((e: { code: string }) => e.code);
    expect(refused).toBe("unavailable");
    q.clear(new Error("gone"));
    expect(await waiting.catch((e: Error) => e.message)).toBe("gone");
    expect(q.length).toBe(0);
  });
});

describe("back-off", () => {
  test("delays double from the minimum up to the maximum, each between half and all of its cap", () => {
    const low = new Backoff(() => 0);
    const high = new Backoff(() => 0.999999);
    const lows = Array.from({ length: 10 }, () => low.next());
    const highs = Array.from({ length: 10 }, () => high.next());
    expect(lows[0]).toBe(limits.reconnectDelayMsMin / 2);
    expect(lows[1]).toBe(limits.reconnectDelayMsMin);
    expect(lows.at(-1)).toBe(limits.reconnectDelayMsMax / 2);
    expect(highs.at(-1)).toBeLessThanOrEqual(limits.reconnectDelayMsMax);
    expect(highs.at(-1)).toBeGreaterThan(limits.reconnectDelayMsMax * 0.99);
    low.reset();
    expect(low.next()).toBe(limits.reconnectDelayMsMin / 2);
  });
});
