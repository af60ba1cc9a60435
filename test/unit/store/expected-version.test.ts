// The expected-version rules as a table (KurrentDB's semantics), run against the real store:
// any / no_stream / -1 / stream_exists / exact, on a new, existing, soft-deleted and
// hard-deleted stream. Each row says what a user sees: the version written, or the error.

import { describe, expect, test } from "bun:test";
import { WrongExpectedVersionError, type EventStore, type ExpectedVersion } from "../../../src/index.ts";
import { event, rejection, tempStore } from "../../helpers/temp.ts";

type StreamKind = "new" | "existing" | "soft-deleted" | "hard-deleted";
type Outcome = { written: number } | { error: "wrong_expected_version"; actual: number } | { error: "stream_deleted" };

async function arrange(store: EventStore, kind: StreamKind): Promise<void> {
  if (kind === "new") return;
  await store.append("s", "no_stream", [event(), event(), event()]); // versions 0, 1, 2
  if (kind === "soft-deleted") await store.delete("s", 2);
  if (kind === "hard-deleted") await store.delete("s", 2, { hard: true });
}

const table: Array<[StreamKind, ExpectedVersion, Outcome]> = [
  ["new", "any", { written: 0 }],
  ["new", "no_stream", { written: 0 }],
  ["new", -1, { written: 0 }],
  ["new", "stream_exists", { error: "wrong_expected_version", actual: -1 }],
  ["new", 0, { error: "wrong_expected_version", actual: -1 }],
  ["new", 2, { error: "wrong_expected_version", actual: -1 }],
  ["existing", "any", { written: 3 }],
  ["existing", "no_stream", { error: "wrong_expected_version", actual: 2 }],
  ["existing", -1, { error: "wrong_expected_version", actual: 2 }],
  ["existing", "stream_exists", { written: 3 }],
  ["existing", 2, { written: 3 }],
  ["existing", 1, { error: "wrong_expected_version", actual: 2 }],
  ["existing", 5, { error: "wrong_expected_version", actual: 2 }],
  ["soft-deleted", "any", { written: 3 }],
  ["soft-deleted", "no_stream", { written: 3 }],
  ["soft-deleted", -1, { written: 3 }],
  ["soft-deleted", "stream_exists", { error: "wrong_expected_version", actual: 2 }],
  ["soft-deleted", 2, { written: 3 }],
  ["soft-deleted", 1, { error: "wrong_expected_version", actual: 2 }],
  ["hard-deleted", "any", { error: "stream_deleted" }],
  ["hard-deleted", "no_stream", { error: "stream_deleted" }],
  ["hard-deleted", "stream_exists", { error: "stream_deleted" }],
  ["hard-deleted", 2, { error: "stream_deleted" }],
];

describe("expected version on append", () => {
  for (const [kind, expected, outcome] of table) {
    const name = `${kind} stream, expected ${JSON.stringify(expected)}: ${"written" in outcome ? `writes version ${outcome.written}` : outcome.error}`;
    test(name, async () => {
      await using t = tempStore();
      await arrange(t.store, kind);
      const attempt = t.store.append("s", expected, [event("Next", { k: 1 })]);
      if ("written" in outcome) {
        const result = await attempt;
        expect(result.nextVersion).toBe(outcome.written);
        const events = await t.store.read("s");
        // After a soft delete only the new event shows; otherwise the whole stream.
        const expectedVersions = kind === "soft-deleted" ? [3] : Array.from({ length: outcome.written + 1 }, (_, i) => i);
        expect(events.map((e) => e.version)).toEqual(expectedVersions);
        expect(events[events.length - 1]?.type).toBe("Next");
      } else {
        const error = await rejection(attempt);
        expect(error.code).toBe(outcome.error);
        if (outcome.error === "wrong_expected_version") {
          expect(error).toBeInstanceOf(WrongExpectedVersionError);
          const wrong = error as WrongExpectedVersionError;
          expect(wrong.expected).toBe(expected);
          expect(wrong.actual).toBe(outcome.actual);
        }
        // Nothing was written.
        expect(await t.store.version("s").catch(() => "deleted")).toBe(kind === "new" ? -1 : kind === "hard-deleted" ? "deleted" : 2);
      }
    });
  }
});

describe("reads of deleted and missing streams", () => {
  test("a stream never written is stream_not_found, not an empty list", async () => {
    await using t = tempStore();
    expect((await rejection(t.store.read("nobody"))).code).toBe("stream_not_found");
    expect(await t.store.exists("nobody")).toBe(false);
    expect(await t.store.version("nobody")).toBe(-1);
  });

  test("a soft-deleted stream reads as not found until written again, then shows only new events", async () => {
    await using t = tempStore();
    await t.store.append("s", "no_stream", [event(), event()]);
    await t.store.delete("s", 1);
    expect((await rejection(t.store.read("s"))).code).toBe("stream_not_found");
    expect(await t.store.exists("s")).toBe(false);
    expect((await t.store.streams()).streams).toEqual([]);
    expect(await t.store.readAll()).toEqual([]);
    await t.store.append("s", "any", [event("Again")]);
    const events = await t.store.read("s");
    expect(events.map((e) => [e.version, e.type])).toEqual([[2, "Again"]]);
    expect((await t.store.readAll()).map((e) => e.version)).toEqual([2]);
    expect((await t.store.streams()).streams).toEqual([{ streamId: "s", version: 2, eventCount: 1 }]);
  });

  test("a hard-deleted stream fails every read and write with stream_deleted, for ever", async () => {
    await using t = tempStore();
    await t.store.append("s", "no_stream", [event()]);
    await t.store.delete("s", "any", { hard: true });
    expect((await rejection(t.store.read("s"))).code).toBe("stream_deleted");
    expect((await rejection(t.store.version("s"))).code).toBe("stream_deleted");
    expect((await rejection(t.store.delete("s", "any"))).code).toBe("stream_deleted");
    expect((await rejection(t.store.delete("s", "any", { hard: true }))).code).toBe("stream_deleted");
    expect(await t.store.readAll()).toEqual([]);
    const again = t.reopen.bind(t);
    await t.store.close();
    again();
    expect((await rejection(t.store.append("s", "any", [event()]))).code).toBe("stream_deleted");
  });

  test("a hard delete of a stream never written reserves the name", async () => {
    await using t = tempStore();
    await t.store.delete("ghost", "no_stream", { hard: true });
    expect((await rejection(t.store.append("ghost", "any", [event()]))).code).toBe("stream_deleted");
  });

  test("soft delete checks the expected version and needs a stream", async () => {
    await using t = tempStore();
    expect((await rejection(t.store.delete("nobody", "any"))).code).toBe("stream_not_found");
    await t.store.append("s", "no_stream", [event(), event()]);
    const wrong = await rejection(t.store.delete("s", 0));
    expect(wrong.code).toBe("wrong_expected_version");
    expect(await t.store.exists("s")).toBe(true);
    await t.store.delete("s", "stream_exists");
    expect(await t.store.exists("s")).toBe(false);
  });
});

describe("writes that share one group commit", () => {
  // Submitted in one turn, these run in one transaction, in order; each must see the stream as
  // the writes before it in the same group left it.
  test("appends, a failed append and deletes in one group each see the stream as the previous ones left it", async () => {
    await using t = tempStore();
    const outcomes = await Promise.all(
      [
        t.store.append("s", "no_stream", [event("A")]),
        t.store.append("s", 0, [event("B"), event("C")]),
        t.store.append("s", 0, [event("Stale")]),
        t.store.append("s", "no_stream", [event("Stale")]),
        t.store.delete("s", 2),
        t.store.append("s", "stream_exists", [event("Refused")]),
        t.store.append("s", 2, [event("D")]),
        t.store.append("s", 3, [event("E")]),
        t.store.delete("h", "any", { hard: true }),
        t.store.append("h", "any", [event("Gone")]),
      ].map((p) => p.then((value) => value ?? "ok", (error: { code?: string }) => error.code)),
    );
    expect(outcomes).toEqual([
      { nextVersion: 0, position: 0 },
      { nextVersion: 2, position: 2 },
      "wrong_expected_version",
      "wrong_expected_version",
      "ok",
      "wrong_expected_version",
      { nextVersion: 3, position: 3 },
      { nextVersion: 4, position: 4 },
      "ok",
      "stream_deleted",
    ]);
    // After the soft delete only the events written after it show, at the continued versions.
    expect((await t.store.read("s")).map((e) => [e.version, e.type])).toEqual([[3, "D"], [4, "E"]]);
    expect(await t.store.version("s")).toBe(4);
  });
});
