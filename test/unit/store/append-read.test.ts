// Appends and reads as a user sees them: stored fields, atomic batches, paging both ways, the
// global order and its server-side filters, stream listing, reopening.

import { describe, expect, test } from "bun:test";
import { openStore } from "../../../src/index.ts";
import { event, tempStore } from "../../helpers/temp.ts";

describe("append and read", () => {
  test("a stored event has every field, and JSON data stays JSON in the file", async () => {
    await using t = tempStore();
    const id = "0190a8c4-7f4e-7a1b-8c3d-123456789abc";
    const result = await t.store.append("order-1", "no_stream", [
      { id, type: "OrderPlaced", data: { total: 42, lines: [{ sku: "a" }] }, metadata: { correlationId: "c-1" } },
    ]);
    expect(result).toEqual({ nextVersion: 0, position: 0 });
    const [stored] = await t.store.read("order-1");
    expect(stored).toEqual({
      id,
      streamId: "order-1",
      version: 0,
      position: 0,
      type: "OrderPlaced",
      data: { total: 42, lines: [{ sku: "a" }] },
      metadata: { correlationId: "c-1" },
      contentType: "application/json",
      createdAt: expect.any(Date),
    });
    const raw = t.store.database.query("SELECT data, json_extract(data, '$.total') AS total FROM events").get() as { data: string; total: number };
    expect(raw.total).toBe(42);
  });

  test("encoded reads give the same events with JSON left as the stored text, with the same errors", async () => {
    await using t = tempStore();
    await t.store.append("order-1", "no_stream", [
      { type: "Placed", data: { total: 42, note: "é" }, metadata: { by: "c-1" } },
      { type: "Raw", data: new Uint8Array([1, 2, 255]), contentType: "application/x-raw" },
    ]);
    await t.store.append("user-1", "any", [{ type: "Joined", data: { total: 7 } }]);
    const decodeLike = (e: Awaited<ReturnType<typeof t.store.readEncoded>>[number]) => ({
      id: e.id, streamId: e.streamId, version: e.version, position: e.position, type: e.type,
      data: typeof e.data === "string" ? JSON.parse(e.data) : e.data,
      metadata: e.metadata === null ? null : JSON.parse(e.metadata),
      contentType: e.contentType, createdAt: new Date(e.createdAtMs),
    });
    const encoded = await t.store.readEncoded("order-1");
    expect(typeof encoded[0]?.data).toBe("string");
    expect(encoded[0]?.metadata).toBe('{"by":"c-1"}');
    expect(encoded[1]?.data).toEqual(new Uint8Array([1, 2, 255]));
    expect(encoded.map(decodeLike)).toEqual(await t.store.read("order-1"));
    expect((await t.store.readEncoded("order-1", { direction: "backward", limit: 1 })).map(decodeLike)).toEqual(await t.store.read("order-1", { direction: "backward", limit: 1 }));
    for (const options of [{}, { filter: { eventTypes: ["Joined"] } }, { filter: { payload: { total: 42 } } }, { fromPosition: 2, direction: "backward" as const }]) {
      expect((await t.store.readAllEncoded(options)).map(decodeLike)).toEqual(await t.store.readAll(options));
    }
    expect(await t.store.readEncoded("nope").catch((e: { code?: string }) => e.code)).toBe("stream_not_found");
    await t.store.delete("user-1", "any", { hard: true });
    expect(await t.store.readEncoded("user-1").catch((e: { code?: string }) => e.code)).toBe("stream_deleted");
  });

  test("maxBytes ends a page after the event that reaches it (at least one event); the statement is reusable after", async () => {
    await using t = tempStore();
    const kb = (n: number) => ({ type: "K", data: { n, pad: "p".repeat(990) } });
    await t.store.append("s", "any", Array.from({ length: 10 }, (_, n) => kb(n)));
    const sizes = (await t.store.readEncoded("s")).map((e) => (e.data as string).length);
    expect(sizes.every((n) => n > 990 && n < 1010)).toBe(true);
    // Three events reach 2,500 bytes: the third is the last.
    expect((await t.store.readEncoded("s", { maxBytes: 2500 })).map((e) => e.version)).toEqual([0, 1, 2]);
    expect((await t.store.read("s", { maxBytes: 1, from: 4 })).map((e) => e.version)).toEqual([4]);
    expect((await t.store.read("s", { maxBytes: 2500, direction: "backward" })).map((e) => e.version)).toEqual([9, 8, 7]);
    // The statements stopped early still read everything next time.
    expect(await t.store.readEncoded("s")).toHaveLength(10);
    expect((await t.store.readAllEncoded({ maxBytes: 1500 })).map((e) => e.position)).toEqual([0, 1]);
    expect((await t.store.readAll({ maxBytes: 1500, filter: { payload: { pad: "p".repeat(990) } } })).map((e) => e.position)).toEqual([0, 1]);
    expect(await t.store.readAll()).toHaveLength(10);
    for (const bad of [0, -1, 1.5, "10"]) {
      expect(await t.store.read("s", { maxBytes: bad as number }).catch((e: { code?: string }) => e.code)).toBe("invalid_argument");
    }
  });

  test("JSON data or metadata stored as a blob (as sqlite3 could leave it) reads as JSON, decoded or encoded", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [{ type: "T", data: { a: "é" }, metadata: { m: "ü" } }]);
    t.store.database.run("UPDATE events SET data = CAST(data AS BLOB), metadata = CAST(metadata AS BLOB)");
    expect(t.store.database.query("SELECT typeof(data) AS d, typeof(metadata) AS m FROM events").get()).toEqual({ d: "blob", m: "blob" });
    expect((await t.store.read("s"))[0]).toMatchObject({ data: { a: "é" }, metadata: { m: "ü" } });
    expect((await t.store.readEncoded("s"))[0]).toMatchObject({ data: '{"a":"é"}', metadata: '{"m":"ü"}' });
    expect((await t.store.readAllEncoded({ maxBytes: 1 }))[0]).toMatchObject({ data: '{"a":"é"}', metadata: '{"m":"ü"}' });
  });

  test("maxBytes counts JSON stored as a blob as the text it reads as, the same in every read", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", Array.from({ length: 3 }, () => ({ type: "T", data: { a: "éééééééé" } })));
    t.store.database.run("UPDATE events SET data = CAST(data AS BLOB)");
    const text = '{"a":"éééééééé"}';
    expect(new TextEncoder().encode(text).byteLength).toBeGreaterThan(text.length + 1);
    // One event's text plus one: the second event reaches it. Counted as UTF-8 bytes, the first would.
    const maxBytes = text.length + 1;
    expect((await t.store.read("s", { maxBytes })).map((e) => e.version)).toEqual([0, 1]);
    expect((await t.store.readEncoded("s", { maxBytes })).map((e) => e.version)).toEqual([0, 1]);
    expect((await t.store.readAll({ maxBytes })).map((e) => e.position)).toEqual([0, 1]);
    expect((await t.store.readAllEncoded({ maxBytes })).map((e) => e.position)).toEqual([0, 1]);
    expect((await t.store.readAll({ maxBytes, filter: { payload: { a: "éééééééé" } } })).map((e) => e.position)).toEqual([0, 1]);
  });

  test("a read event is a plain object with its fields in the documented order", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [{ type: "T", data: { a: 1 }, metadata: { m: 2 } }]);
    for (const event of [(await t.store.read("s"))[0], (await t.store.readAll())[0]]) {
      expect(Object.keys(event ?? {})).toEqual(["id", "streamId", "version", "position", "type", "data", "metadata", "contentType", "createdAt"]);
      expect(event?.createdAt).toBeInstanceOf(Date);
      expect(JSON.parse(JSON.stringify(event))).toMatchObject({ data: { a: 1 }, metadata: { m: 2 }, createdAt: event?.createdAt.toISOString() });
    }
  });

  test("generated ids are UUID v7 and unique", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", Array.from({ length: 100 }, () => event()));
    const ids = (await t.store.read("s")).map((e) => e.id);
    expect(new Set(ids).size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test("bytes are stored as a blob with their content type", async () => {
    await using t = tempStore();
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    await t.store.append("b", "any", [{ type: "Blob", data: bytes, contentType: "image/png" }]);
    const [stored] = await t.store.read("b");
    expect(stored?.data).toEqual(bytes);
    expect(stored?.contentType).toBe("image/png");
  });

  test("a multi-event append gets consecutive versions and positions and returns the last", async () => {
    await using t = tempStore();
    await t.store.append("a", "any", [event()]);
    const result = await t.store.append("b", "no_stream", [event("x"), event("y"), event("z")]);
    expect(result).toEqual({ nextVersion: 2, position: 3 });
    const events = await t.store.read("b");
    expect(events.map((e) => [e.version, e.position, e.type])).toEqual([[0, 1, "x"], [1, 2, "y"], [2, 3, "z"]]);
  });

  test("a large batch (several INSERT statements) keeps every event, in order, at consecutive versions and positions", async () => {
    await using t = tempStore();
    await t.store.append("a", "any", [event()]);
    // 70 events: more than two statements' worth, and a remainder.
    const batch = Array.from({ length: 70 }, (_, i) => ({ type: `T${i}`, data: { i }, metadata: i % 2 === 0 ? { even: true } : undefined }));
    expect(await t.store.append("b", "no_stream", batch)).toEqual({ nextVersion: 69, position: 70 });
    const events = await t.store.read("b", { limit: 100 });
    const expected: unknown[] = batch.map((e, i) => [i, i + 1, e.type, { i }, i % 2 === 0 ? { even: true } : null]);
    expect(events.map((e): unknown => [e.version, e.position, e.type, e.data, e.metadata])).toEqual(expected);
    expect(new Set(events.map((e) => e.id)).size).toBe(70);
    expect(await t.store.append("a", "any", [event("After")])).toEqual({ nextVersion: 1, position: 71 });
  });

  test("reads page forward and backward, from is inclusive", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", Array.from({ length: 10 }, (_, i) => event("E", { i })));
    expect((await t.store.read("s", { from: 3, limit: 4 })).map((e) => e.version)).toEqual([3, 4, 5, 6]);
    expect((await t.store.read("s", { direction: "backward", limit: 3 })).map((e) => e.version)).toEqual([9, 8, 7]);
    expect((await t.store.read("s", { direction: "backward", from: 4, limit: 10 })).map((e) => e.version)).toEqual([4, 3, 2, 1, 0]);
    expect(await t.store.read("s", { from: 10 })).toEqual([]);
  });

  test("$all is the global order across streams, inclusive, both directions", async () => {
    await using t = tempStore();
    await t.store.append("a", "any", [event("A1")]);
    await t.store.append("b", "any", [event("B1")]);
    await t.store.append("a", "any", [event("A2")]);
    const all = await t.store.readAll();
    expect(all.map((e) => [e.position, e.streamId, e.type])).toEqual([[0, "a", "A1"], [1, "b", "B1"], [2, "a", "A2"]]);
    expect((await t.store.readAll({ fromPosition: 1, limit: 1 })).map((e) => e.type)).toEqual(["B1"]);
    expect((await t.store.readAll({ direction: "backward" })).map((e) => e.position)).toEqual([2, 1, 0]);
    expect((await t.store.readAll({ direction: "backward", fromPosition: 1 })).map((e) => e.position)).toEqual([1, 0]);
  });

  test("$all filters server-side by event type, stream prefix, stream pattern and payload", async () => {
    await using t = tempStore();
    await t.store.append("order-1", "any", [event("Placed", { customer: { country: "NL" }, total: 5 })]);
    await t.store.append("order-2", "any", [event("Placed", { customer: { country: "DE" }, total: 7 })]);
    await t.store.append("user-1", "any", [event("Registered", { country: "NL" })]);
    await t.store.append("order_x", "any", [event("Shipped", {})]);
    await t.store.append("order-10", "any", [event("Shipped", {})]);
    const types = (f: object) => t.store.readAll({ filter: f }).then((es) => es.map((e) => e.streamId));
    expect(await types({ eventTypes: ["Placed"] })).toEqual(["order-1", "order-2"]);
    expect(await types({ eventTypes: ["Registered", "Shipped"] })).toEqual(["user-1", "order_x", "order-10"]);
    expect(await types({ streamPrefix: "order-" })).toEqual(["order-1", "order-2", "order-10"]);
    expect(await types({ streamPattern: "order-?" })).toEqual(["order-1", "order-2"]);
    expect(await types({ streamPattern: "*-1*" })).toEqual(["order-1", "user-1", "order-10"]);
    expect(await types({ payload: { "customer.country": "NL" } })).toEqual(["order-1"]);
    expect(await types({ payload: { customer: { country: "DE" } } })).toEqual(["order-2"]);
    expect(await types({ eventTypes: ["Placed"], payload: { total: 7 } })).toEqual(["order-2"]);
  });

  test("a payload filter fills its page even when matches are sparse", async () => {
    await using t = tempStore();
    for (let i = 0; i < 1000; i++) await t.store.append(`s-${i}`, "any", [event("E", { hit: i % 100 === 0 })]);
    const hits = await t.store.readAll({ filter: { payload: { hit: true } }, limit: 5 });
    expect(hits.map((e) => e.streamId)).toEqual(["s-0", "s-100", "s-200", "s-300", "s-400"]);
  });

  test("prefix filters treat GLOB characters literally", async () => {
    await using t = tempStore();
    await t.store.append("a*b-1", "any", [event()]);
    await t.store.append("axb-1", "any", [event()]);
    expect((await t.store.readAll({ filter: { streamPrefix: "a*b" } })).map((e) => e.streamId)).toEqual(["a*b-1"]);
  });

  test("streams() pages through streams with version and event count", async () => {
    await using t = tempStore();
    for (const id of ["c", "a", "b", "d"]) await t.store.append(id, "any", [event(), event()]);
    const first = await t.store.streams({ limit: 3 });
    expect(first).toEqual({
      streams: [
        { streamId: "a", version: 1, eventCount: 2 },
        { streamId: "b", version: 1, eventCount: 2 },
        { streamId: "c", version: 1, eventCount: 2 },
      ],
      next: "c",
    });
    expect(await t.store.streams({ after: "c", limit: 3 })).toEqual({ streams: [{ streamId: "d", version: 1, eventCount: 2 }], next: null });
  });

  test("JSON given as bytes is stored as JSON text; bytes that are not JSON are refused", async () => {
    await using t = tempStore();
    await t.store.append("j", "any", [{ type: "T", data: new TextEncoder().encode('{"a":[1,"é"]}'), contentType: "application/json" }]);
    expect((await t.store.read("j"))[0]).toMatchObject({ data: { a: [1, "é"] }, contentType: "application/json" });
    const raw = t.store.database.query("SELECT typeof(data) AS kind FROM events").get() as { kind: string };
    expect(raw.kind).toBe("text");
    const bad = t.store.append("j", "any", [{ type: "T", data: new Uint8Array([0xff, 0x7b]), contentType: "application/json" }]);
    await expect(bad).rejects.toMatchObject({ code: "invalid_argument" });
    expect((await t.store.readAll()).length).toBe(1);
  });

  test("a read-only store reading $all backward starts at the current head", async () => {
    await using t = tempStore();
    await t.store.append("s", "any", [event("A")]);
    const readOnly = openStore({ dataDir: t.dir, readOnly: true });
    await t.store.append("s", "any", [event("B"), event("C")]);
    expect((await readOnly.readAll({ direction: "backward", limit: 1 }))[0]?.type).toBe("C");
    await readOnly.close();
  });

  test("everything survives a reopen, and positions continue", async () => {
    await using t = tempStore({ durability: "full" });
    await t.store.append("s", "any", [event(), event()]);
    await t.store.close();
    const store = t.reopen();
    expect(await store.version("s")).toBe(1);
    expect(await store.append("t", "any", [event()])).toEqual({ nextVersion: 0, position: 2 });
  });
});
