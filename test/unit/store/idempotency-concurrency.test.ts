// Idempotent retries (event ids unique for ever) and many concurrent appenders: exactly one
// append wins each expected version; streams stay gapless and duplicate-free.

import { describe, expect, test } from "bun:test";
import { DuplicateEventError, WrongExpectedVersionError } from "../../../src/index.ts";
import { event, rejection, tempStore } from "../../helpers/temp.ts";

const ids = ["0190a8c4-0000-7000-8000-000000000001", "0190a8c4-0000-7000-8000-000000000002", "0190a8c4-0000-7000-8000-000000000003"];

describe("idempotent retries", () => {
  test("the same batch at the same expected version succeeds with the original result and writes nothing", async () => {
    await using t = tempStore();
    await t.store.append("s", "no_stream", [event("First")]);
    const batch = [event("A", 1, ids[0]), event("B", 2, ids[1])];
    const first = await t.store.append("s", 0, batch);
    await t.store.append("s", 2, [event("Later")]);
    const retry = await t.store.append("s", 0, batch);
    expect(retry).toEqual(first);
    expect((await t.store.read("s")).map((e) => e.type)).toEqual(["First", "A", "B", "Later"]);
  });

  test("retries with no_stream, any and stream_exists are idempotent too", async () => {
    await using t = tempStore();
    const batch = [event("A", 1, ids[0])];
    const first = await t.store.append("s", "no_stream", batch);
    expect(await t.store.append("s", "no_stream", batch)).toEqual(first);
    expect(await t.store.append("s", "any", batch)).toEqual(first);
    expect(await t.store.append("s", "stream_exists", batch)).toEqual(first);
    expect(await t.store.version("s")).toBe(0);
  });

  test("a retry that names another place is a wrong expected version", async () => {
    await using t = tempStore();
    await t.store.append("s", "no_stream", [event(), event()]);
    await t.store.append("s", 1, [event("A", 1, ids[0])]);
    const error = await rejection(t.store.append("s", 0, [event("A", 1, ids[0])]));
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(await t.store.version("s")).toBe(2);
  });

  test("a batch that is partly stored is an error and writes nothing", async () => {
    await using t = tempStore();
    await t.store.append("s", "no_stream", [event("A", 1, ids[0])]);
    const error = await rejection(t.store.append("s", "any", [event("A", 1, ids[0]), event("B", 2, ids[1])]));
    expect(error).toBeInstanceOf(DuplicateEventError);
    expect(error.code).toBe("duplicate_event");
    expect(await t.store.version("s")).toBe(0);
  });

  test("a large batch whose last event's id is already stored is an error and writes none of it", async () => {
    await using t = tempStore();
    await t.store.append("s", "no_stream", [event("A", 1, ids[0])]);
    const batch = [...Array.from({ length: 40 }, (_, i) => event(`New${i}`)), event("A", 1, ids[0])];
    expect((await rejection(t.store.append("other", "any", batch))).code).toBe("duplicate_event");
    expect(await t.store.exists("other")).toBe(false);
    expect((await t.store.readAll()).map((e) => e.type)).toEqual(["A"]);
    // The positions it would have taken are still free: the next append continues at 1.
    expect(await t.store.append("other", "any", [event("Next")])).toEqual({ nextVersion: 0, position: 1 });
  });

  test("a large batch that is a retry of a stored one succeeds with the original result", async () => {
    await using t = tempStore();
    const batch = Array.from({ length: 50 }, (_, i) => event(`E${i}`, i, `0190a8c4-0000-7000-8000-${String(100 + i).padStart(12, "0")}`));
    const first = await t.store.append("s", "no_stream", batch);
    expect(first).toEqual({ nextVersion: 49, position: 49 });
    expect(await t.store.append("s", "no_stream", batch)).toEqual(first);
    expect(await t.store.version("s")).toBe(49);
  });

  test("an event id is unique across streams and for ever, also after scavenge", async () => {
    await using t = tempStore();
    await t.store.append("a", "any", [event("A", 1, ids[0])]);
    expect((await rejection(t.store.append("b", "any", [event("A", 1, ids[0])]))).code).toBe("duplicate_event");
    await t.store.delete("a", "any", { hard: true });
    await t.store.scavenge();
    expect((await rejection(t.store.append("b", "any", [event("A", 1, ids[0])]))).code).toBe("duplicate_event");
    expect(await t.store.exists("b")).toBe(false);
  });

  test("a retry survives a reopen (the id index is on disk, not a window in memory)", async () => {
    await using t = tempStore();
    const first = await t.store.append("s", "no_stream", [event("A", 1, ids[2])]);
    for (let i = 0; i < 50; i++) await t.store.append("s", "any", [event()]);
    await t.store.close();
    expect(await t.reopen().append("s", "no_stream", [event("A", 1, ids[2])])).toEqual(first);
  });

  test("two concurrent appends of the same new id in one group: one writes, the other is its retry", async () => {
    await using t = tempStore();
    const batch = [event("A", 1, ids[0])];
    const [a, b] = await Promise.all([t.store.append("s", "any", batch), t.store.append("s", "any", batch)]);
    expect(a).toEqual(b);
    expect((await t.store.read("s")).length).toBe(1);
  });
});

describe("concurrent appenders", () => {
  test("exactly one append wins each expected version; the stream has no gap and no duplicate", async () => {
    await using t = tempStore();
    const appenders = 32;
    const rounds = 20;
    const wins: string[] = [];
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: appenders }, async (_, who) => {
        for (let r = 0; r < rounds; r++) {
          const version = await t.store.version("contended");
          try {
            await t.store.append("contended", version, [event("Write", { who, r })]);
            wins.push(`${who}:${r}`);
          } catch (error) {
            if (!(error instanceof WrongExpectedVersionError)) throw error;
            conflicts++;
          }
        }
      }),
    );
    const events = await t.store.read("contended", { limit: 10_000 });
    expect(events.length).toBe(wins.length);
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i));
    expect(new Set(events.map((e) => `${(e.data as { who: number }).who}:${(e.data as { r: number }).r}`)).size).toBe(wins.length);
    expect(wins.length + conflicts).toBe(appenders * rounds);
    // Everyone read the same version at once, so most lose each round: the check really ran.
    expect(conflicts).toBeGreaterThan(0);
  });

  test("concurrent appends share groups but keep their own outcome", async () => {
    await using t = tempStore();
    await t.store.append("s", "no_stream", [event()]);
    const results = await Promise.allSettled([
      t.store.append("s", 0, [event("ok")]),
      t.store.append("s", 7, [event("bad")]),
      t.store.append("other", "no_stream", [event("ok"), event("ok")]),
      t.store.append("s", "any", [event("ok")]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((await t.store.read("s")).map((e) => e.type)).toEqual(["Happened", "ok", "ok"]);
    expect((await t.store.readAll()).map((e) => e.position)).toEqual([0, 1, 2, 3, 4]);
  });
});
