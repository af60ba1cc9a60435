// Bulk frames encoded straight into a shared arena (prepareFrameOf): each frame is the same bytes
// prepareFrame makes from the encoded body, and nothing encoded later (by any encoder, since
// cbor-x shares its buffer between them) writes into a frame already made.

import { describe, expect, test } from "bun:test";
import {
  decodeCbor,
  encodeCbor,
  encodeCborView,
  finishFrame,
  prepareFrame,
  prepareFrameOf,
  readHeader,
} from "../../../src/codec/index.ts";
import { frameArenaBytes } from "../../../src/lib/limits-wire.ts";
import { keys } from "./fixtures.ts";

const k = keys();
const body = (i: number, bytes: number) => ({ id: i, text: `body ${i} ${"é".repeat(200)}`, data: new Uint8Array(bytes).fill(i & 0xff) });

describe("frames encoded in place", () => {
  test("match prepareFrame byte for byte, and stay intact while more is encoded", () => {
    const made: Array<{ frame: Uint8Array; copy: Uint8Array; value: ReturnType<typeof body> }> = [];
    // Enough frames to fill several arenas, of sizes that land on every arena boundary case,
    // with ordinary encodes (whose views live in cbor-x's shared buffer) in between.
    for (let i = 0; i < 60; i++) {
      const value = body(i, (i * 7919) % (frameArenaBytes / 3));
      const frame = prepareFrameOf(17, k.clusterId, "node-a", value);
      expect(frame).toEqual(prepareFrame(17, k.clusterId, "node-a", encodeCbor(value)));
      finishFrame(frame, i + 1, k.current.tcp);
      made.push({ frame, copy: frame.slice(), value });
      encodeCborView({ filler: "x".repeat(3000), i });
      encodeCbor({ other: new Uint8Array(5000) });
    }
    for (const { frame, copy, value } of made) {
      expect(frame).toEqual(copy);
      const read = readHeader(frame, 1 << 26);
      if (!read.ok) throw new Error(read.reason);
      const decoded = decodeCbor(frame.subarray(read.header.bodyOffset, read.header.bodyOffset + read.header.bodyLength));
      expect(decoded?.value).toEqual(value);
    }
  });

  test("a body larger than an arena gets a frame of its own", () => {
    const value = body(1, frameArenaBytes * 2);
    const frame = prepareFrameOf(17, k.clusterId, "node-a", value);
    expect(frame).toEqual(prepareFrame(17, k.clusterId, "node-a", encodeCbor(value)));
    const next = prepareFrameOf(17, k.clusterId, "node-a", body(2, 10));
    expect(next).toEqual(prepareFrame(17, k.clusterId, "node-a", encodeCbor(body(2, 10))));
    expect(frame.subarray(frame.length - 100, frame.length - 32)).toEqual(new Uint8Array(68).fill(1));
  });
});
