// The feed's cursor rules, driven by hand: a live batch that overlaps what the feed already read
// gives no duplicate, a batch past the cursor sends the feed back to catch-up reads (no gap),
// and a full buffer does the same (bounded memory) without losing the events it could not hold.

import { describe, expect, test } from "bun:test";
import { EventFeed } from "../../../src/subscriptions/event-feed.ts";
import { ev, testStore } from "./helpers.ts";

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
    feed.offer(1, 5, all.slice(1, 5));
    const taken: number[] = [];
    for (let e = feed.tryTake(); e !== undefined; e = feed.tryTake()) taken.push(e.position);
    expect(taken).toEqual([0, 1, 2, 3, 4]);
    await store.append("a", "any", [ev("E"), ev("E")]);
    // A batch that starts past the cursor (5): the feed reads from the store instead.
    feed.offer(6, 7, (await store.readAll()).slice(6, 7));
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
    feed.offer(0, 5, await store.readAll());
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
});
