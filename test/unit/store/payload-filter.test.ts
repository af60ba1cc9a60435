// $all reads with a payload filter: SQL rules out most non-matching events (src/store/
// payload-prefilter.ts) and matchesPayload decides the rest. The prefilter must never drop an
// event that matchesPayload accepts, so these tests compare the store's filtered read with
// matchesPayload over every event, on data the store writes and on rows written by hand with
// sqlite3's spellings of the same values.

import { describe, expect, test } from "bun:test";
import { Prng } from "../../../src/lib/index.ts";
import { matchesPayload, type JsonValue } from "../../../src/events/index.ts";
import { tempStore } from "../../helpers/temp.ts";

type Payload = { [path: string]: JsonValue };

async function expectSameAsMatchesPayload(store: ReturnType<typeof tempStore>["store"], payload: Payload): Promise<number> {
  const all = await store.readAll({ limit: 10_000 });
  const expected = all.filter((e) => matchesPayload(payload, e.data)).map((e) => e.position);
  for (const direction of ["forward", "backward"] as const) {
    const got = (await store.readAll({ filter: { payload }, limit: 10_000, direction })).map((e) => e.position);
    expect({ payload, direction, got }).toEqual({ payload, direction, got: direction === "forward" ? expected : [...expected].reverse() });
    const encoded = (await store.readAllEncoded({ filter: { payload }, limit: 10_000, direction })).map((e) => e.position);
    expect(encoded).toEqual(got);
  }
  return expected.length;
}

describe("payload filters on $all", () => {
  test("values SQLite spells differently still match: escapes, 42.0, big numbers, booleans beside 1, null beside missing", async () => {
    await using t = tempStore();
    const written: JsonValue[] = [
      { n: 42, s: "é", b: true, z: null, o: { p: { q: "deep" } }, a: [1, 2] },
      { n: 1, b: 1, z: 0, s: "e" },
      { other: true },
      { big: 12345678901234567890, small: 0.1 + 0.2, neg: -0, tiny: 5e-324 },
      { "a.b": "dotted key", 'quote"key': 1, "": "empty key", "back\\slash": 2 },
      { emoji: "😀", lone: "\ud800x" },
      { o: { p: { q: "deep", r: 1 } } },
    ];
    for (const data of written) await t.store.append("s", "any", [{ type: "T", data }]);
    await t.store.append("bytes", "any", [{ type: "B", data: new Uint8Array([123, 125]), contentType: "application/octet-stream" }]);
    // Rows as sqlite3 could leave them: the same values in other JSON spellings, and JSON as a blob.
    await t.store.append("hand", "any", Array.from({ length: 7 }, () => ({ type: "H", data: {} })));
    // SQLite reads the last literal one unit in the last place below what JSON.parse reads.
    const spellings = ['{"n":42.0,"s":"\\u00e9"}', '{"n":4.2e1,"b":true}', '{"emoji":"\\ud83d\\ude00"}', '{"n":42.000000000000001}', '{"s":"\\u00e9","n":42}', '{"ulp":194841877.28138311209479}'];
    spellings.forEach((text, i) => t.store.database.run("UPDATE events SET data = ? WHERE stream_id = 'hand' AND version = ?", [text, i]));
    t.store.database.run("UPDATE events SET data = CAST(? AS BLOB) WHERE stream_id = 'hand' AND version = 6", ['{"n":42,"s":"é"}']);

    const cases: Array<[Payload, number]> = [
      [{ n: 42 }, 6],
      [{ s: "é" }, 4],
      [{ n: 42, s: "é" }, 4],
      [{ b: true }, 2],
      [{ b: 1 }, 1],
      [{ z: null }, 1],
      [{ z: 0 }, 1],
      [{ "o.p.q": "deep" }, 2],
      [{ o: { p: { q: "deep" } } }, 2],
      [{ o: { p: { r: 1 } } }, 1],
      [{ a: [1, 2] }, 1],
      [{ a: [1] }, 0],
      [{ big: 12345678901234567890 }, 1],
      [{ small: 0.30000000000000004 }, 1],
      [{ small: 0.3 }, 0],
      [{ neg: 0 }, 1],
      [{ tiny: 5e-324 }, 1],
      [{ ulp: 194841877.28138313 }, 1],
      [{ 'quote"key': 1 }, 1],
      [{ "back\\slash": 2 }, 1],
      [{ "": "empty key" }, 1],
      [{ emoji: "😀" }, 2],
      [{ lone: "\ud800x" }, 1],
      [{ missing: null }, 0],
      [{ n: 42, missing: "x" }, 0],
    ];
    for (const [payload, count] of cases) expect({ payload, count: await expectSameAsMatchesPayload(t.store, payload) }).toEqual({ payload, count });
  });

  test("random data and random filters: the filtered read is exactly matchesPayload over every event", async () => {
    await using t = tempStore();
    const prng = new Prng(7);
    const scalars: JsonValue[] = [0, 1, -1, 2.5, 1e21, "a", "b", "é", "", true, false, null];
    const keys = ["k", "m", "x.y", "n"];
    const randomValue = (depth: number): JsonValue => {
      if (depth > 0 && prng.chance(0.25)) return Object.fromEntries(Array.from({ length: prng.int(1, 3) }, () => [prng.pick(keys), randomValue(depth - 1)]));
      if (prng.chance(0.1)) return [prng.pick(scalars), prng.pick(scalars)];
      return prng.pick(scalars);
    };
    const randomObject = (depth: number): { [key: string]: JsonValue } => Object.fromEntries(Array.from({ length: prng.int(0, 4) }, () => [prng.pick(keys), randomValue(depth)]));
    for (let i = 0; i < 400; i++) await t.store.append(`s-${i % 7}`, "any", [{ type: "T", data: randomObject(2) }]);
    let matched = 0;
    for (let i = 0; i < 150; i++) {
      const payload: Payload = {};
      for (let f = prng.int(1, 2); f > 0; f--) payload[prng.pick(["k", "m", "n", "k.k", "k.m", "m.n"])] = randomValue(1);
      matched += await expectSameAsMatchesPayload(t.store, payload);
    }
    // The filters are not all empty-handed: the comparison saw matches.
    expect(matched).toBeGreaterThan(150);
  });

  test("filters of 300 different shapes (each prepares its own statement) all read right, before and after the cache is cleared", async () => {
    await using t = tempStore();
    const values: JsonValue[] = [null, true, false, "s", 7];
    await t.store.append("s", "any", values.map((v) => ({ type: "T", data: { a: v, b: v, c: v, d: v } })));
    // Sequences of value kinds over four fields: 5 + 25 + 125 + 625 shapes, the first 300 used.
    const shapes: JsonValue[][] = [];
    for (let length = 1; length <= 4 && shapes.length < 300; length++) {
      const count = values.length ** length;
      for (let n = 0; n < count && shapes.length < 300; n++) shapes.push(Array.from({ length }, (_, i) => values[Math.floor(n / values.length ** i) % values.length] ?? null));
    }
    for (const round of [0, 1]) {
      for (const shape of shapes) {
        const payload = Object.fromEntries(shape.map((v, i) => [["a", "b", "c", "d"][i] ?? "a", v]));
        const expected = shape.every((v) => v === shape[0]) ? [values.indexOf(shape[0] ?? null)] : [];
        expect({ round, payload, got: (await t.store.readAll({ filter: { payload } })).map((e) => e.position) }).toEqual({ round, payload, got: expected });
      }
    }
  });

  test("a page of a sparse match fills across many chunks, and maxBytes still ends it", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", Array.from({ length: 3000 }, (_, i) => ({ type: "T", data: { i, hit: i % 500 === 0 } })));
    expect((await t.store.readAll({ filter: { payload: { hit: true } }, limit: 5 })).map((e) => e.position)).toEqual([0, 500, 1000, 1500, 2000]);
    expect((await t.store.readAll({ filter: { payload: { hit: true } }, limit: 5, direction: "backward" })).map((e) => e.position)).toEqual([2500, 2000, 1500, 1000, 500]);
    expect((await t.store.readAll({ filter: { payload: { hit: true } }, maxBytes: 1 })).map((e) => e.position)).toEqual([0]);
  });
});
