// Snapshots, folds, retention metadata and scavenge, the data-dir lock and read-only opening.

import { describe, expect, test } from "bun:test";
import { openStore, type RecordedEvent } from "../../../src/index.ts";
import { event, rejection, tempStore } from "../../helpers/temp.ts";

const sum = (total: number, e: RecordedEvent) => total + (e.data as { n: number }).n;

describe("snapshots", () => {
  test("save, load latest and by version, list, delete", async () => {
    await using t = tempStore();
    await t.store.append("acc", "any", Array.from({ length: 6 }, (_, i) => event("Deposited", { n: i })));
    await t.store.snapshots.save("acc", 2, 3, { reason: "periodic" });
    await t.store.snapshots.save("acc", 4, 10);
    expect((await t.store.snapshots.load("acc")).version).toBe(4);
    expect(await t.store.snapshots.load("acc", 2)).toMatchObject({ streamId: "acc", version: 2, data: 3, metadata: { reason: "periodic" } });
    expect((await t.store.snapshots.list("acc")).map((s) => s.version)).toEqual([4, 2]);
    await t.store.snapshots.delete("acc", 4);
    expect((await t.store.snapshots.load("acc")).version).toBe(2);
    expect((await rejection(t.store.snapshots.load("acc", 4))).code).toBe("not_found");
    expect((await rejection(t.store.snapshots.delete("acc", 4))).code).toBe("not_found");
  });

  test("a snapshot must name a version the stream has", async () => {
    await using t = tempStore();
    expect((await rejection(t.store.snapshots.save("none", 0, {}))).code).toBe("stream_not_found");
    await t.store.append("s", "any", [event()]);
    expect((await rejection(t.store.snapshots.save("s", 5, {}))).message).toMatch(/last version is 0/);
  });

  test("a soft delete ends the stream's snapshots: the rewritten stream folds from its new events only", async () => {
    await using t = tempStore();
    await t.store.append("acc", "no_stream", [event("D", { n: 5 }), event("D", { n: 7 })]);
    await t.store.snapshots.save("acc", 1, 12);
    await t.store.delete("acc", 1);
    // Deleted: no snapshot, and folds agree that the stream does not exist.
    expect((await rejection(t.store.snapshots.load("acc"))).code).toBe("not_found");
    expect(await t.store.snapshots.list("acc")).toEqual([]);
    expect(await t.store.foldFromSnapshot("acc", sum, 0)).toEqual({ state: 0, version: -1, streamExists: false });
    expect(await t.store.foldFromSnapshot("acc", sum, 0)).toEqual(await t.store.fold("acc", sum, 0));
    expect((await rejection(t.store.snapshots.save("acc", 1, 12))).code).toBe("stream_not_found");
    // Written again: the new life starts at version 2, and the old snapshot stays out of it.
    await t.store.append("acc", "any", [event("D", { n: 100 })]);
    expect(await t.store.fold("acc", sum, 0)).toEqual({ state: 100, version: 2, streamExists: true });
    expect(await t.store.foldFromSnapshot("acc", sum, 0)).toEqual({ state: 100, version: 2, streamExists: true });
    expect((await rejection(t.store.snapshots.load("acc", 1))).code).toBe("not_found");
    expect((await rejection(t.store.snapshots.delete("acc", 1))).code).toBe("not_found");
    expect((await rejection(t.store.snapshots.save("acc", 1, 12))).message).toMatch(/versions before 2 were deleted/);
    await t.store.snapshots.save("acc", 2, 100);
    expect((await t.store.snapshots.list("acc")).map((s) => s.version)).toEqual([2]);
    expect((await t.store.snapshots.load("acc")).data).toBe(100);
    // Scavenge removes the dead snapshot's row and keeps the live one.
    expect((await t.store.scavenge()).snapshotsRemoved).toBe(1);
    expect(t.store.database.query("SELECT version FROM snapshots").values()).toEqual([[2]]);
  });

  test("after a hard delete every snapshot call fails with stream_deleted", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [event(), event()]);
    await t.store.snapshots.save("s", 1, { n: 1 });
    await t.store.delete("s", "any", { hard: true });
    for (const call of [t.store.snapshots.load("s"), t.store.snapshots.load("s", 1), t.store.snapshots.list("s"), t.store.snapshots.delete("s", 1), t.store.snapshots.save("s", 1, {})]) {
      expect((await rejection(call)).code).toBe("stream_deleted");
    }
  });

  test("bytes snapshots keep their bytes", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [event()]);
    await t.store.snapshots.save("s", 0, new Uint8Array([9, 8, 7]));
    expect((await t.store.snapshots.load("s")).data).toEqual(new Uint8Array([9, 8, 7]));
  });
});

describe("folds", () => {
  test("fold runs the reducer over every event in order", async () => {
    await using t = tempStore();
    await t.store.append("acc", "any", Array.from({ length: 5 }, (_, i) => event("Deposited", { n: i + 1 })));
    expect(await t.store.fold("acc", sum, 0)).toEqual({ state: 15, version: 4, streamExists: true });
  });

  test("fold of a stream never written gives the initial state and version -1", async () => {
    await using t = tempStore();
    expect(await t.store.fold("none", sum, 7)).toEqual({ state: 7, version: -1, streamExists: false });
  });

  test("fold pages through long streams", async () => {
    await using t = tempStore();
    for (let i = 0; i < 3; i++) await t.store.append("long", "any", Array.from({ length: 9000 }, () => event("D", { n: 1 })));
    expect(await t.store.fold("long", sum, 0)).toEqual({ state: 27_000, version: 26_999, streamExists: true });
  });

  test("foldFromSnapshot starts from the latest snapshot and folds only what came after", async () => {
    await using t = tempStore();
    await t.store.append("acc", "any", Array.from({ length: 5 }, (_, i) => event("Deposited", { n: i + 1 })));
    // A snapshot that disagrees with the events shows which were folded: 100 + 4 + 5.
    await t.store.snapshots.save("acc", 2, 100);
    expect(await t.store.foldFromSnapshot("acc", sum, 0)).toEqual({ state: 109, version: 4, streamExists: true });
    await t.store.snapshots.delete("acc", 2);
    expect((await t.store.foldFromSnapshot("acc", sum, 0)).state).toBe(15);
  });
});

describe("retention and scavenge", () => {
  test("after a scavenge, lifting a retention does not bring the emptied events back, in reads or in streams()", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", Array.from({ length: 20 }, () => event()));
    await t.store.setStreamMetadata("s", { maxCount: 5 });
    expect((await t.store.scavenge()).eventsRemoved).toBe(15);
    await t.store.setStreamMetadata("s", {});
    expect((await t.store.read("s")).map((e) => e.version)).toEqual([15, 16, 17, 18, 19]);
    expect((await t.store.streams()).streams).toEqual([{ streamId: "s", version: 19, eventCount: 5 }]);
    await t.store.append("s", "any", [event()]);
    expect((await t.store.streams()).streams).toEqual([{ streamId: "s", version: 20, eventCount: 6 }]);
  });

  test("maxCount keeps the newest events visible", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", Array.from({ length: 10 }, () => event()));
    await t.store.setStreamMetadata("s", { maxCount: 3 });
    expect((await t.store.read("s")).map((e) => e.version)).toEqual([7, 8, 9]);
    expect((await t.store.readAll()).map((e) => e.version)).toEqual([7, 8, 9]);
    expect((await t.store.streams()).streams[0]).toEqual({ streamId: "s", version: 9, eventCount: 3 });
    expect(await t.store.getStreamMetadata("s")).toEqual({ maxCount: 3 });
  });

  test("truncateBefore hides lower versions; maxAgeMs hides old events", async () => {
    let now = 1_000_000;
    await using t = tempStore({ clock: () => now });
    await t.store.append("s", "any", [event(), event()]);
    now += 60_000;
    await t.store.append("s", "any", [event(), event()]);
    await t.store.setStreamMetadata("s", { truncateBefore: 1 });
    expect((await t.store.read("s")).map((e) => e.version)).toEqual([1, 2, 3]);
    expect((await t.store.streams()).streams).toEqual([{ streamId: "s", version: 3, eventCount: 3 }]);
    await t.store.setStreamMetadata("s", { maxAgeMs: 30_000 });
    expect((await t.store.read("s")).map((e) => e.version)).toEqual([2, 3]);
    expect((await t.store.streams()).streams).toEqual([{ streamId: "s", version: 3, eventCount: 2 }]);
    expect((await t.store.read("s", { direction: "backward" })).map((e) => e.version)).toEqual([3, 2]);
    expect((await t.store.readEncoded("s", { direction: "backward", from: 3 })).map((e) => e.version)).toEqual([3, 2]);
    expect((await t.store.read("s", { maxBytes: 1 })).map((e) => e.version)).toEqual([2]);
    now += 60_000;
    expect(await t.store.read("s")).toEqual([]);
    expect((await t.store.streams()).streams).toEqual([{ streamId: "s", version: 3, eventCount: 0 }]);
    expect(await t.store.read("s", { direction: "backward" })).toEqual([]);
    // Without maxAgeMs again, nothing is hidden by age.
    await t.store.setStreamMetadata("s", { truncateBefore: 1 });
    expect((await t.store.read("s", { direction: "backward" })).map((e) => e.version)).toEqual([3, 2, 1]);
  });

  test("scavenge reclaims what deletes and retention hid, and keeps the rest", async () => {
    await using t = tempStore();
    const big = { blob: "z".repeat(4000) };
    await t.store.append("gone", "any", Array.from({ length: 500 }, () => event("Big", big)));
    await t.store.append("kept", "any", Array.from({ length: 10 }, (_, i) => event("Small", { i })));
    await t.store.append("trimmed", "any", Array.from({ length: 10 }, (_, i) => event("Small", { i })));
    await t.store.snapshots.save("gone", 499, { total: 1 });
    await t.store.setStreamMetadata("trimmed", { maxCount: 2 });
    await t.store.delete("gone", "any", { hard: true });
    const result = await t.store.scavenge();
    expect(result.eventsRemoved).toBe(508);
    expect(result.snapshotsRemoved).toBe(1);
    expect(result.fileBytesAfter).toBeLessThan(result.fileBytesBefore / 2);
    expect((await t.store.read("kept")).length).toBe(10);
    expect((await t.store.read("trimmed")).map((e) => e.version)).toEqual([8, 9]);
    // Lifting the retention after a scavenge does not bring back what was reclaimed.
    await t.store.setStreamMetadata("trimmed", {});
    expect((await t.store.read("trimmed")).map((e) => e.version)).toEqual([8, 9]);
    // Positions never go back.
    expect((await t.store.append("new", "any", [event()])).position).toBe(520);
    expect((await t.store.scavenge()).eventsRemoved).toBe(0);
  });

  test("scavenge reaches hidden events all through a log longer than one step, and leaves the visible ones", async () => {
    let now = 1_000_000;
    await using t = tempStore({ clock: () => now });
    // 24,000 events in batches that interleave five streams, so each stream's events are spread
    // over every part of the log that scavenge examines step by step.
    for (let round = 0; round < 24; round++) {
      for (const streamId of ["gone", "soft", "capped", "aged", "kept"]) {
        const count = streamId === "kept" ? 200 : 200 + (round % 3);
        await t.store.append(streamId, "any", Array.from({ length: count }, (_, i) => event("E", { round, i })));
      }
      now += 1_000;
    }
    const lastVersion = { gone: await t.store.version("gone"), soft: await t.store.version("soft"), capped: await t.store.version("capped"), aged: await t.store.version("aged") };
    await t.store.delete("gone", "any", { hard: true });
    await t.store.delete("soft", "any");
    await t.store.setStreamMetadata("capped", { maxCount: 250 });
    await t.store.setStreamMetadata("aged", { maxAgeMs: 2_500 });
    const agedVisible = (await t.store.read("aged", { limit: 10_000 })).map((e) => e.version);
    const cappedVisible = (await t.store.read("capped", { limit: 10_000 })).map((e) => e.version);
    const keptBefore = await t.store.read("kept", { limit: 10_000 });
    const total = (await t.store.info()).headPosition;
    expect(total).toBeGreaterThan(20_000);
    const hidden = (lastVersion.gone + 1) + (lastVersion.soft + 1) + (lastVersion.capped + 1 - 250) + (lastVersion.aged + 1 - agedVisible.length);
    const result = await t.store.scavenge();
    expect(result.eventsRemoved).toBe(hidden);
    expect(t.store.database.query("SELECT count(*) AS n FROM events WHERE data IS NULL").get()).toEqual({ n: hidden });
    expect(await t.store.read("kept", { limit: 10_000 })).toEqual(keptBefore);
    expect((await t.store.read("capped", { limit: 10_000 })).map((e) => e.version)).toEqual(cappedVisible);
    expect((await t.store.read("aged", { limit: 10_000 })).map((e) => e.version)).toEqual(agedVisible);
    expect((await t.store.scavenge()).eventsRemoved).toBe(0);
  });
});

describe("the data dir", () => {
  test("a second writer on the same data dir fails with store_locked, and the first keeps working", async () => {
    await using t = tempStore();
    let error: unknown;
    try {
      openStore({ dataDir: t.dir });
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe("store_locked");
    await t.store.append("s", "any", [event()]);
    expect(await t.store.version("s")).toBe(0);
  });

  test("another process cannot open it for writing either, but can read it read-only", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [event("Seen")]);
    const script = `
      import { openStore } from ${JSON.stringify(new URL("../../../src/index.ts", import.meta.url).pathname)};
      try { openStore({ dataDir: ${JSON.stringify(t.dir)} }); console.log("opened"); } catch (e) { console.log(e.code); }
      const ro = openStore({ dataDir: ${JSON.stringify(t.dir)}, readOnly: true });
      console.log((await ro.read("s"))[0].type);
      try { await ro.append("s", "any", [{ type: "x", data: 1 }]); } catch (e) { console.log(e.code); }
      await ro.close();`;
    const child = Bun.spawnSync([process.execPath, "-e", script], { stderr: "pipe" });
    expect(child.stdout.toString().trim().split("\n")).toEqual(["store_locked", "Seen", "read_only"]);
  });

  test("the lock goes with the store: close, then another opens it", async () => {
    await using t = tempStore();
    await t.store.close();
    const again = t.reopen();
    await again.append("s", "any", [event()]);
    expect(await again.version("s")).toBe(0);
  });

  test("a closed store refuses calls with store_closed", async () => {
    await using t = tempStore();
    await t.store.close();
    expect((await rejection(t.store.append("s", "any", [event()]))).code).toBe("store_closed");
    expect((await rejection(t.store.read("s"))).code).toBe("store_closed");
    t.reopen();
  });
});
