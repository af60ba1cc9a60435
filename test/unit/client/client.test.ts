// The client against a live gateway: one contract run over the unix socket and over TCP (with a
// token), the library's error classes back from every status, live reads as async iterators.

import { describe, expect, test } from "bun:test";
import { EdgeEsdbClient, HttpStatusError, InvalidArgumentError, NotFoundError, StreamDeletedError, StreamNotFoundError, TooLargeError, WrongExpectedVersionError, type RecordedEvent } from "../../../src/client/index.ts";
import { startTestGateway, type TestGateway } from "../api/harness.ts";

const transports: Array<[string, (gw: TestGateway) => EdgeEsdbClient]> = [
  ["unix socket", (gw) => new EdgeEsdbClient({ socketPath: gw.socketPath })],
  ["TCP with a token", (gw) => new EdgeEsdbClient({ url: gw.gateway.url as string, token: "t0ken" })],
];

for (const [name, connect] of transports) {
  describe(`client over ${name}`, () => {
    test("append, read, readAll, exists, version, streams, delete, fold", async () => {
      await using gw = await startTestGateway({ token: "t0ken" });
      using client = connect(gw);
      expect(await client.append("order-1", "no_stream", [{ type: "Placed", data: { total: 5 } }])).toEqual({ nextVersion: 0, position: 0 });
      expect(await client.append("order-1", 0, [{ type: "Raw", data: new Uint8Array([1, 2, 255]), contentType: "application/x-raw", metadata: { m: 1 } }])).toEqual({ nextVersion: 1, position: 1 });
      const events = await client.read("order-1");
      expect(events.map((e) => e.type)).toEqual(["Placed", "Raw"]);
      expect(events[0]?.createdAt).toBeInstanceOf(Date);
      expect(events[0]?.data).toEqual({ total: 5 });
      expect(events[1]?.data).toEqual(new Uint8Array([1, 2, 255]));
      expect(events[1]).toMatchObject({ contentType: "application/x-raw", metadata: { m: 1 } });
      expect((await client.read("order-1", { direction: "backward", limit: 1 })).map((e) => e.version)).toEqual([1]);
      await client.append("user-1", "any", [{ type: "Joined", data: {} }]);
      expect((await client.readAll({ filter: { eventTypes: ["Joined"] } })).map((e) => e.streamId)).toEqual(["user-1"]);
      expect((await client.readAll({ fromPosition: 1, limit: 1 })).map((e) => e.position)).toEqual([1]);
      expect(await client.exists("order-1")).toBe(true);
      expect(await client.exists("nope")).toBe(false);
      expect(await client.version("order-1")).toBe(1);
      expect(await client.version("nope")).toBe(-1);
      expect(await client.streams({ limit: 1 })).toEqual({ streams: [{ streamId: "order-1", version: 1, eventCount: 2 }], next: "order-1" });
      await client.setStreamMetadata("order-1", { maxCount: 1 });
      expect(await client.getStreamMetadata("order-1")).toEqual({ maxCount: 1 });
      expect((await client.read("order-1")).map((e) => e.version)).toEqual([1]);
      await client.setStreamMetadata("order-1", {});
      expect(await client.getStreamMetadata("order-1")).toEqual({});
      expect(await client.setStreamMetadata("order-1", { maxCount: 0 }).catch((e: unknown) => e)).toBeInstanceOf(InvalidArgumentError);
      const folded = await client.fold("order-1", (n: number) => n + 1, 0);
      expect(folded).toEqual({ state: 2, version: 1, streamExists: true });
      expect(await client.fold("nope", (n: number) => n + 1, 0)).toEqual({ state: 0, version: -1, streamExists: false });
      await client.delete("user-1", 0);
      expect(await client.exists("user-1")).toBe(false);
      await client.delete("order-1", "any", { hard: true });
      const deleted = await client.read("order-1").catch((e: unknown) => e);
      expect(deleted).toBeInstanceOf(StreamDeletedError);
      expect(await client.exists("order-1")).toBe(false);
      expect(await client.version("order-1").catch((e: unknown) => e)).toBeInstanceOf(StreamDeletedError);
      const info = await client.info();
      expect(info).toMatchObject({ mode: "single", version: "test", headPosition: 3 });
      expect(await client.health()).toBe(true);
      expect(await client.metrics()).toContain("edge_esdb_head_position 3");
    });

    test("errors come back as the library's classes with the same codes", async () => {
      await using gw = await startTestGateway({ token: "t0ken" });
      using client = connect(gw);
      await client.append("s", "any", [{ type: "T", data: 1 }]);
      const wrong = await client.append("s", 5, [{ type: "T", data: 1 }]).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(WrongExpectedVersionError);
      expect(wrong).toMatchObject({ code: "wrong_expected_version", streamId: "s", expected: 5, actual: 0, message: "stream 's': expected version 5, actual 0" });
      const named = await client.append("s", "no_stream", [{ type: "T", data: 1 }]).catch((e: unknown) => e);
      expect(named).toMatchObject({ code: "wrong_expected_version", expected: "no_stream", actual: 0 });
      const missing = await client.read("nope").catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(StreamNotFoundError);
      expect(missing).toMatchObject({ code: "stream_not_found", streamId: "nope" });
      expect(await client.append("s", "any", [{ type: "", data: 1 }]).catch((e: unknown) => e)).toBeInstanceOf(InvalidArgumentError);
      expect(await client.snapshots.load("s").catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    });

    test("snapshots: save, load latest and by version, list, delete", async () => {
      await using gw = await startTestGateway({ token: "t0ken" });
      using client = connect(gw);
      await client.append("acc", "any", [{ type: "T", data: 1 }, { type: "T", data: 2 }]);
      const saved = await client.snapshots.save("acc", 0, { sum: 1 }, { note: "a" });
      expect(saved).toMatchObject({ streamId: "acc", version: 0, data: { sum: 1 }, metadata: { note: "a" } });
      expect(saved.createdAt).toBeInstanceOf(Date);
      await client.snapshots.save("acc", 1, new Uint8Array([9, 8]));
      expect((await client.snapshots.load("acc")).data).toEqual(new Uint8Array([9, 8]));
      expect((await client.snapshots.load("acc", 0)).data).toEqual({ sum: 1 });
      expect((await client.snapshots.list("acc")).map((s) => s.version)).toEqual([1, 0]);
      await client.snapshots.delete("acc", 1);
      expect((await client.snapshots.load("acc")).version).toBe(0);
      // From the snapshot at 0 ({ sum: 1 }) plus the event at 1 (data 2).
      expect(await client.foldFromSnapshot("acc", (s: { sum: number }, e) => ({ sum: s.sum + (e.data as number) }), { sum: 0 })).toEqual({ state: { sum: 3 }, version: 1, streamExists: true });
      expect(await client.foldFromSnapshot("none", (n: number) => n + 1, 0)).toEqual({ state: 0, version: -1, streamExists: false });
    });

    test("live reads: catch-up then live as an async iterator, resumable with lastEventId", async () => {
      await using gw = await startTestGateway({ token: "t0ken" });
      using client = connect(gw);
      await client.append("a", "any", [{ type: "T", data: 0 }, { type: "T", data: 1 }]);
      await client.append("b", "any", [{ type: "T", data: 2 }]);
      const live = client.live("a");
      const seen: RecordedEvent[] = [];
      for await (const event of live) {
        seen.push(event);
        if (seen.length === 2) await client.append("a", "any", [{ type: "T", data: 3 }]);
        if (seen.length === 3) break;
      }
      expect(seen.map((e) => [e.position, e.version, e.data])).toEqual([[0, 0, 0], [1, 1, 1], [3, 2, 3]]);
      expect(live.lastEventId).toBe(3);

      const all = client.liveAll({ lastEventId: 1, from: 0 });
      const positions: number[] = [];
      for await (const event of all) {
        positions.push(event.position);
        if (positions.length === 2) break;
      }
      expect(positions).toEqual([2, 3]);

      const filtered = client.liveAll({ filter: { streamPrefix: "b" } });
      for await (const event of filtered) {
        expect(event.streamId).toBe("b");
        break;
      }
      await client.append("x", "any", [{ type: "T", data: 1 }]);
      await client.delete("x", "any", { hard: true });
      await expect((async () => { for await (const _ of client.live("x")) break; })()).rejects.toBeInstanceOf(StreamDeletedError);
    });

    test("a live read ends when the server stops", async () => {
      const gw = await startTestGateway({ token: "t0ken" });
      const client = connect(gw);
      try {
        await client.append("a", "any", [{ type: "T", data: 0 }]);
        const seen: number[] = [];
        for await (const event of client.live("a")) {
          seen.push(event.position);
          void gw.gateway.stop();
        }
        expect(seen).toEqual([0]);
      } finally {
        client.close();
        await gw[Symbol.asyncDispose]();
      }
    });
  });
}

describe("client errors", () => {
  test("401 without the token is an HttpStatusError with code unauthorized", async () => {
    await using gw = await startTestGateway({ token: "t0ken" });
    using client = new EdgeEsdbClient({ url: gw.gateway.url as string });
    const error = await client.append("s", "any", [{ type: "T", data: 1 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ status: 401, code: "unauthorized" });
  });

  test("413 is a TooLargeError naming the limit", async () => {
    await using gw = await startTestGateway({ bodyBytesMax: 512 });
    using client = new EdgeEsdbClient({ socketPath: gw.socketPath });
    const error = await client.append("s", "any", [{ type: "T", data: "x".repeat(1000) }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooLargeError);
    expect(error).toMatchObject({ code: "too_large", limitName: "bodyBytesMax", limit: 512 });
  });
});
