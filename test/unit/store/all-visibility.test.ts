// $all shows exactly what the stream reads show: after random appends, soft and hard deletes,
// rewrites, retention (maxCount, maxAgeMs, truncateBefore), scavenges and a moving clock, every
// $all read (forward, backward, paged, filtered) equals the union of the streams' own reads.

import { describe, expect, test } from "bun:test";
import { Prng } from "../../../src/lib/index.ts";
import type { RecordedEvent } from "../../../src/index.ts";
import { matchesPayload } from "../../../src/events/index.ts";
import { tempStore } from "../../helpers/temp.ts";

const streamIds = ["a-1", "a-2", "b-1", "b-2", "c-1", "c-2"];

async function visibleByStreams(store: ReturnType<typeof tempStore>["store"], ids: readonly string[] = streamIds): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (const streamId of ids) {
    try {
      all.push(...(await store.read(streamId, { limit: 10_000 })));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "stream_not_found" && code !== "stream_deleted") throw error;
    }
  }
  return all.sort((x, y) => x.position - y.position);
}

type Filter = NonNullable<NonNullable<Parameters<ReturnType<typeof tempStore>["store"]["readAll"]>[0]>["filter"]>;

async function pagedAll(store: ReturnType<typeof tempStore>["store"], direction: "forward" | "backward", limit: number, filter?: Filter): Promise<number[]> {
  const positions: number[] = [];
  let from = direction === "forward" ? 0 : -1;
  for (;;) {
    const page = await store.readAll({ fromPosition: from, limit, direction, ...(filter === undefined ? {} : { filter }) });
    positions.push(...page.map((e) => e.position));
    const last = page[page.length - 1];
    if (page.length < limit || last === undefined) return positions;
    from = direction === "forward" ? last.position + 1 : last.position - 1;
    if (from < 0) return positions;
  }
}

describe("$all visibility", () => {
  test("a read past many hidden events (deleted streams not yet scavenged) finds the visible ones around them", async () => {
    await using t = tempStore();
    await t.store.append("kept", "any", [{ type: "K", data: { n: 0 } }]);
    // 600 one-event streams, soft-deleted, between visible events; then the same hard-deleted.
    for (let i = 0; i < 600; i++) await t.store.append(`gone-${i}`, "any", [{ type: "G", data: { i } }]);
    for (let i = 0; i < 600; i++) await t.store.delete(`gone-${i}`, "any", { hard: i % 2 === 0 });
    await t.store.append("kept", "any", [{ type: "K", data: { n: 1 } }]);
    await t.store.append("capped", "any", Array.from({ length: 700 }, (_, n) => ({ type: "C", data: { n } })));
    await t.store.setStreamMetadata("capped", { maxCount: 3 });
    await t.store.append("kept", "any", [{ type: "K", data: { n: 2 } }]);
    const expected = (await visibleByStreams(t.store, ["kept", "capped"])).map((e) => e.position);
    expect(expected).toHaveLength(6);
    for (const limit of [1, 2, 6, 1000]) {
      expect({ limit, forward: await pagedAll(t.store, "forward", limit) }).toEqual({ limit, forward: expected });
      expect({ limit, backward: await pagedAll(t.store, "backward", limit) }).toEqual({ limit, backward: [...expected].reverse() });
    }
    // capped's n: 2 is hidden by maxCount; its n: 698 is one of the three it keeps.
    expect((await t.store.readAll({ filter: { payload: { n: 2 } } })).map((e) => e.streamId)).toEqual(["kept"]);
    expect((await t.store.readAll({ filter: { payload: { n: 698 } }, direction: "backward" })).map((e) => e.version)).toEqual([698]);
  });

  test("a payload filter only JavaScript can check, over many streams, still finds its rare match", async () => {
    await using t = tempStore();
    // Arrays are not checked in SQL: every event reaches matchesPayload, and only the last matches.
    for (let i = 0; i < 700; i++) await t.store.append(`s-${i}`, "any", [{ type: "T", data: { tags: i === 650 ? ["b"] : ["a"] } }]);
    await t.store.delete("s-3", "any");
    const filter = { payload: { tags: ["b"] } };
    expect((await t.store.readAll({ filter, limit: 10 })).map((e) => e.streamId)).toEqual(["s-650"]);
    expect((await t.store.readAll({ filter, limit: 10, direction: "backward" })).map((e) => e.streamId)).toEqual(["s-650"]);
    expect((await t.store.readAllEncoded({ filter, limit: 1, fromPosition: 100 })).map((e) => e.position)).toEqual([650]);
    expect(await t.store.readAll({ filter, fromPosition: 651 })).toEqual([]);
  });

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`seed ${seed}: every $all read equals the union of the stream reads`, async () => {
      const prng = new Prng(seed);
      let now = 1_000_000;
      await using t = tempStore({ clock: () => now });
      for (let step = 0; step < 120; step++) {
        const streamId = prng.pick(streamIds);
        const roll = prng.nextFloat();
        try {
          if (roll < 0.6) {
            const count = prng.int(1, 40);
            await t.store.append(streamId, "any", Array.from({ length: count }, (_, i) => ({ type: prng.pick(["Placed", "Paid"]), data: { step, i, even: i % 2 === 0 } })));
          } else if (roll < 0.68) {
            await t.store.delete(streamId, "any");
          } else if (roll < 0.7) {
            await t.store.delete(streamId, "any", { hard: true });
          } else if (roll < 0.85) {
            const metadata: { maxCount?: number; maxAgeMs?: number; truncateBefore?: number } = {};
            if (prng.chance(0.5)) metadata.maxCount = prng.int(1, 30);
            if (prng.chance(0.4)) metadata.maxAgeMs = prng.int(1, 20) * 1000;
            if (prng.chance(0.3)) metadata.truncateBefore = prng.int(0, 60);
            await t.store.setStreamMetadata(streamId, metadata);
          } else if (roll < 0.9) {
            await t.store.scavenge();
          } else {
            now += prng.int(1, 5) * 1000;
          }
        } catch (error) {
          // Writes to a hard-deleted stream, and deletes of a stream not there, fail: part of the history too.
          const code = (error as { code?: string }).code;
          if (code !== "stream_deleted" && code !== "stream_not_found") throw error;
        }
        if (step % 20 !== 19) continue;
        const expected = await visibleByStreams(t.store);
        const positions = expected.map((e) => e.position);
        expect(await t.store.readAll({ limit: 10_000 })).toEqual(expected);
        expect((await t.store.readAllEncoded({ limit: 10_000 })).map((e) => e.position)).toEqual(positions);
        for (const limit of [1, 7, 100]) {
          expect(await pagedAll(t.store, "forward", limit)).toEqual(positions);
          expect(await pagedAll(t.store, "backward", limit)).toEqual([...positions].reverse());
        }
        const byType = expected.filter((e) => e.type === "Paid").map((e) => e.position);
        expect(await pagedAll(t.store, "forward", 5, { eventTypes: ["Paid"] })).toEqual(byType);
        const byPrefix = expected.filter((e) => e.streamId.startsWith("b-")).map((e) => e.position);
        expect(await pagedAll(t.store, "backward", 5, { streamPrefix: "b-" })).toEqual([...byPrefix].reverse());
        const byPayload = expected.filter((e) => matchesPayload({ even: true }, e.data)).map((e) => e.position);
        expect(await pagedAll(t.store, "forward", 9, { payload: { even: true } })).toEqual(byPayload);
      }
    });
  }
});
