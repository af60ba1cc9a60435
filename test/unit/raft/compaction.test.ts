// The paper's §7 (log compaction): the application's snapshot at an index, the log truncated
// before it, and InstallSnapshot in chunks for a follower too far behind. Each test names the
// sentence it checks.

import { describe, expect, test } from "bun:test";
import { limits } from "../../../src/lib/index.ts";
import { MemoryStorage, messageSizeClass } from "../../../src/raft/index.ts";
import { bytes, msg, newRaft, RawCluster } from "./helpers.ts";

const peers = ["a", "b", "c"];

/** A three-node cluster where c was away while a committed and compacted 20 entries. */
function lagging(snapshotBytes: number): RawCluster {
  const c = new RawCluster();
  for (const id of peers) c.add(id, MemoryStorage.bootstrap({ voters: peers, learners: [] }));
  c.node("a").campaign();
  c.settle();
  c.drop = (m) => m.to === "c" || m.from === "c";
  for (let i = 0; i < 20; i++) c.node("a").propose(bytes(`e${i}`));
  c.settle();
  const a = c.node("a");
  const storage = c.storages.get("a") as MemoryStorage;
  const applied = a.appliedIndex();
  expect(applied).toBe(22);
  const data = new Uint8Array(snapshotBytes).map((_, i) => i % 251);
  storage.createSnapshot(applied, a.appliedConfState(), data);
  storage.compact(applied);
  return c;
}

describe("§7 log compaction", () => {
  test("'the leader must occasionally send snapshots to followers that lag behind' — in chunks of at most snapshotChunkBytesMax", () => {
    const size = 2 * limits.snapshotChunkBytesMax + 1000;
    const c = lagging(size);
    c.drop = () => false;
    c.tickAll(3);
    const chunks = c.sent.filter((m) => m.type === "snapshot" && m.to === "c");
    expect(chunks.length).toBe(3);
    for (const m of chunks) expect((m.snapshot?.data.length ?? 0) <= limits.snapshotChunkBytesMax).toBe(true);
    expect(messageSizeClass("snapshot")).toBe("bulk");
    // c installed the whole snapshot, byte for byte, then caught up by entries.
    const installed = c.readies.find((r) => r.id === "c" && r.ready.snapshot !== null)?.ready.snapshot;
    expect(installed?.metadata.index).toBe(22);
    expect(installed?.data.length).toBe(size);
    expect(installed?.data[size - 1]).toBe((size - 1) % 251);
    expect(c.node("c").hardState().commit).toBe(c.node("a").hardState().commit);
    c.node("a").propose(bytes("after"));
    c.settle();
    c.tickAll(1);
    expect(c.node("c").lastIndex()).toBe(c.node("a").lastIndex());
    expect(c.node("c").appliedIndex()).toBe(23);
  });

  test("a lost snapshot chunk is sent again, and the install still completes", () => {
    const c = lagging(limits.snapshotChunkBytesMax + 10);
    let dropped = 0;
    c.drop = (m) => {
      if (m.type === "snapshot" && m.snapshot?.offset !== 0 && dropped === 0) {
        dropped++;
        return true;
      }
      return false;
    };
    c.tickAll(10);
    expect(dropped).toBe(1);
    expect(c.node("c").appliedIndex()).toBe(22);
  });

  test("'If the follower receives a snapshot that describes a prefix of its log, ... entries following the snapshot are still valid and must be retained'", () => {
    const b = newRaft("b", peers);
    const entries = [2, 3, 4].map((index) => ({ index, term: 2, type: "normal" as const, data: bytes(`e${index}`) }));
    b.step(msg({ type: "append", from: "a", to: "b", term: 2, index: 1, logTerm: 1, entries, commit: 1 }));
    const restored = b.restore({ metadata: { index: 3, term: 2, confState: { voters: peers, learners: [] } }, data: new Uint8Array(0) });
    expect(restored).toBe(false);
    expect(b.log.committed).toBe(3);
    expect(b.log.lastIndex()).toBe(4);
  });

  test("'the follower discards its entire log; it is all superseded by the snapshot' when the snapshot has what the log lacks", () => {
    const b = newRaft("b", peers);
    const entries = [{ index: 2, term: 2, type: "normal" as const, data: bytes("old") }];
    b.step(msg({ type: "append", from: "a", to: "b", term: 2, index: 1, logTerm: 1, entries, commit: 1 }));
    const restored = b.restore({ metadata: { index: 5, term: 3, confState: { voters: peers, learners: ["d"] } }, data: bytes("s") });
    expect(restored).toBe(true);
    expect(b.log.lastIndex()).toBe(5);
    expect(b.log.committed).toBe(5);
    expect(b.confs.latest().learners).toEqual(["d"]); // the configuration comes with the snapshot
  });
});
