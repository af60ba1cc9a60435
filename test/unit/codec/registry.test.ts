// The message type registry: how raft (or anyone) registers its messages, and what it refuses.

import { describe, expect, test } from "bun:test";
import { defineMessage, firstUserTypeId, isRecord, isUint, MessageRegistry } from "../../../src/codec/index.ts";

interface Vote { term: number; candidate: number }
const isVote = (b: unknown): b is Vote => isRecord(b) && isUint(b.term) && isUint(b.candidate);

describe("message registry", () => {
  test("a registered type is found by id and validates its bodies", () => {
    const registry = new MessageRegistry();
    const vote = registry.register(defineMessage<Vote>(32, "raft.vote", "small", isVote));
    expect(registry.get(32)).toBe(vote);
    expect(registry.isValid({ type: 32, body: { term: 1, candidate: 2 } })).toBe(true);
    expect(registry.isValid({ type: 32, body: { term: -1, candidate: 2 } })).toBe(false);
    expect(registry.isValid({ type: 33, body: {} })).toBe(false);
  });

  test("ids below the user range, a second type with the same id or name are refused", () => {
    const registry = new MessageRegistry();
    registry.register(defineMessage<Vote>(32, "raft.vote", "small", isVote));
    expect(() => registry.register(defineMessage<Vote>(firstUserTypeId - 1, "x", "small", isVote))).toThrow(/reserved/);
    expect(() => registry.register(defineMessage<Vote>(32, "other", "small", isVote))).toThrow(/already registered/);
    expect(() => registry.register(defineMessage<Vote>(40, "raft.vote", "small", isVote))).toThrow(/already registered/);
    expect(() => defineMessage<Vote>(70_000, "too-big", "small", isVote)).toThrow(/u16/);
  });
});
