// The pure write-path decisions: deterministic, and they never read anything but their inputs.

import { describe, expect, test } from "bun:test";
import { decideAppend, decideDelete, emptyStreamState, matchesFilter, prepareEvents, type AppendCommand } from "../../../src/events/index.ts";

const context = { nowMs: 1_700_000_000_000, newId: (() => { let n = 0; return () => `0190a8c4-0000-7000-8000-${String(++n).padStart(12, "0")}`; })() };

describe("decideAppend", () => {
  test("the same command on the same state decides the same, with versions and positions from the state", () => {
    const command: AppendCommand = { kind: "append", streamId: "s", expected: "no_stream", events: prepareEvents([{ type: "A", data: 1 }, { type: "B", data: 2 }], context) };
    const state = emptyStreamState("s");
    const first = decideAppend(command, state, [null, null], 10);
    const second = decideAppend(command, state, [null, null], 10);
    expect(first).toEqual(second);
    expect(first).toMatchObject({ kind: "write", firstVersion: 0, firstPosition: 10, result: { nextVersion: 1, position: 11 }, stream: { lastVersion: 1, lastPosition: 11, deletion: "none" } });
  });

  test("ids fixed before apply: preparing twice with fixed inputs gives identical events", () => {
    const fixed = { nowMs: 5, newId: () => "0190a8c4-0000-7000-8000-000000000009" };
    expect(prepareEvents([{ type: "A", data: { x: [1] } }], fixed)).toEqual(prepareEvents([{ type: "A", data: { x: [1] } }], fixed));
  });

  test("a soft delete hides up to the last version and keeps the numbering", () => {
    const state = { streamId: "s", lastVersion: 4, lastPosition: 9, truncateBefore: 0, deletion: "none" as const };
    const decision = decideDelete({ kind: "delete", streamId: "s", expected: 4, hard: false }, state);
    expect(decision).toMatchObject({ kind: "delete", stream: { deletion: "soft", truncateBefore: 5, lastVersion: 4 } });
  });
});

describe("filters", () => {
  const e = { streamId: "order-17", type: "Placed", data: { customer: { tier: "gold", tags: ["a"] }, total: 3 } };
  test("pattern, prefix, type and nested payload", () => {
    expect(matchesFilter({ streamPattern: "order-*" }, e)).toBe(true);
    expect(matchesFilter({ streamPattern: "order-?" }, e)).toBe(false);
    expect(matchesFilter({ streamPattern: "order.17" }, e)).toBe(false);
    // `?` is one Unicode character, as SQLite's GLOB counts it for catch-up reads.
    expect(matchesFilter({ streamPattern: "user-?" }, { ...e, streamId: "user-😀" })).toBe(true);
    expect(matchesFilter({ streamPrefix: "ord", eventTypes: ["Placed"] }, e)).toBe(true);
    expect(matchesFilter({ payload: { "customer.tier": "gold" } }, e)).toBe(true);
    expect(matchesFilter({ payload: { customer: { tags: ["a"] } } }, e)).toBe(true);
    expect(matchesFilter({ payload: { "customer.tier": "silver" } }, e)).toBe(false);
    expect(matchesFilter({ payload: { missing: null } }, e)).toBe(false);
  });
});
