// The WAL beside the store file is checkpointed as it grows: after more than
// walAutocheckpointPages pages of commits it stays bounded, a WAL one large transaction grew is
// cut back, and a clean close empties it.

import { describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { limits } from "../../../src/index.ts";
import { storeFileName } from "../../../src/store/index.ts";
import { tempStore } from "../../helpers/temp.ts";

describe("the WAL file", () => {
  test("stays bounded while far more than its checkpoint interval is written, is cut back after one large transaction, and a clean close empties it", async () => {
    await using t = tempStore();
    const wal = path.join(t.dir, `${storeFileName}-wal`);
    const pageBytes = (t.store.database.query("PRAGMA page_size").get() as { page_size: number }).page_size;
    const event = { type: "Big", data: { blob: "b".repeat(limits.eventSizeBytesMax - 64) } };
    // Three checkpoint intervals' worth of pages, one 1 MiB event per commit.
    const commits = Math.ceil((3 * limits.walAutocheckpointPages * pageBytes) / limits.eventSizeBytesMax);
    let largest = 0;
    for (let i = 0; i < commits; i++) {
      await t.store.append("big", "any", [event]);
      largest = Math.max(largest, statSync(wal).size);
    }
    // At most the interval plus the commit that crossed it (a 1 MiB event is ~260 pages); a
    // larger WAL is cut back to walFileBytesMax when it is reset.
    expect(largest).toBeLessThanOrEqual((limits.walAutocheckpointPages + 300) * (pageBytes + 24) + 32);
    expect(largest).toBeLessThanOrEqual(limits.walFileBytesMax);
    expect(await t.store.version("big")).toBe(commits - 1);
    // One transaction may grow it past the bound (24 MiB here); once the WAL starts over, the
    // file is cut back to walFileBytesMax.
    await t.store.append("huge", "any", Array.from({ length: 24 }, () => event));
    expect(statSync(wal).size).toBeGreaterThan(limits.walFileBytesMax);
    for (let i = 0; i < commits; i++) await t.store.append("big", "any", [event]);
    expect(statSync(wal).size).toBeLessThanOrEqual(limits.walFileBytesMax);
    expect(await t.store.version("big")).toBe(2 * commits - 1);
    await t.store.close();
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    t.reopen();
    expect(await t.store.version("big")).toBe(2 * commits - 1);
    expect((await t.store.read("huge", { limit: 100 })).length).toBe(24);
  });
});
