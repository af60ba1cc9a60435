// The group committer's queue: bounded in writes and in bytes; callers beyond it wait in order,
// and beyond a bound on waiters an append fails at once with `unavailable`, writing nothing.

import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { GroupCommitter } from "../../../src/store/group-commit.ts";

function setup(bounds: { countMax: number; bytesMax: number; waitersMax: number }) {
  const db = new Database(":memory:");
  db.run("CREATE TABLE t (n INTEGER)");
  const insert = db.prepare("INSERT INTO t VALUES (?)");
  const committer = new GroupCommitter(db, { beforeGroup() {}, afterRollback() {} }, bounds);
  const write = (n: number, bytes = 0) => committer.submit(() => insert.run(n), { bytes, multiStatement: false });
  const rows = () => (db.query("SELECT n FROM t ORDER BY rowid").all() as Array<{ n: number }>).map((r) => r.n);
  return { db, committer, write, rows };
}

describe("group commit queue bounds", () => {
  test("callers beyond the queue wait and all commit in order; beyond the waiters bound they fail with unavailable and write nothing", async () => {
    const { committer, write, rows } = setup({ countMax: 4, bytesMax: 1 << 30, waitersMax: 3 });
    const results = Array.from({ length: 10 }, (_, n) => write(n).then(() => "ok", (e: { code?: string; message: string }) => `${e.code}: ${e.message}`));
    // Submitted in one turn: 4 queued, 3 waiting, 3 refused.
    expect(committer.queuedCount).toBe(4);
    expect(committer.waitingCount).toBe(3);
    const outcomes = await Promise.all(results);
    expect(outcomes.slice(0, 7)).toEqual(Array(7).fill("ok"));
    for (const refused of outcomes.slice(7)) expect(refused).toMatch(/^unavailable: the store's write queue is full \(4 writes, 0 bytes queued, 3 waiting\): retry later$/);
    expect(rows()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  test("queued bytes are bounded too; a write larger than the bound still goes through alone", async () => {
    const { committer, write, rows } = setup({ countMax: 1000, bytesMax: 100, waitersMax: 1000 });
    const done = [write(0, 60), write(1, 60), write(2, 30), write(3, 500)];
    expect(committer.queuedCount).toBe(1);
    expect(committer.waitingCount).toBe(3);
    await Promise.all(done);
    expect(rows()).toEqual([0, 1, 2, 3]);
    expect(committer.waitingCount).toBe(0);
  });

  test("callers waiting for room when the store closes get store_closed", async () => {
    const { committer, write, rows } = setup({ countMax: 1, bytesMax: 1 << 30, waitersMax: 10 });
    const first = write(0);
    const waiting = write(1).catch((e: { code?: string }) => e.code);
    expect(committer.waitingCount).toBe(1);
    committer.close();
    await first;
    // close() ran the queued write; the waiter woke to a closed store.
    expect(await waiting).toBe("store_closed");
    expect(rows()).toEqual([0]);
  });
});
