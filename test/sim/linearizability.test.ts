// The register linearizability checker accepts what is linearizable and rejects what is not,
// including writes whose outcome is unknown (response at +Infinity).

import { expect, test } from "bun:test";
import { checkRegister, type RegisterOp } from "./linearizability.ts";

const inf = Number.POSITIVE_INFINITY;
const w = (value: number, call: number, response: number): RegisterOp => ({ kind: "write", value, call, response });
const r = (value: number | null, call: number, response: number): RegisterOp => ({ kind: "read", value, call, response });

test("a sequential history is linearizable", () => {
  expect(checkRegister([w(1, 1, 2), r(1, 3, 4), w(2, 5, 6), r(2, 7, 8)])).toBe("ok");
});

test("a stale read after a completed write is not linearizable", () => {
  expect(checkRegister([w(1, 1, 2), w(2, 3, 4), r(1, 5, 6)])).toBe("violation");
});

test("a read of the initial value after a completed write is not linearizable", () => {
  expect(checkRegister([w(1, 1, 2), r(null, 3, 4)])).toBe("violation");
});

test("concurrent operations may take effect in either order", () => {
  expect(checkRegister([w(1, 1, 10), w(2, 2, 9), r(1, 11, 12)])).toBe("ok");
  expect(checkRegister([w(1, 1, 10), w(2, 2, 9), r(2, 11, 12)])).toBe("ok");
});

test("reads cannot see values go back and forth", () => {
  expect(checkRegister([w(1, 1, 10), w(2, 2, 10), r(1, 3, 4), r(2, 5, 6), r(1, 7, 8)])).toBe("violation");
});

test("a write whose answer was lost may take effect later, or never", () => {
  expect(checkRegister([w(1, 1, 2), w(2, 3, inf), r(1, 4, 5), r(2, 6, 7)])).toBe("ok");
  expect(checkRegister([w(1, 1, 2), w(2, 3, inf), r(1, 4, 5)])).toBe("ok");
  // ...but not before it was called.
  expect(checkRegister([w(1, 1, 2), r(2, 3, 4), w(2, 5, inf)])).toBe("violation");
});

test("a read of a value never written is not linearizable", () => {
  expect(checkRegister([w(1, 1, 2), r(7, 3, 4)])).toBe("violation");
});
