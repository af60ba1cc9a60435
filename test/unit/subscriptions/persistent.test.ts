// Persistent subscriptions: selectors, create / list / get / delete, checkpoints that survive a
// restart, ack / nack (retry with back-off, park, skip), ack timeouts, parked replay, the
// in-flight limit, competing consumers, a consumer leaving, and health.

import { describe, expect, test } from "bun:test";
import type { Delivery, PersistentConsumer, RecordedEvent } from "../../../src/index.ts";
import { ev, manualClock, testStore, waitFor } from "./helpers.ts";

async function take(consumer: PersistentConsumer, count: number): Promise<Delivery[]> {
  const got: Delivery[] = [];
  while (got.length < count) {
    const d = await consumer.next();
    if (d === null) break;
    got.push(d);
  }
  return got;
}

const fast = { ackTimeoutMs: 60_000, retryBackoffMsMin: 1, retryBackoffMsMax: 2, checkpointIntervalMs: 0 };

describe("persistent subscriptions", () => {
  test("selectors: stream, event type, stream pattern, nested payload", async () => {
    await using t = testStore();
    const { store } = t;
    const subs = store.subscriptions;
    await subs.create("by-stream", { selector: { stream: "order-1" } });
    await subs.create("by-type", { selector: { eventType: "Paid" } });
    await subs.create("by-pattern", { selector: { pattern: "order-*" } });
    await subs.create("by-payload", { selector: { payload: { "customer.country": "NL", tags: ["a"] } } });
    await store.append("order-1", "any", [ev("Placed", { customer: { country: "NL" }, tags: ["a"] }), ev("Paid")]);
    await store.append("order-2", "any", [ev("Placed", { customer: { country: "DE" } })]);
    await store.append("user-1", "any", [ev("Paid", { customer: { country: "NL", city: "Delft" }, tags: ["a"] })]);
    const positions = async (name: string, n: number) => (await take(subs.connect(name), n)).map((d) => (d.ack(), d.event.position));
    expect(await positions("by-stream", 2)).toEqual([0, 1]);
    expect(await positions("by-type", 2)).toEqual([1, 3]);
    expect(await positions("by-pattern", 3)).toEqual([0, 1, 2]);
    expect(await positions("by-payload", 2)).toEqual([0, 3]);
    expect(subs.list().map((h) => [h.name, h.selectorType])).toEqual([["by-pattern", "pattern"], ["by-payload", "payload"], ["by-stream", "stream"], ["by-type", "event_type"]]);
  });

  test("create, get, list, delete; a taken name and a missing one are typed errors", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await t.store.append("a", "any", [ev("A"), ev("A")]);
    const created = await subs.create("p", { selector: { pattern: "*" }, from: "end", settings: { inFlightMax: 3 } });
    expect(created).toMatchObject({ name: "p", kind: "persistent", state: "paused", checkpoint: 1, lagEvents: 0, parkedCount: 0, consumers: 0 });
    expect(subs.settings("p").inFlightMax).toBe(3);
    expect((await subs.create("p", { selector: { pattern: "*" } }).then(() => "resolved", (e: { code: string }) => e.code))).toBe("already_exists");
    expect(() => subs.get("nope")).toThrow(expect.objectContaining({ code: "not_found" }));
    expect((await subs.create("bad", { selector: { pattern: "*", stream: "x" } as never }).then(() => "resolved", (e: { code: string }) => e.code))).toBe("invalid_argument");
    expect((await subs.create("bad", { selector: { stream: "x" }, settings: { inFlightMax: 0 } }).then(() => "resolved", (e: { code: string }) => e.code))).toBe("invalid_argument");
    const consumer = subs.connect("p");
    await subs.delete("p");
    expect(await consumer.next()).toBeNull();
    expect(subs.list()).toEqual([]);
    expect((await subs.delete("p").then(() => "resolved", (e: { code: string }) => e.code))).toBe("not_found");
    expect(() => subs.connect("p")).toThrow(expect.objectContaining({ code: "not_found" }));
  });

  test("a name used again after its subscription (with parked events) was deleted deletes again", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await t.store.append("o-1", "any", [ev("T")]);
    await subs.create("x", { selector: { pattern: "o-*" }, from: "start", settings: { ...fast, retryCountMax: 0 } });
    const [delivery] = await take(subs.connect("x"), 1);
    delivery?.nack("park");
    await waitFor(() => subs.get("x").parkedCount === 1, "the event parked");
    await subs.delete("x");
    expect(await t.store.exists("$parked-x")).toBe(false);
    await subs.create("x", { selector: { pattern: "o-*" }, from: "end" });
    // The parked stream the first one left is soft-deleted: the second delete has nothing to hide.
    await subs.delete("x");
    expect(subs.list()).toEqual([]);
    expect(await t.store.exists("$parked-x")).toBe(false);
  });

  test("a restart resumes after the last acknowledged event", async () => {
    await using t = testStore();
    await t.store.subscriptions.create("proj", { selector: { pattern: "s-*" }, settings: fast });
    for (let i = 0; i < 20; i++) await t.store.append(`s-${i % 2}`, "any", [ev("E", { i })]);
    const first = await take(t.store.subscriptions.connect("proj"), 12);
    // Acknowledged: 0..9, and 11; 10 is not. The checkpoint stops before 10.
    for (const d of first) if (d.event.position !== 10) d.ack();
    expect(t.store.subscriptions.get("proj").checkpoint).toBe(9);
    const store = await t.reopen();
    const again = await take(store.subscriptions.connect("proj"), 10);
    expect(again.map((d) => d.event.position)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    for (const d of again) d.ack();
    expect(store.subscriptions.get("proj")).toMatchObject({ checkpoint: 19, lagEvents: 0, lastAckedPosition: 19, inFlight: 0 });
    const third = await t.reopen();
    expect(third.subscriptions.get("proj").checkpoint).toBe(19);
    const consumer = third.subscriptions.connect("proj");
    await third.append("s-0", "any", [ev("E", { i: 20 })]);
    expect((await take(consumer, 1)).map((d) => d.event.position)).toEqual([20]);
  });

  test("nack retry with back-off, then park after the retry limit, then replay into the subscription", async () => {
    await using t = testStore();
    const { store } = t;
    const subs = store.subscriptions;
    await subs.create("pm", { selector: { stream: "orders" }, settings: { ...fast, retryCountMax: 2 } });
    await store.append("orders", "any", [ev("Good", { n: 0 }), ev("Poison", { n: 1 }), ev("Good", { n: 2 })]);
    const consumer = subs.connect("pm");
    const poisonDeliveries: number[] = [];
    const acked: number[] = [];
    while (poisonDeliveries.length < 3 || acked.length < 2) {
      const d = (await consumer.next()) as Delivery;
      if (d.event.type === "Poison") {
        poisonDeliveries.push(d.retryCount);
        expect(d.nack("retry", "cannot handle")).toBe(true);
      } else {
        expect(d.ack()).toBe(true);
        acked.push(d.event.position);
      }
    }
    expect(poisonDeliveries).toEqual([0, 1, 2]);
    await waitFor(() => subs.get("pm").parkedCount === 1, "the poison event parked");
    const parked = await store.read("$parked-pm");
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ type: "Poison", data: { n: 1 }, metadata: { $parked: { streamId: "orders", version: 1, position: 1, retryCount: 3 } } });
    // Position 3 is the parked copy (in $parked-pm, not in "orders"): the checkpoint passes it
    // once the live fan-out has shown it to the subscription.
    await waitFor(() => subs.get("pm").checkpoint === 3, "the checkpoint passed the parked copy");
    expect(subs.get("pm")).toMatchObject({ checkpoint: 3, inFlight: 0 });
    expect(subs.replayParked("pm")).toBe(1);
    const replayed = (await consumer.next()) as Delivery;
    expect(replayed).toMatchObject({ replayed: true, retryCount: 0 });
    expect(replayed.event).toMatchObject({ streamId: "orders", version: 1, position: 1, type: "Poison", data: { n: 1 } });
    expect(replayed.ack()).toBe(true);
    expect(subs.get("pm").parkedCount).toBe(0);
    const text = store.prometheusText();
    const total = (name: string) => Number(new RegExp(`edge_esdb_subscription_${name}_total\\{subscription="pm"\\} (\\d+)`).exec(text)?.[1]);
    expect(["delivered", "redelivered", "acked", "nacked_retry", "parked", "skipped", "timed_out"].map(total)).toEqual([6, 2, 3, 3, 1, 0, 0]);
    // Replayed and acknowledged: a restart does not bring it back.
    const reopened = await t.reopen();
    expect(reopened.subscriptions.get("pm").parkedCount).toBe(0);
    expect(reopened.subscriptions.replayParked("pm")).toBe(0);
  });

  test("nack park and skip resolve at once; a stale ack is refused", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await subs.create("x", { selector: { pattern: "*" }, settings: fast });
    await t.store.append("a", "any", [ev("P"), ev("S"), ev("A")]);
    const consumer = subs.connect("x");
    const [p, s, a] = (await take(consumer, 3)) as [Delivery, Delivery, Delivery];
    expect(p.nack("park", "bad shape")).toBe(true);
    expect(s.nack("skip")).toBe(true);
    expect(s.ack()).toBe(false);
    expect(a.ack()).toBe(true);
    // Positions 0..2 resolved, and 3 (the parked copy, a $-stream) is not the subscription's.
    await waitFor(() => subs.get("x").checkpoint === 3, "every event resolved");
    expect(subs.get("x").parkedCount).toBe(1);
    expect((await t.store.read("$parked-x"))[0]?.metadata).toMatchObject({ $parked: { reason: "bad shape", position: 0 } });
  });

  test("an event not acknowledged in time is delivered again", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await subs.create("slow", { selector: { pattern: "*" }, settings: { ...fast, ackTimeoutMs: 20, retryCountMax: 5 } });
    await t.store.append("a", "any", [ev("A")]);
    const consumer = subs.connect("slow");
    const first = (await consumer.next()) as Delivery;
    expect(first.retryCount).toBe(0);
    const second = (await consumer.next()) as Delivery;
    expect(second.event.id).toBe(first.event.id);
    expect(second.retryCount).toBe(1);
    expect(first.ack()).toBe(false);
    expect(second.ack()).toBe(true);
    expect(subs.get("slow").checkpoint).toBe(0);
  });

  test("the in-flight limit holds back deliveries until one is acknowledged", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await subs.create("lim", { selector: { pattern: "*" }, settings: { ...fast, inFlightMax: 5 } });
    await t.store.append("a", "any", Array.from({ length: 20 }, () => ev("E")));
    const consumer = subs.connect("lim");
    const five = await take(consumer, 5);
    await waitFor(() => subs.get("lim").buffered > 0, "events buffered ahead");
    expect(consumer.inFlightCount).toBe(5);
    expect(subs.get("lim").inFlight).toBe(5);
    five[0]?.ack();
    const sixth = (await consumer.next()) as Delivery;
    expect(sixth.event.position).toBe(5);
    expect(consumer.inFlightCount).toBe(5);
  });

  test("competing consumers get each event once between them, round robin", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await subs.create("work", { selector: { eventType: "Job" }, settings: { ...fast, inFlightMax: 4 } });
    const byConsumer: number[][] = [[], [], []];
    const consumers = byConsumer.map((seen) =>
      subs.connect("work", {
        handler: async (d) => {
          seen.push(d.event.position);
          if (d.event.position % 5 === 0) await Bun.sleep(0);
        },
      }),
    );
    const total = 300;
    for (let i = 0; i < total; i += 10) await t.store.append(`job-${i % 4}`, "any", Array.from({ length: 10 }, () => ev("Job")));
    await waitFor(() => subs.get("work").checkpoint === total - 1, "every job acknowledged");
    const all = byConsumer.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
    for (const seen of byConsumer) expect(seen.length).toBeGreaterThan(total / 10);
    for (const c of consumers) c.close();
  });

  test("a consumer that leaves hands back its unacknowledged events: nothing is lost", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await subs.create("hand", { selector: { pattern: "*" }, settings: { ...fast, inFlightMax: 10 } });
    await t.store.append("a", "any", Array.from({ length: 30 }, (_, i) => ev("E", { i })));
    const leaver = subs.connect("hand");
    const taken = await take(leaver, 10);
    taken.slice(0, 3).forEach((d) => d.ack());
    const stayer = subs.connect("hand");
    leaver.close();
    const rest: RecordedEvent[] = [];
    for await (const d of stayer) {
      rest.push(d.event);
      d.ack();
      if (rest.length === 27) break;
    }
    expect(rest.map((e) => e.position).sort((a, b) => a - b)).toEqual(Array.from({ length: 27 }, (_, i) => i + 3));
    expect(taken[5]?.ack()).toBe(false);
    expect(subs.get("hand")).toMatchObject({ checkpoint: 29, inFlight: 0, consumers: 0 });
  });

  test("a subscription whose reads fail reports stalled (and logs), instead of catching up for ever", async () => {
    const clock = manualClock();
    await using t = testStore({ clock: clock.now });
    await t.store.append("a", "any", [ev("E"), ev("E")]);
    // A damaged row (say, a bad sector) makes every read past it fail.
    t.store.database.run("UPDATE events SET data = '{not json' WHERE position = 0");
    const subs = t.store.subscriptions;
    await subs.create("broken", { selector: { pattern: "*" }, settings: { ...fast, stalledAfterMs: 1000 } });
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args[0]);
    try {
      const consumer = subs.connect("broken");
      await waitFor(() => logged.length > 0, "the failure is logged");
      clock.advance(1001);
      expect(subs.get("broken")).toMatchObject({ state: "stalled", lagEvents: 2 });
      expect(String(logged[0])).toContain("persistent subscription 'broken' stopped reading events");
      consumer.close();
    } finally {
      console.error = original;
    }
  });

  test("a subscription whose reads failed reads again once the fault is gone, and loses nothing", async () => {
    await using t = testStore();
    await t.store.append("a", "any", [ev("E"), ev("E"), ev("E")]);
    const good = (t.store.database.query("SELECT data FROM events WHERE position = 1").get() as { data: string }).data;
    t.store.database.run("UPDATE events SET data = '{not json' WHERE position = 1");
    const subs = t.store.subscriptions;
    await subs.create("flaky", { selector: { pattern: "*" }, settings: { ...fast, stalledAfterMs: 1000 } });
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(String(args[0]));
    try {
      const consumer = subs.connect("flaky");
      await waitFor(() => logged.some((l) => l.includes("stopped reading events")), "the failure is logged");
      // Reads keep failing for a while (several reopen attempts), and are logged once.
      await Bun.sleep(400);
      expect(logged.filter((l) => l.includes("stopped reading events"))).toHaveLength(1);
      t.store.database.run("UPDATE events SET data = ? WHERE position = 1", [good]);
      const seen: number[] = [];
      while (seen.length < 3) {
        const d = (await consumer.next()) as Delivery;
        seen.push(d.event.position);
        d.ack();
      }
      expect(seen).toEqual([0, 1, 2]);
      await t.store.append("a", "any", [ev("E")]);
      const live = (await consumer.next()) as Delivery;
      expect(live.event.position).toBe(3);
      live.ack();
      expect(logged.some((l) => l.includes("'flaky' reads events again"))).toBe(true);
      await waitFor(() => subs.get("flaky").state === "live", "live again");
      consumer.close();
    } finally {
      console.error = original;
    }
  });

  test("health: paused without consumers, live, stalled without progress, catching up; memory bounded without consumers", async () => {
    const clock = manualClock();
    await using t = testStore({ clock: clock.now });
    const subs = t.store.subscriptions;
    await subs.create("h", { selector: { pattern: "*" }, settings: { ...fast, stalledAfterMs: 1000, bufferCount: 50 } });
    expect(subs.get("h").state).toBe("paused");
    const consumer = subs.connect("h");
    await waitFor(() => subs.get("h").state === "live", "live");
    await t.store.append("a", "any", [ev("E")]);
    const d = (await consumer.next()) as Delivery;
    expect(subs.get("h")).toMatchObject({ state: "live", inFlight: 1, lagEvents: 1 });
    clock.advance(1001);
    expect(subs.get("h").state).toBe("stalled");
    d.ack();
    expect(subs.get("h")).toMatchObject({ state: "live", inFlight: 0, lagEvents: 0, lastAckedPosition: 0, lastAckedAt: new Date(clock.now()).toISOString() });
    consumer.close();
    for (let i = 0; i < 40; i++) await t.store.append("a", "any", Array.from({ length: 50 }, () => ev("E")));
    await waitFor(() => subs.get("h").buffered === 50, "buffer filled");
    const health = subs.get("h");
    expect(health).toMatchObject({ state: "paused", buffered: 50, lagEvents: 2000 });
    const again = subs.connect("h", { inFlightMax: 1 });
    (await again.next())?.ack();
    expect(subs.get("h").state).toBe("catching_up");
    again.close();
  });

  test("progress is saved with health, for inspection from another process", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await subs.create("r", { selector: { pattern: "*" }, settings: fast });
    await t.store.append("a", "any", [ev("E"), ev("E")]);
    const consumer = subs.connect("r");
    (await consumer.next())?.ack();
    await subs.flush();
    const { reportSubscriptions } = await import("../../../src/subscriptions/index.ts");
    expect(reportSubscriptions(t.store)).toEqual([
      expect.objectContaining({ name: "r", selectorType: "pattern", checkpoint: 0, lagEvents: 1, lastAckedPosition: 0, consumers: 1, state: "live" }),
    ]);
  });
});

describe("pause and resume", () => {
  test("a paused subscription buffers but delivers nothing until resumed", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    await subs.create("pz", { selector: { pattern: "*" }, settings: fast });
    const consumer = subs.connect("pz");
    subs.pause("pz");
    expect(subs.get("pz").state).toBe("paused");
    await t.store.append("a", "any", [ev("A"), ev("B")]);
    await waitFor(() => subs.get("pz").buffered === 2, "events buffered while paused");
    expect(consumer.inFlightCount).toBe(0);
    subs.resume("pz");
    const got = await take(consumer, 2);
    expect(got.map((d) => d.event.type)).toEqual(["A", "B"]);
    expect(subs.get("pz").state).toBe("live");
  });
});

describe("persistent subscriptions under a stuck consumer", () => {
  test("a consumer that never acknowledges stops neither the writer nor a healthy subscription, and memory stays bounded", async () => {
    await using t = testStore();
    const subs = t.store.subscriptions;
    const settings = { ...fast, inFlightMax: 8, bufferCount: 64 };
    await subs.create("stuck", { selector: { pattern: "*" }, settings });
    await subs.create("healthy", { selector: { pattern: "*" }, settings });
    subs.connect("stuck", { handler: () => new Promise<void>(() => {}) });
    let handled = 0;
    subs.connect("healthy", { handler: () => void handled++ });
    const total = 3000;
    let maxBuffered = 0;
    const watch = t.store.onCommitted(() => {
      maxBuffered = Math.max(maxBuffered, subs.get("stuck").buffered);
    });
    for (let i = 0; i < total; i += 10) await t.store.append(`s-${i % 3}`, "any", Array.from({ length: 10 }, () => ev("E")));
    expect(t.store.headPosition).toBe(total);
    await waitFor(() => subs.get("healthy").checkpoint === total - 1, "the healthy subscription acknowledged everything");
    expect(handled).toBe(total);
    const stuck = subs.get("stuck");
    expect(stuck.inFlight).toBe(8);
    expect(stuck.buffered).toBeLessThanOrEqual(64);
    expect(maxBuffered).toBeLessThanOrEqual(64);
    expect(stuck.checkpoint).toBe(-1);
    expect(stuck.lagEvents).toBe(total);
    watch();
  });
});

describe("retry back-off", () => {
  test("doubles from the minimum up to the cap", async () => {
    const { retryDelayMs } = await import("../../../src/subscriptions/persistent.ts");
    const settings = { retryBackoffMsMin: 100, retryBackoffMsMax: 1000 };
    expect([1, 2, 3, 4, 5, 60].map((n) => retryDelayMs(n, settings))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(retryDelayMs(3, { retryBackoffMsMin: 0, retryBackoffMsMax: 0 })).toBe(0);
  });
});

describe("saved health", () => {
  test("a subscription that stalls is saved as stalled, so inspection from another process sees it", async () => {
    const clock = manualClock();
    await using t = testStore({ clock: clock.now });
    const subs = t.store.subscriptions;
    await subs.create("st", { selector: { pattern: "*" }, settings: { ...fast, stalledAfterMs: 1000 } });
    const { reportSubscriptions } = await import("../../../src/subscriptions/index.ts");
    const consumer = subs.connect("st");
    await t.store.append("a", "any", [ev("E")]);
    const d = (await consumer.next()) as Delivery;
    await waitFor(() => reportSubscriptions(t.store)[0]?.state === "live", "saved as live");
    clock.advance(1001);
    await waitFor(() => reportSubscriptions(t.store)[0]?.state === "stalled", "saved as stalled");
    expect(reportSubscriptions(t.store)[0]).toMatchObject({ inFlight: 1, consumers: 1, lagEvents: 1 });
    d.ack();
    consumer.close();
    await waitFor(() => reportSubscriptions(t.store)[0]?.state === "paused", "saved as paused once the consumer left");
    expect(reportSubscriptions(t.store)[0]).toMatchObject({ inFlight: 0, consumers: 0, lagEvents: 0, checkpoint: 0 });
  });
});
