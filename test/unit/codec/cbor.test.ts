// CBOR bodies: round trips on cbor-x's pure-JS path, and the pre-scan that refuses tags,
// indefinite lengths, lying lengths, deep nesting and trailing bytes before cbor-x runs.

import { describe, expect, test } from "bun:test";
import { isNativeAccelerationEnabled } from "cbor-x/decode";
import { decodeCbor, encodeCbor, scanCbor } from "../../../src/codec/index.ts";
import { cborDepthMax } from "../../../src/lib/limits-wire.ts";

describe("cbor bodies", () => {
  test("the codec's cbor-x runs without the native addon", () => {
    expect(isNativeAccelerationEnabled).toBe(false);
  });

  test("values round-trip: numbers, strings, bytes, arrays, nested objects, null, booleans", () => {
    const value = { a: 1, b: -7, c: 2.5, d: 2 ** 40, e: "ünï", f: new Uint8Array([0, 255]), g: [null, true, false], h: { i: [] } };
    expect(decodeCbor(encodeCbor(value))).toEqual({ value });
  });

  test("a __proto__ key does not reach an object's prototype", () => {
    const decoded = decodeCbor(encodeCbor(JSON.parse('{"__proto__": {"polluted": 1}}'))) as { value: object };
    expect(Object.getPrototypeOf(decoded.value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("the scan refuses what cbor-x might mis-handle", () => {
    expect(scanCbor(new Uint8Array([]))).toBe(false); // nothing
    expect(scanCbor(new Uint8Array([0x01, 0x02]))).toBe(false); // trailing bytes
    expect(scanCbor(new Uint8Array([0xc0, 0x60]))).toBe(false); // tag 0
    expect(scanCbor(new Uint8Array([0x5f, 0xff]))).toBe(false); // indefinite bytes
    expect(scanCbor(new Uint8Array([0x1c]))).toBe(false); // reserved additional info
    expect(scanCbor(new Uint8Array([0x5a, 0xff, 0xff, 0xff, 0xff, 0x00]))).toBe(false); // bytes length lie
    expect(scanCbor(new Uint8Array([0x9b, 0, 0, 0, 1, 0, 0, 0, 0]))).toBe(false); // array count lie
    expect(scanCbor(new Uint8Array([0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(false); // map beyond 2^53
    expect(scanCbor(new Uint8Array([0xf8, 0x10]))).toBe(false); // simple value below 32 in two bytes
  });

  test("nesting deeper than cborDepthMax is refused, at the limit it is accepted", () => {
    const nested = (depth: number) => new Uint8Array([...Array(depth).fill(0x81), 0x00]);
    expect(scanCbor(nested(cborDepthMax - 1))).toBe(true);
    expect(decodeCbor(nested(cborDepthMax - 1))).not.toBeNull();
    expect(scanCbor(nested(cborDepthMax))).toBe(false);
    expect(scanCbor(nested(100_000))).toBe(false);
  });
});
