// Found in review (§7, InstallSnapshot): a snapshot is on disk before its acknowledgement leaves,
// and a follower never joins chunks of two leaders' snapshots.

import { describe, expect, test } from "bun:test";
import { Prng } from "../../../src/lib/index.ts";
import { MemoryStorage, Raft, RawNode, message, type Message } from "../../../src/raft/index.ts";
import { bytes, text } from "./helpers.ts";

const conf = { voters: ["L2"], learners: ["F"] };

describe("§7 InstallSnapshot, hardened", () => {
  test("a Ready that installs a snapshot must be fsync'd before its messages are sent", () => {
    const node = new RawNode({ id: "F", storage: new MemoryStorage(), prng: new Prng(1), electionTimeoutTicks: 10, heartbeatIntervalTicks: 1 });
    // F already knows term 2, so the snapshot's Ready changes neither term nor vote.
    node.step(message({ type: "heartbeat", from: "L", to: "F", term: 2 }));
    node.ready();
    node.advance();
    node.step(message({ type: "snapshot", from: "L", to: "F", term: 2, snapshot: { metadata: { index: 10, term: 2, confState: { voters: ["L"], learners: ["F"] } }, offset: 0, totalBytes: 3, data: bytes("abc"), done: true } }));
    const rd = node.ready();
    expect(rd.snapshot?.metadata.index).toBe(10);
    expect(rd.messages.some((m) => m.type === "appendResponse" && m.index === 10)).toBe(true);
    expect(rd.mustSync).toBe(true);
  });

  test("chunks from an earlier leader are not joined with a new leader's snapshot of the same (index, term)", () => {
    const F = new Raft({ id: "F", storage: new MemoryStorage(), prng: new Prng(1), electionTimeoutTicks: 10, heartbeatIntervalTicks: 1 });
    // L1 sent the first 40 bytes of its snapshot at (5, 1), then went away.
    F.step(message({ type: "snapshot", from: "L1", to: "F", term: 1, snapshot: { metadata: { index: 5, term: 1, confState: conf }, offset: 0, totalBytes: 100, data: bytes("A".repeat(40)), done: false } }));
    F.msgs = [];
    // L2 holds a snapshot of the same (index, term) with other bytes.
    const expected = "B".repeat(100);
    const L2 = new Raft({ id: "L2", storage: new MemoryStorage({ metadata: { index: 5, term: 1, confState: conf }, data: bytes(expected) }), prng: new Prng(2), electionTimeoutTicks: 10, heartbeatIntervalTicks: 1, snapshotChunkBytes: 40 });
    L2.campaign();
    const nodes: Record<string, Raft> = { F, L2 };
    for (let round = 0; round < 40 && F.log.pendingSnapshot() === null; round++) {
      const messages: Message[] = [...L2.msgs, ...F.msgs];
      L2.msgs = [];
      F.msgs = [];
      if (messages.length === 0) L2.tick();
      for (const m of messages) nodes[m.to]?.step(m);
    }
    const installed = F.log.pendingSnapshot();
    expect(installed).not.toBeNull();
    expect(text(installed?.data ?? new Uint8Array())).toBe(expected);
  });
});

describe("malformed messages are refused, not asserted", () => {
  const follower = () => new RawNode({ id: "F", storage: MemoryStorage.bootstrap({ voters: ["L", "F"], learners: [] }), prng: new Prng(1) });
  for (const [name, data] of [["an unknown type code", new Uint8Array([9, 65])], ["no data", new Uint8Array(0)], ["no node id", new Uint8Array([3])]] as const) {
    test(`a conf change entry with ${name}`, () => {
      const f = follower();
      const accepted = f.step(message({ type: "append", from: "L", to: "F", term: 2, index: 1, logTerm: 1, commit: 1, entries: [{ term: 2, index: 2, type: "confChange", data }] }));
      expect(accepted).toBe(false);
      expect(f.lastIndex()).toBe(1);
    });
  }

  test("a snapshot with a fractional index", () => {
    const accepted = follower().step(message({ type: "snapshot", from: "L", to: "F", term: 2, snapshot: { metadata: { index: 2.5, term: 1, confState: { voters: ["L", "F"], learners: [] } }, offset: 0, totalBytes: 0, data: new Uint8Array(0), done: true } }));
    expect(accepted).toBe(false);
  });
});
