import { describe, expect, test } from "bun:test";
import { AssertionError, Prng, assert, isUuid, uuidV7 } from "../../../src/lib/index.ts";

describe("Prng", () => {
  test("the same seed gives the same sequence; another seed another", () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const seq = (p: Prng) => Array.from({ length: 20 }, () => p.nextUint32());
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(seq(c)).not.toEqual(first);
  });

  test("int stays in its inclusive bounds and reaches both ends", () => {
    const p = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = p.int(3, 6);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(6);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });

  test("forks are independent and deterministic", () => {
    const f1 = new Prng(1).fork();
    const f2 = new Prng(1).fork();
    expect(f1.nextUint32()).toBe(f2.nextUint32());
  });
});

describe("uuid", () => {
  test("v7 puts the time first, sets version and variant bits", () => {
    const id = uuidV7(0x0190a8c47f4e, new Uint8Array(10).fill(0xff));
    expect(id).toBe("0190a8c4-7f4e-7fff-bfff-ffffffffffff");
    expect(isUuid(id)).toBe(true);
    expect(uuidV7(1, new Uint8Array(10)) < uuidV7(2, new Uint8Array(10))).toBe(true);
  });

  test("v7 reads its random bytes at an offset, and each id carries its own time however the times alternate", () => {
    const pool = Uint8Array.from({ length: 30 }, (_, i) => i);
    expect(uuidV7(0x0190a8c47f4e, pool, 10)).toBe("0190a8c4-7f4e-7a0b-8c0d-0e0f10111213");
    expect(uuidV7(0x0190a8c47f4e, pool, 20)).toBe("0190a8c4-7f4e-7415-9617-18191a1b1c1d");
    const times = [5, 5, 0x0190a8c47f4e, 5, 0xffff_ffff_ffff, 0x0190a8c47f4e];
    expect(times.map((t) => uuidV7(t, pool).slice(0, 14))).toEqual(["00000000-0005-", "00000000-0005-", "0190a8c4-7f4e-", "00000000-0005-", "ffffffff-ffff-", "0190a8c4-7f4e-"]);
  });

  test("isUuid accepts only the canonical lower-case form", () => {
    expect(isUuid("0190A8C4-7F4E-7FFF-BFFF-FFFFFFFFFFFF")).toBe(false);
    expect(isUuid("0190a8c47f4e7fffbfffffffffffffff")).toBe(false);
    expect(isUuid(42)).toBe(false);
  });
});

describe("assert", () => {
  test("throws an AssertionError naming the invariant", () => {
    expect(() => assert(false, "positions only grow")).toThrow(new AssertionError("assertion failed: positions only grow"));
    expect(() => assert(true, "fine")).not.toThrow();
  });
});

describe("limits agree with each other", () => {
  test("the largest append fits one raft entry, and a message with that entry fits one TCP frame", async () => {
    const { limits } = await import("../../../src/lib/index.ts");
    expect(limits.entryDataBytesMax).toBeGreaterThan(limits.appendBytesMax);
    expect(limits.bulkMessageBytesMax).toBeLessThanOrEqual(limits.tcpBodyBytesMax);
    // The entry plus the message around it (terms, indexes, node ids: far under 64 KiB).
    expect(limits.entryDataBytesMax + 64 * 1024).toBeLessThanOrEqual(limits.bulkMessageBytesMax);
    // Small raft messages travel as one UDP datagram with the frame header and tag.
    expect(limits.smallMessageBytesMax).toBeLessThan(limits.udpFrameBytesMax);
  });
});
