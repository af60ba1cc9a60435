// What the store sets up in its SQLite file: numbered migrations, the durability setting, and
// group commit (many appends, one transaction).

import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import path from "node:path";
import { openStore } from "../../../src/index.ts";
import { migrations, schemaVersion, storeFileName } from "../../../src/store/index.ts";
import { event, rejection, tempDir, tempStore } from "../../helpers/temp.ts";

describe("migrations", () => {
  test("a file left at every older schema version opens at the latest, keeping its events", async () => {
    expect(schemaVersion).toBeGreaterThan(1);
    for (let version = 1; version < schemaVersion; version++) {
      using dir = tempDir();
      // The file as a build that knew `version` migrations left it, with one event in it.
      const db = new Database(path.join(dir.path, storeFileName), { create: true });
      db.run("PRAGMA journal_mode = WAL");
      for (let i = 0; i < version; i++) db.run(migrations[i] as string);
      db.run(`PRAGMA user_version = ${version}`);
      db.run("INSERT INTO streams (stream_id, truncate_before, deletion, updated_at) VALUES ('old', 0, 0, 0)");
      db.run("INSERT INTO events (position, stream_id, version, event_id, type, data, metadata, content_type, created_at) VALUES (0, 'old', 0, '0190a8c4-0000-7000-8000-000000000001', 'T', '{\"n\":1}', NULL, 'application/json', 0)");
      db.close();
      await using store = openStore({ dataDir: dir.path, durability: "normal" });
      expect({ version, now: (store.database.query("PRAGMA user_version").get() as { user_version: number }).user_version }).toEqual({ version, now: schemaVersion });
      expect((await store.read("old")).map((e) => e.data)).toEqual([{ n: 1 }]);
      expect(await store.append("old", 0, [event()])).toEqual({ nextVersion: 1, position: 1 });
    }
  });

  test("a file from a newer build is refused, and left as it was", async () => {
    using dir = tempDir();
    {
      await using store = openStore({ dataDir: dir.path, durability: "normal" });
      await store.append("s", "any", [event()]);
    }
    const file = path.join(dir.path, storeFileName);
    const db = new Database(file);
    db.run(`PRAGMA user_version = ${schemaVersion + 1}`);
    db.close();
    let error: (Error & { code?: string }) | null = null;
    try {
      openStore({ dataDir: dir.path, durability: "normal" });
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error?.code).toBe("corrupt");
    expect(error?.message).toMatch(/newer than this build knows/);
    const after = new Database(file, { readonly: true });
    expect(after.query("PRAGMA user_version").get()).toEqual({ user_version: schemaVersion + 1 });
    expect(after.query("SELECT count(*) AS n FROM events").get()).toEqual({ n: 1 });
    after.close();
  });
});

describe("durability", () => {
  test("full (the default) syncs every commit, normal only at checkpoints; anything else is refused", async () => {
    const synchronous = (store: { database: Database }) => (store.database.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
    {
      using dir = tempDir();
      await using store = openStore({ dataDir: dir.path });
      expect(synchronous(store)).toBe(2);
    }
    {
      await using t = tempStore({ durability: "full" });
      expect(synchronous(t.store)).toBe(2);
      expect((t.store.database.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
    }
    {
      await using t = tempStore({ durability: "normal" });
      expect(synchronous(t.store)).toBe(1);
    }
    using dir = tempDir();
    let error: (Error & { code?: string }) | null = null;
    try {
      openStore({ dataDir: dir.path, durability: "off" as never });
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error?.code).toBe("invalid_argument");
  });

  test("info gives the writer's durability; a read-only store, which cannot know it, gives null", async () => {
    await using t = tempStore({ durability: "normal" });
    await t.store.append("s", "any", [event()]);
    expect((await t.store.info()).durability).toBe("normal");
    await using reader = openStore({ dataDir: t.dir, readOnly: true });
    expect(await reader.info()).toMatchObject({ readOnly: true, durability: null, headPosition: 1 });
  });
});

describe("group commit", () => {
  test("a writer appending one at a time does not starve timers, and writes from separate callbacks still share a commit", async () => {
    await using t = tempStore();
    // A callback queued for the event loop's next turn (a timer of 0 would depend on the clock),
    // queued in the middle of a tight loop of appends.
    let turnAfter = -1;
    let done = 0;
    for (let i = 0; i < 200; i++) {
      if (i === 50) {
        setImmediate(() => {
          turnAfter = done;
        });
      }
      await t.store.append("s", "any", [event()]);
      done++;
    }
    // A group starts on the loop's turn, so the loop goes round while a writer appends.
    expect(turnAfter).toBeGreaterThanOrEqual(50);
    expect(turnAfter).toBeLessThan(66);
    // Right after a lone writer's commit, appends that arrive from separate callbacks (as HTTP
    // requests do) wait for that turn and go together.
    const commits: number[] = [];
    t.store.onCommitted((appends) => commits.push(appends.length));
    await t.store.append("s", "any", [event()]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => new Promise<unknown>((resolve) => setImmediate(() => resolve(t.store.append(`c-${i}`, "any", [event()]))))));
    expect(commits[0]).toBe(1);
    expect(commits.slice(1).reduce((a, b) => a + b, 0)).toBe(20);
    expect(commits.length).toBeLessThanOrEqual(3);
  });

  test("appends made together share one commit, and each keeps its own outcome", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [event()]);
    const commits: number[] = [];
    t.store.onCommitted((appends) => commits.push(appends.length));
    const results = await Promise.allSettled([
      ...Array.from({ length: 50 }, (_, i) => t.store.append(`s-${i}`, "no_stream", [event()])),
      t.store.append("s", "no_stream", [event()]),
      t.store.append("s", 0, [event(), event()]),
    ]);
    // One commit for the 51 appends that succeeded; the one with a wrong expected version failed alone.
    expect(commits).toEqual([51]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(51);
    const failed = results[50];
    expect(failed?.status === "rejected" ? (failed.reason as { code?: string }).code : "fulfilled").toBe("wrong_expected_version");
    expect(await t.store.version("s")).toBe(2);
    expect((await rejection(t.store.append("s-0", "no_stream", [event()]))).code).toBe("wrong_expected_version");
  });
});
