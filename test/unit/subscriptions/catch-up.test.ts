// Catch-up subscriptions: history then live with no gap, no duplicate and no reordering, also
// while writers append during the switch and when a small buffer sends the subscriber back to
// catch-up reads again and again; start points; server-side filters; handlers; and a stuck
// subscriber that neither stops a writer nor grows memory.

import { describe, expect, test } from "bun:test";
import type { RecordedEvent } from "../../../src/index.ts";
import { ev, manualClock, testStore, waitFor } from "./helpers.ts";

async function collect(iterable: AsyncIterable<RecordedEvent>, count: number, perEvent?: (e: RecordedEvent, i: number) => Promise<void> | void): Promise<RecordedEvent[]> {
  const got: RecordedEvent[] = [];
  if (count === 0) return got;
  for await (const event of iterable) {
    got.push(event);
    await perEvent?.(event, got.length);
    if (got.length === count) break;
  }
  return got;
}

describe("catch-up subscriptions", () => {
  test("$all: history then live, every event once and in order while 4 writers append during the switch", async () => {
    await using t = testStore();
    const { store } = t;
    for (let i = 0; i < 20; i++) await store.append(`pre-${i % 3}`, "any", Array.from({ length: 50 }, () => ev("Pre", { i })));
    const writers = 4;
    const perWriter = 400;
    const total = 1000 + writers * perWriter;
    // Subscribers with different buffers and paces: a tiny buffer forces many live -> catch-up -> live switches.
    const fast = store.subscriptions.subscribeToAll({ bufferCount: 4096 });
    const tiny = store.subscriptions.subscribeToAll({ bufferCount: 3 });
    const slow = store.subscriptions.subscribeToAll({ bufferCount: 16 });
    const writing = Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i += 4) {
        await store.append(`w-${w}`, "any", Array.from({ length: 4 }, (_, k) => ev("Written", { w, i: i + k })));
      }
    });
    const [a, b, c] = await Promise.all([
      collect(fast, total),
      collect(tiny, total),
      collect(slow, total, async (_e, n) => {
        if (n % 7 === 0) await Bun.sleep(0);
      }),
      ...writing,
    ]);
    const expected = (await store.readAll({ limit: 10_000 })).map((e) => e.position);
    expect(expected).toHaveLength(total);
    for (const got of [a, b, c] as RecordedEvent[][]) {
      expect(got.map((e) => e.position)).toEqual(expected);
    }
    // Each writer's stream arrived in version order, gapless.
    for (let w = 0; w < writers; w++) {
      expect((c as RecordedEvent[]).filter((e) => e.streamId === `w-${w}`).map((e) => e.version)).toEqual(Array.from({ length: perWriter }, (_, i) => i));
    }
    fast.close();
    tiny.close();
    slow.close();
  });

  test("one stream from the start, from a version and from the end", async () => {
    await using t = testStore();
    const { store } = t;
    await store.append("s", "no_stream", [ev("A"), ev("B"), ev("C")]);
    await store.append("other", "any", [ev("X")]);
    const all = store.subscriptions.subscribeToStream("s");
    const fromOne = store.subscriptions.subscribeToStream("s", { from: { version: 1 } });
    const fromEnd = store.subscriptions.subscribeToStream("s", { from: "end" });
    const later = store.subscriptions.subscribeToStream("not-yet");
    await store.append("s", 2, [ev("D")]);
    await store.append("not-yet", "no_stream", [ev("N")]);
    expect((await collect(all, 4)).map((e) => e.type)).toEqual(["A", "B", "C", "D"]);
    expect((await collect(fromOne, 3)).map((e) => e.version)).toEqual([1, 2, 3]);
    expect((await collect(fromEnd, 1)).map((e) => e.type)).toEqual(["D"]);
    expect((await collect(later, 1)).map((e) => [e.streamId, e.type])).toEqual([["not-yet", "N"]]);
  });

  test("$all from a position and from the end, filtered by event type, stream pattern and nested payload", async () => {
    await using t = testStore();
    const { store } = t;
    await store.append("order-1", "any", [ev("Placed", { customer: { country: "NL" } }), ev("Paid", {})]);
    await store.append("user-1", "any", [ev("Placed", { customer: { country: "DE" } })]);
    const byType = store.subscriptions.subscribeToAll({ filter: { eventTypes: ["Paid"] } });
    const byPattern = store.subscriptions.subscribeToAll({ filter: { streamPattern: "order-?" } });
    const byPayload = store.subscriptions.subscribeToAll({ filter: { payload: { "customer.country": "NL" } } });
    const fromPosition = store.subscriptions.subscribeToAll({ from: { position: 2 } });
    const fromEnd = store.subscriptions.subscribeToAll({ from: "end" });
    await store.append("order-2", "any", [ev("Paid", {}), ev("Placed", { customer: { country: "NL", city: "Delft" } })]);
    await store.append("order-22", "any", [ev("Paid", {})]);
    expect((await collect(byType, 3)).map((e) => e.streamId)).toEqual(["order-1", "order-2", "order-22"]);
    expect((await collect(byPattern, 4)).map((e) => [e.streamId, e.type])).toEqual([["order-1", "Placed"], ["order-1", "Paid"], ["order-2", "Paid"], ["order-2", "Placed"]]);
    expect((await collect(byPayload, 2)).map((e) => e.position)).toEqual([0, 4]);
    expect((await collect(fromPosition, 4)).map((e) => e.position)).toEqual([2, 3, 4, 5]);
    expect((await collect(fromEnd, 3)).map((e) => e.position)).toEqual([3, 4, 5]);
  });

  test("$-streams are left out of $all unless asked for", async () => {
    await using t = testStore();
    const { store } = t;
    await store.appendSystem("$conflicts", "any", [ev("Conflict")]);
    await store.append("a", "any", [ev("A")]);
    const plain = store.subscriptions.subscribeToAll();
    const withSystem = store.subscriptions.subscribeToAll({ includeSystem: true });
    expect((await collect(plain, 1)).map((e) => e.streamId)).toEqual(["a"]);
    expect((await collect(withSystem, 2)).map((e) => e.streamId)).toEqual(["$conflicts", "a"]);
  });

  test("a handler gets every event in order; a throwing handler ends the subscription with its error", async () => {
    await using t = testStore();
    const { store } = t;
    const seen: number[] = [];
    const subscription = store.subscriptions.subscribeToAll({ handler: (e) => void seen.push(e.position) });
    for (let i = 0; i < 10; i++) await store.append("h", "any", [ev("H", { i })]);
    await waitFor(() => seen.length === 10, "10 events handled");
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    subscription.close();
    await subscription.done;
    const failing = store.subscriptions.subscribeToAll({ handler: (e) => { if (e.position === 3) throw new Error("boom"); } });
    expect(await failing.done.then(() => "resolved", (error: Error) => error.message)).toBe("boom");
    expect(failing.closed).toBe(true);
  });

  test("a stuck subscriber does not stop a writer, and buffers no more than its buffer holds", async () => {
    await using t = testStore();
    const { store } = t;
    const bufferCount = 64;
    const stuck = store.subscriptions.subscribeToAll({ bufferCount, handler: () => new Promise<void>(() => {}) });
    const healthy = store.subscriptions.subscribeToAll({ bufferCount });
    const total = 5000;
    let maxBuffered = 0;
    const watch = store.onCommitted(() => {
      maxBuffered = Math.max(maxBuffered, stuck.bufferedCount);
    });
    const reading = collect(healthy, total);
    for (let i = 0; i < total; i += 10) await store.append(`s-${i % 7}`, "any", Array.from({ length: 10 }, () => ev("E")));
    // The writer finished: every append committed while the stuck handler never returned.
    expect(store.headPosition).toBe(total);
    const got = await reading;
    expect(got.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i));
    await waitFor(() => stuck.mode === "catching_up", "the stuck subscriber fell back to catch-up");
    expect(maxBuffered).toBeLessThanOrEqual(bufferCount);
    expect(stuck.bufferedCount).toBeLessThanOrEqual(bufferCount);
    expect(stuck.health().state).toBe("catching_up");
    expect(stuck.health().lagEvents).toBeGreaterThan(total - bufferCount - 10);
    watch();
    stuck.close();
    healthy.close();
  });

  test("a hard-deleted stream: subscribing is refused, and a subscription catching up ends with stream_deleted", async () => {
    await using t = testStore();
    const { store } = t;
    await store.append("gone", "any", [ev("A"), ev("B"), ev("C")]);
    const sub = store.subscriptions.subscribeToStream("gone", { bufferCount: 1 });
    expect((await sub.next())?.type).toBe("A");
    await store.delete("gone", "any", { hard: true });
    expect(() => store.subscriptions.subscribeToStream("gone")).toThrow(expect.objectContaining({ code: "stream_deleted" }));
    const error = await (async () => {
      try {
        for (let i = 0; i < 5; i++) await sub.next();
      } catch (e) {
        return e as { code?: string };
      }
      return null;
    })();
    expect(error?.code).toBe("stream_deleted");
  });

  test("close ends iteration, and closing the store ends every subscription", async () => {
    await using t = testStore();
    const { store } = t;
    const a = store.subscriptions.subscribeToAll();
    const waiting = a.next();
    a.close();
    expect(await waiting).toBeNull();
    const b = store.subscriptions.subscribeToStream("x");
    const pending = b.next();
    expect(store.subscriptions.liveFeedCount).toBe(1);
    await store.close();
    expect(await pending).toBeNull();
    expect(b.closed).toBe(true);
  });

  test("health: live while waiting for events, stalled when events wait and the consumer does not take them", async () => {
    const clock = manualClock();
    await using t = testStore({ clock: clock.now, subscriptions: { stalledAfterMs: 1000 } });
    const { store } = t;
    const sub = store.subscriptions.subscribeToAll({ name: "watcher" });
    const waiting = sub.next();
    await waitFor(() => sub.mode === "live", "live");
    clock.advance(5000);
    expect(sub.health()).toMatchObject({ name: "watcher", kind: "catch_up", state: "live", lagEvents: 0 });
    await store.append("a", "any", [ev("A"), ev("B")]);
    expect((await waiting)?.type).toBe("A");
    await waitFor(() => sub.bufferedCount === 1, "B buffered");
    expect(sub.health().state).toBe("live");
    clock.advance(1001);
    expect(sub.health()).toMatchObject({ state: "stalled", buffered: 1, lagEvents: 1, lastAckedPosition: 0 });
    expect((await sub.next())?.type).toBe("B");
    expect(sub.health()).toMatchObject({ state: "live", buffered: 0, lagEvents: 0 });
    expect(store.subscriptions.health().map((h) => h.name)).toEqual(["watcher"]);
    sub.close();
  });
});
