// The feed's cursor rules, driven by hand: a live batch that overlaps what the feed already read
// gives no duplicate, a batch past the cursor sends the feed back to catch-up reads (no gap),
// and a full buffer does the same (bounded memory) without losing the events it could not hold.

import { describe, expect, test } from "bun:test";
import { EventFeed } from "../../../src/subscriptions/event-feed.ts";
import { ev, testStore } from "./helpers.ts";

/** The bytes each event counts for in a hand-driven offer (the hub passes the stored sizes). */
const sizesOf = (events: readonly unknown[], each = 300) => events.map(() => each);

describe("EventFeed", () => {
  test("overlapping live batches give each event once; a batch past the cursor means catch-up, not a gap", async () => {
    await using t = testStore();
    const { store } = t;
    await store.append("a", "any", [ev("E"), ev("E"), ev("E")]);
    const feed = new EventFeed(store, { kind: "all", filter: {}, includeSystem: false }, { position: 0, version: 0 }, 100);
    await feed.fill();
    expect(feed.mode).toBe("live");
    expect(feed.nextPosition).toBe(3);
    await store.append("a", "any", [ev("E"), ev("E")]);
    const all = await store.readAll();
    // The hub lagging behind: a batch from 1 to 5 overlaps what catch-up already read.
    feed.offer(1, 5, all.slice(1, 5), sizesOf(all.slice(1, 5)));
    const taken: number[] = [];
    for (let e = feed.tryTake(); e !== undefined; e = feed.tryTake()) taken.push(e.position);
    expect(taken).toEqual([0, 1, 2, 3, 4]);
    await store.append("a", "any", [ev("E"), ev("E")]);
    // A batch that starts past the cursor (5): the feed reads from the store instead.
    feed.offer(6, 7, (await store.readAll()).slice(6, 7), [300]);
    expect(feed.mode).toBe("catching_up");
    expect(feed.bufferedCount).toBe(0);
    expect((await feed.next())?.position).toBe(5);
    expect((await feed.next())?.position).toBe(6);
    expect(feed.mode).toBe("live");
    feed.close();
  });

  test("a full buffer switches to catch-up at the first event it could not hold", async () => {
    await using t = testStore();
    const { store } = t;
    const feed = new EventFeed(store, { kind: "stream", streamId: "s" }, { position: 0, version: 0 }, 2);
    await feed.fill();
    expect(feed.mode).toBe("live");
    await store.append("s", "any", [ev("A"), ev("B"), ev("C"), ev("D")]);
    await store.append("other", "any", [ev("X")]);
    const all = await store.readAll();
    feed.offer(0, 5, all, sizesOf(all));
    expect(feed.bufferedCount).toBe(2);
    expect(feed.mode).toBe("catching_up");
    expect(feed.nextVersion).toBe(2);
    const types: string[] = [];
    for (let i = 0; i < 4; i++) types.push((await feed.next())?.type ?? "none");
    expect(types).toEqual(["A", "B", "C", "D"]);
    await feed.fill();
    expect(feed.mode).toBe("live");
    expect(feed.nextPosition).toBe(5);
    feed.close();
    expect(await feed.next()).toBeNull();
  });

  test("the buffer is bounded in bytes too: a live batch past it means catch-up, and catch-up pages fit it", async () => {
    await using t = testStore();
    const { store } = t;
    const big = (n: number) => ({ type: "Big", data: { n, blob: "x".repeat(100_000) } });
    const feed = new EventFeed(store, { kind: "all", filter: {}, includeSystem: false }, { position: 0, version: 0 }, 1000, 350_000);
    await feed.fill();
    expect(feed.mode).toBe("live");
    for (let i = 0; i < 10; i++) await store.append("s", "any", [big(i)]);
    const all = await store.readAll();
    // Ten events of about 100 kB: three fit in 350 kB, the fourth sends the feed to catch-up.
    feed.offer(0, 10, all, sizesOf(all, 100_300));
    expect(feed.bufferedCount).toBe(3);
    expect(feed.bufferedBytes).toBeLessThanOrEqual(350_000);
    expect(feed.mode).toBe("catching_up");
    expect(feed.nextPosition).toBe(3);
    // An event larger than the whole bound comes after them: it is still delivered (alone).
    await store.append("s", "any", [{ type: "Huge", data: { blob: "y".repeat(500_000) } }]);
    const seen: number[] = [];
    let mostBytes = 0;
    for (let i = 0; i < 10; i++) {
      const event = await feed.next();
      seen.push((event?.data as { n: number }).n);
      mostBytes = Math.max(mostBytes, feed.bufferedBytes);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Catch-up reads asked the store for pages that fit the room left: never more than the bound.
    expect(mostBytes).toBeLessThanOrEqual(350_000);
    const huge = await feed.next();
    expect(huge?.type).toBe("Huge");
    expect(feed.bufferedCount).toBe(0);
    await feed.fill();
    expect(feed.mode).toBe("live");
    feed.close();
  });

  test("a page cut by the log's end is told from one cut at the byte bound, also for JSON stored as a blob", async () => {
    await using t = testStore();
    const { store } = t;
    for (let i = 0; i < 5; i++) await store.append("s", "any", [ev("E")]);
    // As sqlite3 could leave it: JSON stored as a BLOB, 1,210 UTF-8 bytes, 610 characters.
    store.database.run("UPDATE events SET data = CAST(? AS BLOB) WHERE position = 0", [JSON.stringify({ s: "é".repeat(600) })]);
    const feed = new EventFeed(store, { kind: "all", filter: {}, includeSystem: false }, { position: 0, version: 0 }, 100, 1000);
    const got: number[] = [];
    while (got.length < 5) got.push(((await feed.next()) as { position: number }).position);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    feed.close();
  });
});
