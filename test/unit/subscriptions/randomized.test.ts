// Seeded random runs (the seed, in the test name, fixes every choice; timers still vary).
// Catch-up subscribers with random buffers, filters and paces against writers with random
// batches must see exactly the store's filtered order. A persistent subscription whose consumers
// randomly ack, nack (retry, park, skip), hold deliveries and ack them late (after their timeout
// such an ack is refused), and leave and rejoin, must resolve every event exactly once.

import { describe, expect, test } from "bun:test";
import { Prng } from "../../../src/lib/index.ts";
import type { Delivery, EventFilter, PersistentConsumer, RecordedEvent, Store } from "../../../src/index.ts";
import { ev, testStore, waitFor } from "./helpers.ts";

const seeds = [1, 2, 3, 4, 5];

async function writeRandomly(store: Store, prng: Prng, total: number): Promise<void> {
  let written = 0;
  while (written < total) {
    const count = Math.min(total - written, prng.int(1, 20));
    const stream = `${prng.pick(["order", "user", "cart"])}-${prng.int(0, 3)}`;
    await store.append(stream, "any", Array.from({ length: count }, () => ev(prng.pick(["Placed", "Paid", "Shipped"]), { n: written })));
    written += count;
    if (prng.chance(0.3)) await Bun.sleep(0);
  }
}

describe("randomized catch-up", () => {
  for (const seed of seeds) {
    test(`seed ${seed}: random buffers, filters and paces see exactly the store's order`, async () => {
      const prng = new Prng(seed);
      await using t = testStore();
      const { store } = t;
      await writeRandomly(store, prng, prng.int(0, 300));
      const filters: EventFilter[] = [{}, { eventTypes: ["Paid"] }, { streamPattern: "order-*" }, { eventTypes: ["Placed", "Shipped"], streamPrefix: "user-" }];
      const subscribers = Array.from({ length: 4 }, () => {
        const filter = prng.pick(filters);
        const sub = store.subscriptions.subscribeToAll({ filter, bufferCount: prng.int(1, 40) });
        return { filter, sub, got: [] as RecordedEvent[], pace: prng.fork() };
      });
      const total = 600;
      const writing = writeRandomly(store, prng, total);
      const reading = subscribers.map(async (s) => {
        // Ends when the subscription is closed (next() gives null).
        for (let next = await s.sub.next(); next !== null; next = await s.sub.next()) {
          s.got.push(next);
          if (s.pace.chance(0.2)) await Bun.sleep(0);
          if (s.pace.chance(0.02)) await Bun.sleep(2);
        }
      });
      await writing;
      for (const s of subscribers) {
        const expected = (await store.readAll({ filter: s.filter, limit: 10_000 })).map((e) => e.position);
        await waitFor(() => s.got.length >= expected.length, `seed ${seed}: subscriber received ${expected.length}`);
        expect(s.got.map((e) => e.position)).toEqual(expected);
      }
      for (const s of subscribers) s.sub.close();
      await Promise.all(reading);
    });
  }
});

describe("randomized persistent", () => {
  for (const seed of seeds) {
    test(`seed ${seed}: random acks, nacks, timeouts and consumers leaving resolve every event exactly once`, async () => {
      const prng = new Prng(seed);
      await using t = testStore();
      const { store } = t;
      const subs = store.subscriptions;
      await subs.create("r", {
        selector: { pattern: "*" },
        settings: { ackTimeoutMs: 25, retryCountMax: 3, retryBackoffMsMin: 1, retryBackoffMsMax: 4, inFlightMax: prng.int(1, 8), checkpointIntervalMs: 0 },
      });
      const resolved = new Map<number, number>();
      const note = (position: number, ok: boolean) => {
        if (ok) resolved.set(position, (resolved.get(position) ?? 0) + 1);
      };
      let stopping = false;
      const current: PersistentConsumer[] = [];
      const held: Delivery[] = [];
      const loop = async (id: number, rng: Prng) => {
        let consumer: PersistentConsumer = subs.connect("r");
        current[id] = consumer;
        while (!stopping) {
          // Ends when the test closes the consumer (next() gives null).
          const d = await consumer.next();
          if (d === null) break;
          const roll = rng.nextFloat();
          // Acks and skips are counted here; parks (asked for, or by the retry limit) by the parked stream.
          if (roll < 0.7) note(d.event.position, d.ack());
          else if (roll < 0.78) d.nack("retry", `consumer ${id}`);
          else if (roll < 0.82) d.nack("park", `consumer ${id}`);
          else if (roll < 0.86) note(d.event.position, d.nack("skip"));
          else if (roll < 0.93) {
            // Held: acknowledged later, maybe after its timeout took it back (then the ack is refused).
            held.push(d);
          } else {
            consumer.close();
            consumer = subs.connect("r");
            current[id] = consumer;
          }
          if (held.length > 0 && rng.chance(0.3)) {
            const late = held.splice(rng.int(0, held.length - 1), 1)[0] as Delivery;
            if (rng.chance(0.5)) await Bun.sleep(rng.int(0, 30));
            note(late.event.position, late.ack());
          }
          if (rng.chance(0.1)) await Bun.sleep(0);
        }
        consumer.close();
      };
      const loops = [0, 1, 2].map((id) => loop(id, prng.fork()));
      const total = 200;
      await writeRandomly(store, prng, total);
      // Done when every event of the subscription is resolved: the checkpoint passed the head
      // (the parked copies are in a $-stream, not the subscription's).
      await waitFor(() => subs.get("r").checkpoint === store.headPosition - 1 && subs.get("r").inFlight === 0, `seed ${seed}: everything resolved`);
      stopping = true;
      for (const consumer of current) consumer.close();
      await Promise.all(loops);
      const parked = await store.read("$parked-r").catch(() => [] as RecordedEvent[]);
      const parkedPositions = new Map<number, number>();
      for (const p of parked) {
        const position = (p.metadata as { $parked: { position: number } }).$parked.position;
        parkedPositions.set(position, (parkedPositions.get(position) ?? 0) + 1);
      }
      // The subscription's events: every event but the parked copies (interleaved in $parked-r).
      const positions = (await store.readAll({ limit: 10_000 })).filter((e) => !e.streamId.startsWith("$")).map((e) => e.position);
      expect(positions).toHaveLength(total);
      for (const position of positions) {
        // Acknowledged, skipped or parked: exactly one of them, exactly once.
        const resolutions = (resolved.get(position) ?? 0) + (parkedPositions.get(position) ?? 0);
        expect({ position, resolutions }).toEqual({ position, resolutions: 1 });
      }
      expect(subs.get("r").parkedCount).toBe(parked.length);
    });
  }
});
