// A full disk found by SQLite inside a write's savepoint: SQLite may roll back the whole
// transaction itself; the append must still fail with storage_full (not a raw SQLite error),
// nothing of its group is kept, and the store goes on once there is room again.
// (test/integration/disk-full.test.ts does the same on a real full file system, as root.)

import { describe, expect, test } from "bun:test";
import { rejection, tempStore } from "../../helpers/temp.ts";

describe("a full database file", () => {
  test("an append that fills it on its last one-row INSERT fails with storage_full and writes nothing", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [{ type: "A", data: {} }]);
    const pages = (t.store.database.query("PRAGMA page_count").get() as { page_count: number }).page_count;
    t.store.database.run(`PRAGMA max_page_count = ${pages + 32}`);
    // 33 events: one INSERT of 32 rows, then one of a single row, which finds the file full.
    const error = await rejection(t.store.append("n", "any", Array.from({ length: 33 }, () => ({ type: "B", data: new Uint8Array(3000) }))));
    t.store.database.run("PRAGMA max_page_count = 1073741823");
    expect(error.code).toBe("storage_full");
    expect(await t.store.exists("n")).toBe(false);
    expect(await t.store.append("s", 0, [{ type: "C", data: {} }])).toEqual({ nextVersion: 1, position: 1 });
  });

  test("an append that succeeded in a group that then failed is forgotten: the stream goes on from what was committed", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [{ type: "A", data: {} }]);
    const pages = (t.store.database.query("PRAGMA page_count").get() as { page_count: number }).page_count;
    t.store.database.run(`PRAGMA max_page_count = ${pages + 32}`);
    // One group: the append to s fits, the big append after it fills the file and SQLite rolls
    // back the whole transaction, so neither is kept.
    const small = t.store.append("s", 0, [{ type: "B", data: {} }]);
    const big = t.store.append("n", "any", Array.from({ length: 33 }, () => ({ type: "B", data: new Uint8Array(3000) })));
    const errors = await Promise.all([rejection(small), rejection(big)]);
    t.store.database.run("PRAGMA max_page_count = 1073741823");
    expect(errors.map((e) => e.code)).toEqual(["storage_full", "storage_full"]);
    expect(await t.store.version("s")).toBe(0);
    expect(await t.store.append("s", 0, [{ type: "C", data: {} }])).toEqual({ nextVersion: 1, position: 1 });
    expect((await t.store.read("s")).map((e) => e.type)).toEqual(["A", "C"]);
  });
});
