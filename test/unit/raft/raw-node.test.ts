// The Ready/advance protocol of RawNode: what a Ready holds and in what order it must be
// handled, restart from persisted state, determinism bit for bit, size classes and limits of
// messages, and the typed errors of proposals.

import { describe, expect, test } from "bun:test";
import { isEdgeEsdbError, limits, Prng } from "../../../src/lib/index.ts";
import {
  MemoryStorage,
  messageSizeBytes,
  messageSizeBytesMax,
  messageSizeClass,
  RawNode,
  type MessageType,
} from "../../../src/raft/index.ts";
import { bytes, msg, RawCluster, text } from "./helpers.ts";

function solo(storage = MemoryStorage.bootstrap({ voters: ["a"], learners: [] })): RawNode {
  return new RawNode({ id: "a", storage, prng: new Prng(7) });
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isEdgeEsdbError(error) ? error.code : String(error);
  }
  return "no error";
}

describe("Ready and advance", () => {
  test("a lone voter's election: one Ready with the new term to fsync, its no-op entry, and the entry to apply", () => {
    const n = solo();
    expect(n.hasReady()).toBe(false);
    n.campaign();
    const rd = n.ready();
    expect(rd.softState).toEqual({ leader: "a", role: "leader" });
    expect(rd.hardState).toEqual({ term: 2, vote: "a", commit: 2 });
    expect(rd.entries.map((e) => [e.index, e.term, e.type])).toEqual([[2, 2, "empty"]]);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2]);
    expect(rd.mustSync).toBe(true);
    expect(rd.messages).toEqual([]);
    n.advance();
    expect(n.hasReady()).toBe(false);
    expect(n.appliedIndex()).toBe(2);
  });

  test("a commit-only change does not need an fsync (mustSync false)", () => {
    const c = new RawCluster();
    for (const id of ["a", "b", "c"]) c.add(id, MemoryStorage.bootstrap({ voters: ["a", "b", "c"], learners: [] }));
    c.node("a").campaign();
    c.settle();
    c.node("a").propose(bytes("x"));
    c.settle();
    c.tickAll(1);
    let prev = { term: 1, vote: null as string | null };
    const commitOnly = c.readies.filter((r) => {
      const hs = r.ready.hardState;
      if (r.id !== "b" || hs === null) return false;
      const same = hs.term === prev.term && hs.vote === prev.vote;
      prev = { term: hs.term, vote: hs.vote };
      return same && r.ready.entries.length === 0;
    });
    expect(commitOnly.length).toBeGreaterThan(0);
    for (const r of commitOnly) expect(r.ready.mustSync).toBe(false);
  });

  test("calling step, tick or ready between ready() and advance() is a programmer error", () => {
    const n = solo();
    n.campaign();
    n.ready();
    expect(() => n.tick()).toThrow(/between ready\(\) and advance\(\)/);
    expect(() => n.ready()).toThrow(/before advance/);
    n.advance();
    expect(() => n.advance()).toThrow(/without a ready/);
  });

  test("a restart from what was persisted keeps term, vote, log and commit, and re-delivers committed entries to apply", () => {
    const storage = MemoryStorage.bootstrap({ voters: ["a"], learners: [] });
    const n = solo(storage);
    n.campaign();
    for (const data of ["x", "y"]) {
      if (n.hasReady()) persistAll(n, storage);
      n.propose(bytes(data));
    }
    persistAll(n, storage);
    const again = solo(storage);
    expect(again.hardState()).toEqual({ term: 2, vote: "a", commit: 4 });
    const rd = again.ready();
    expect(rd.committedEntries.filter((e) => e.type === "normal").map((e) => text(e.data))).toEqual(["x", "y"]);
    expect(rd.hardState).toBe(null); // nothing new to persist
  });

  test("the same seed and inputs give the same outputs, bit for bit", () => {
    const run = (): string => {
      const c = new RawCluster();
      for (const id of ["a", "b", "c"]) c.add(id, MemoryStorage.bootstrap({ voters: ["a", "b", "c"], learners: [] }));
      c.tickAll(30);
      const leader = [...c.nodes.values()].find((n) => n.softState().role === "leader");
      for (let i = 0; i < 5; i++) leader?.propose(bytes(`p${i}`));
      c.tickAll(5);
      return JSON.stringify(c.readies, (_, v) => (v instanceof Uint8Array ? Array.from(v) : v));
    };
    const first = run();
    expect(first.length).toBeGreaterThan(1000);
    expect(run()).toBe(first);
  });
});

describe("messages: size classes and limits", () => {
  test("entries and snapshot chunks are bulk (TCP); votes, heartbeats and replies are small (UDP)", () => {
    const bulk: MessageType[] = ["append", "snapshot"];
    const small: MessageType[] = [
      "appendResponse",
      "heartbeat",
      "heartbeatResponse",
      "vote",
      "voteResponse",
      "preVote",
      "preVoteResponse",
      "snapshotResponse",
      "readIndex",
      "readIndexResponse",
      "transferLeader",
      "timeoutNow",
    ];
    for (const t of bulk) expect(messageSizeClass(t)).toBe("bulk");
    for (const t of small) expect(messageSizeClass(t)).toBe("small");
    expect(messageSizeBytesMax("vote")).toBe(limits.smallMessageBytesMax);
    expect(messageSizeBytesMax("append")).toBe(limits.bulkMessageBytesMax);
  });

  test("every message of a busy run fits its class limit, and an append carries at most entriesPerMessageMax entries", () => {
    const c = new RawCluster();
    for (const id of ["a", "b", "c"]) c.add(id, MemoryStorage.bootstrap({ voters: ["a", "b", "c"], learners: [] }));
    c.node("a").campaign();
    c.settle();
    c.drop = (m) => m.to === "c";
    for (let i = 0; i < 600; i++) c.node("a").propose(new Uint8Array(100));
    c.settle();
    c.drop = () => false;
    c.node("a").readIndex(new Uint8Array(limits.readContextBytesMax));
    c.tickAll(5);
    expect(c.node("c").lastIndex()).toBe(c.node("a").lastIndex());
    for (const m of c.sent) {
      expect(messageSizeBytes(m)).toBeLessThanOrEqual(messageSizeBytesMax(m.type));
      expect(m.entries.length).toBeLessThanOrEqual(limits.entriesPerMessageMax);
    }
  });

  test("proposals: not_leader on a follower, too_large over entryDataBytesMax, invalid_argument for a bad read context", () => {
    const c = new RawCluster();
    for (const id of ["a", "b"]) c.add(id, MemoryStorage.bootstrap({ voters: ["a", "b"], learners: [] }));
    c.node("a").campaign();
    c.settle();
    expect(code(() => c.node("b").propose(bytes("x")))).toBe("not_leader");
    expect(code(() => c.node("a").propose(new Uint8Array(limits.entryDataBytesMax + 1)))).toBe("too_large");
    expect(code(() => c.node("a").readIndex(new Uint8Array(0)))).toBe("invalid_argument");
    expect(code(() => c.node("a").readIndex(new Uint8Array(limits.readContextBytesMax + 1)))).toBe("invalid_argument");
  });
});

function persistAll(n: RawNode, storage: MemoryStorage): void {
  while (n.hasReady()) {
    const rd = n.ready();
    if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState !== null) storage.setHardState(rd.hardState);
    n.advance();
  }
}

describe("proposeBatch (group commit)", () => {
  test("a batch becomes consecutive entries that travel in one append per follower", () => {
    const c = new RawCluster();
    for (const id of ["a", "b", "c"]) c.add(id, MemoryStorage.bootstrap({ voters: ["a", "b", "c"], learners: [] }));
    c.node("a").campaign();
    c.settle();
    const sentBefore = c.sent.length;
    const last = c.node("a").proposeBatch([bytes("x"), bytes("y"), bytes("z")]);
    expect(last).toBe(5);
    c.settle();
    const appends = c.sent.slice(sentBefore).filter((m) => m.type === "append" && m.entries.length > 0);
    expect(appends.map((m) => [m.to, m.entries.length])).toEqual([
      ["b", 3],
      ["c", 3],
    ]);
    c.tickAll(1);
    expect((c.applied.get("b") ?? []).filter((e) => e.type === "normal").map((e) => text(e.data))).toEqual(["x", "y", "z"]);
  });

  test("a batch is all or nothing: one entry too large refuses the whole batch", () => {
    const n = solo();
    n.campaign();
    n.ready();
    n.advance();
    const before = n.lastIndex();
    expect(code(() => n.proposeBatch([bytes("ok"), new Uint8Array(limits.entryDataBytesMax + 1)]))).toBe("too_large");
    expect(code(() => n.proposeBatch([]))).toBe("invalid_argument");
    expect(n.lastIndex()).toBe(before);
  });
});

describe("messages from the network", () => {
  test("a message no correct peer sends is refused without touching the node (no assertion trips)", () => {
    const c = new RawCluster();
    for (const id of ["a", "b"]) c.add(id, MemoryStorage.bootstrap({ voters: ["a", "b"], learners: [] }));
    c.node("a").campaign();
    c.settle();
    const b = c.node("b");
    const before = JSON.stringify(b.hardState());
    const entry = (index: number, term: number) => ({ index, term, type: "normal" as const, data: bytes("x") });
    const forged = [
      msg({ type: "hup", from: "a", to: "b", term: 2 }), // a local type
      msg({ type: "append", from: "a", to: "c", term: 2 }), // not for b
      msg({ type: "append", from: "b", to: "b", term: 2 }), // from itself
      msg({ type: "append", from: "a", to: "b", term: 0, index: 2, logTerm: 2 }), // no term
      msg({ type: "append", from: "a", to: "b", term: 2, index: 2, logTerm: 2, entries: [entry(4, 2)] }), // gap
      msg({ type: "append", from: "a", to: "b", term: 2, index: 2, logTerm: 2, entries: [entry(3, 9)] }), // future term
      msg({ type: "append", from: "a", to: "b", term: -1, index: 2, logTerm: 2 }),
      msg({ type: "readIndexResponse", from: "a", to: "b", term: 2, index: 2 }), // no context
      msg({ type: "snapshot", from: "a", to: "b", term: 2 }), // no chunk
    ];
    for (const m of forged) expect(b.step(m)).toBe(false);
    expect(JSON.stringify(b.hardState())).toBe(before);
    expect(b.hasReady()).toBe(false);
  });
});
