// A full disk: the append that does not fit fails with storage_full, nothing of it is written,
// everything acknowledged before is intact, and the store works again once space is freed.
// Needs root (it mounts a tiny tmpfs); skipped with a reason elsewhere.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore, StorageFullError } from "../../src/index.ts";

const isRoot = process.getuid?.() === 0;
const reason = "needs root to mount a 2 MiB tmpfs (CI runs as root)";

describe.if(isRoot)(`disk full (${reason})`, () => {
  test("the append that does not fit fails alone and leaves nothing half-written", async () => {
    const mountPoint = mkdtempSync(path.join(os.tmpdir(), "edge-esdb-full-"));
    const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]);
    expect(mount.exitCode).toBe(0);
    try {
      const dataDir = path.join(mountPoint, "data");
      const store = openStore({ dataDir });
      const acknowledged: number[] = [];
      let failure: unknown;
      // Fill the disk with big batches until one fails.
      const payload = { blob: "y".repeat(20_000) };
      for (let i = 0; i < 500 && failure === undefined; i++) {
        try {
          const result = await store.append("s", "any", Array.from({ length: 5 }, () => ({ type: "Big", data: payload })));
          acknowledged.push(result.nextVersion);
        } catch (error) {
          failure = error;
        }
      }
      expect(failure).toBeInstanceOf(StorageFullError);
      expect((failure as StorageFullError).code).toBe("storage_full");
      expect(acknowledged.length).toBeGreaterThan(0);
      const last = acknowledged[acknowledged.length - 1] as number;
      // Everything acknowledged is there, nothing more: the failed batch left no event.
      expect(await store.version("s")).toBe(last);
      const events = await store.read("s", { limit: 10_000 });
      expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i));
      expect(events.length).toBe(last + 1);
      // Closing on a full disk may fail to checkpoint; the WAL keeps what was committed.
      await store.close().catch(() => undefined);
      // Make room as an operator would (here: a bigger tmpfs), reopen, and write on.
      expect(Bun.spawnSync(["mount", "-o", "remount,size=8m", mountPoint]).exitCode).toBe(0);
      const reopened = openStore({ dataDir });
      expect(await reopened.version("s")).toBe(last);
      const next = await reopened.append("s", last, [{ type: "Small", data: { ok: true } }]);
      expect(next.nextVersion).toBe(last + 1);
      await reopened.close();
    } finally {
      Bun.spawnSync(["umount", "-l", mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  }, 60_000);
});
