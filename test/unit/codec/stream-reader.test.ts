// Cutting a TCP byte stream into frames: any split of the bytes gives the same frames, and a
// bad header is reported as soon as the header is in.

import { describe, expect, test } from "bun:test";
import { sealFrame, StreamReader } from "../../../src/codec/index.ts";
import { keys } from "./fixtures.ts";

const k = keys();
const frame = (n: number, bodyBytes: number) =>
  sealFrame({ type: 16, clusterId: k.clusterId, sequence: n, sender: "node-a", body: new Uint8Array(bodyBytes).fill(n) }, k.current.tcp);

describe("stream reader", () => {
  test("three frames fed one byte at a time, or all at once, come out whole and in order", () => {
    const frames = [frame(1, 0), frame(2, 300), frame(3, 5)];
    const stream = Buffer.concat(frames);
    for (const step of [1, 7, stream.length]) {
      const reader = new StreamReader(1000);
      const out: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += step) {
        reader.push(stream.subarray(at, at + step));
        for (let next = reader.next(); next.kind === "frame"; next = reader.next()) out.push(next.frame);
      }
      expect(out.map((f) => Buffer.from(f))).toEqual(frames.map((f) => Buffer.from(f)));
      expect(reader.bufferedBytes).toBe(0);
    }
  });

  test("an oversized or bad header is reported before its body arrives", () => {
    const reader = new StreamReader(100);
    reader.push(frame(1, 101).subarray(0, 40));
    expect(reader.next()).toMatchObject({ kind: "error", reason: "oversized" });
    const garbage = new StreamReader(100);
    garbage.push(new Uint8Array(40).fill(1));
    expect(garbage.next()).toMatchObject({ kind: "error", reason: "bad_magic" });
  });
});
