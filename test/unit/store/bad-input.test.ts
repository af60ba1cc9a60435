// Bad input gets a typed error that names the problem, and nothing is written.

import { describe, expect, test } from "bun:test";
import { InvalidArgumentError, TooLargeError, limits } from "../../../src/index.ts";
import { rejection, tempStore } from "../../helpers/temp.ts";

type Case = [name: string, stream: unknown, expected: unknown, events: unknown, code: string, message: RegExp];

class Money {
  constructor(readonly cents: number) {}
}
const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;
let deep: unknown = 1;
for (let i = 0; i < 100; i++) deep = [deep];

const ok = [{ type: "T", data: {} }];
const cases: Case[] = [
  ["empty stream id", "", "any", ok, "invalid_argument", /stream id must not be empty/],
  ["non-string stream id", 42, "any", ok, "invalid_argument", /stream id must be a string/],
  ["reserved stream id", "$all", "any", ok, "invalid_argument", /reserved/],
  ["control character in stream id", "a\nb", "any", ok, "invalid_argument", /control character/],
  ["lone surrogate in stream id (it would be stored as U+FFFD)", "s\uD800", "any", ok, "invalid_argument", /stream id "s\\ud800" is not well-formed Unicode/],
  ["lone surrogate in event type", "s", "any", [{ type: "T\uDC00", data: 1 }], "invalid_argument", /event type "T\\udc00" is not well-formed Unicode/],
  ["stream id too long", "s".repeat(limits.streamIdBytesMax + 1), "any", ok, "too_large", /streamIdBytesMax/],
  ["multi-byte stream id over the byte limit", "é".repeat(limits.streamIdBytesMax / 2 + 1), "any", ok, "too_large", /streamIdBytesMax/],
  ["expected version of a wrong kind", "s", "latest", ok, "invalid_argument", /expected version/],
  ["expected version below -1", "s", -2, ok, "invalid_argument", /expected version/],
  ["fractional expected version", "s", 1.5, ok, "invalid_argument", /expected version/],
  ["events not an array", "s", "any", { type: "T", data: 1 }, "invalid_argument", /events must be an array/],
  ["no events", "s", "any", [], "invalid_argument", /at least one event/],
  ["event not an object", "s", "any", ["x"], "invalid_argument", /event 0 must be an object/],
  ["missing type", "s", "any", [{ data: 1 }], "invalid_argument", /event type must be a string/],
  ["empty type", "s", "any", [{ type: "", data: 1 }], "invalid_argument", /event type must not be empty/],
  ["reserved type", "s", "any", [{ type: "$metadata", data: 1 }], "invalid_argument", /reserved/],
  ["type too long", "s", "any", [{ type: "t".repeat(limits.eventTypeBytesMax + 1), data: 1 }], "too_large", /eventTypeBytesMax/],
  ["missing data", "s", "any", [{ type: "T" }], "invalid_argument", /has no data/],
  ["id not a UUID", "s", "any", [{ id: "123", type: "T", data: 1 }], "invalid_argument", /id must be a UUID/],
  ["same id twice in one append", "s", "any", [{ id: "0190a8c4-0000-7000-8000-000000000001", type: "T", data: 1 }, { id: "0190a8c4-0000-7000-8000-000000000001", type: "T", data: 2 }], "invalid_argument", /appears twice/],
  ["NaN in data", "s", "any", [{ type: "T", data: { x: Number.NaN } }], "invalid_argument", /not JSON: NaN at \$\.x/],
  ["function in data", "s", "any", [{ type: "T", data: { f: () => 1 } }], "invalid_argument", /not JSON: function at \$\.f/],
  ["bigint in data", "s", "any", [{ type: "T", data: [1n] }], "invalid_argument", /not JSON: bigint at \$\[0\]/],
  ["class instance in data", "s", "any", [{ type: "T", data: { m: new Money(5) } }], "invalid_argument", /a Money instance at \$\.m/],
  ["Date in metadata", "s", "any", [{ type: "T", data: 1, metadata: { at: new Date() } }], "invalid_argument", /metadata is not JSON: a Date instance/],
  ["cycle in data", "s", "any", [{ type: "T", data: cyclic }], "invalid_argument", /nests deeper/],
  ["nesting too deep", "s", "any", [{ type: "T", data: deep }], "invalid_argument", /nests deeper than 64/],
  ["event over the size limit", "s", "any", [{ type: "T", data: "x".repeat(limits.eventSizeBytesMax) }], "too_large", /eventSizeBytesMax/],
  ["bytes over the size limit", "s", "any", [{ type: "T", data: new Uint8Array(limits.eventSizeBytesMax + 1) }], "too_large", /eventSizeBytesMax/],
  ["too many events", "s", "any", Array.from({ length: limits.eventsPerAppendMax + 1 }, () => ({ type: "T", data: 1 })), "too_large", /eventsPerAppendMax/],
  ["append over the batch byte limit", "s", "any", Array.from({ length: 50 }, () => ({ type: "T", data: "é".repeat(400_000) })), "too_large", /appendBytesMax/],
];

describe("bad input on append", () => {
  for (const [name, stream, expected, events, code, message] of cases) {
    test(`${name}: ${code}`, async () => {
      await using t = tempStore();
      const error = await rejection(t.store.append(stream as string, expected as never, events as never));
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(code === "too_large" ? TooLargeError : InvalidArgumentError);
      expect(error.message).toMatch(message);
      expect(t.store.headPosition).toBe(0);
      expect(await t.store.readAll()).toEqual([]);
    });
  }

  test("a lone surrogate inside data or metadata is kept (JSON escapes it), and astral characters in names are fine", async () => {
    await using t = tempStore();
    await t.store.append("s\u{1F600}", "any", [{ type: "T\u{1F600}", data: { text: "a\uD800b" }, metadata: { m: "\uDFFF" } }]);
    const [stored] = await t.store.read("s\u{1F600}");
    expect(stored?.type).toBe("T\u{1F600}");
    expect(stored?.data).toEqual({ text: "a\uD800b" });
    expect(stored?.metadata).toEqual({ m: "\uDFFF" });
  });

  test("undefined fields are dropped like JSON.stringify does, not refused", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [{ type: "T", data: { a: 1, b: undefined } as never }]);
    expect((await t.store.read("s"))[0]?.data).toEqual({ a: 1 });
  });

  test("an event just under the size limit is accepted, counting multi-byte characters exactly", async () => {
    await using t = tempStore();
    // "é" is 2 bytes in UTF-8; JSON adds 2 quote bytes.
    const fits = "é".repeat((limits.eventSizeBytesMax - 2) / 2);
    await t.store.append("s", "any", [{ type: "T", data: fits }]);
    const over = await rejection(t.store.append("s", "any", [{ type: "T", data: `${fits}x` }]));
    expect(over.code).toBe("too_large");
  });

  test("bad read arguments name the problem", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [{ type: "T", data: 1 }]);
    expect((await rejection(t.store.read("s", { limit: 0 }))).message).toMatch(/limit must be an integer from 1/);
    expect((await rejection(t.store.read("s", { limit: limits.readCountMax + 1 }))).message).toMatch(/readCountMax/);
    expect((await rejection(t.store.read("s", { from: -3 }))).message).toMatch(/from must be an integer >= 0/);
    expect((await rejection(t.store.read("s", { direction: "sideways" as never }))).message).toMatch(/direction/);
    expect((await rejection(t.store.readAll({ filter: { colour: "red" } as never }))).message).toMatch(/filter has no field 'colour'/);
    expect((await rejection(t.store.setStreamMetadata("s", { maxCount: 0 }))).message).toMatch(/maxCount must be an integer >= 1/);
  });
});

describe("reserved stream ids on every write", () => {
  test("delete, metadata and snapshot writes refuse '$' streams; the system's own delete still works", async () => {
    await using t = tempStore();
    await t.store.appendSystem("$parked-x", "any", [{ type: "Parked", data: {} }]);
    const writes: Array<[string, Promise<unknown>]> = [
      ["delete", t.store.delete("$parked-x", "any", { hard: true })],
      ["setStreamMetadata", t.store.setStreamMetadata("$parked-x", { maxCount: 1 })],
      ["snapshots.save", t.store.snapshots.save("$parked-x", 0, {})],
      ["snapshots.delete", t.store.snapshots.delete("$parked-x", 0)],
    ];
    for (const [name, write] of writes) {
      const error = await rejection(write);
      expect({ name, code: error.code, reserved: /reserved/.test(error.message) }).toEqual({ name, code: "invalid_argument", reserved: true });
    }
    // Nothing changed: the stream is there, unlimited, and the system can still delete it.
    expect((await t.store.read("$parked-x")).length).toBe(1);
    expect(await t.store.getStreamMetadata("$parked-x")).toEqual({});
    await t.store.deleteSystem("$parked-x");
    expect(await t.store.exists("$parked-x")).toBe(false);
  });
});
