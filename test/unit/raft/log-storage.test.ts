// The pieces under the algorithm: MemoryStorage (compaction, truncating appends, snapshots),
// the log's unstable tail and the in-flight window of flow control.

import { describe, expect, test } from "bun:test";
import { AssertionError } from "../../../src/lib/index.ts";
import { MemoryStorage, type Entry } from "../../../src/raft/index.ts";
import { RaftLog } from "../../../src/raft/log.ts";
import { Inflights } from "../../../src/raft/progress.ts";
import { bytes, msg, newRaft, take } from "./helpers.ts";

const e = (index: number, term: number): Entry => ({ index, term, type: "normal", data: bytes(`${index}`) });
const conf = { voters: ["a"], learners: [] };

describe("MemoryStorage", () => {
  test("append replaces a conflicting suffix; compact drops the prefix a snapshot covers", () => {
    const s = MemoryStorage.bootstrap(conf);
    s.append([e(2, 1), e(3, 1), e(4, 1)]);
    s.append([e(3, 2)]);
    expect(s.lastIndex()).toBe(3);
    expect(s.term(3)).toBe(2);
    s.createSnapshot(3, conf, bytes("state"));
    s.compact(3);
    expect(s.firstIndex()).toBe(4);
    expect(s.term(3)).toBe(2); // the snapshot's own index keeps its term
    expect(s.term(2)).toBe(null);
    expect(() => s.entries(2, 4, 100)).toThrow(AssertionError);
  });

  test("entries respects maxBytes but always returns at least one entry", () => {
    const s = MemoryStorage.bootstrap(conf);
    s.append([e(2, 1), e(3, 1), e(4, 1)]);
    expect(s.entries(2, 5, 0).map((x) => x.index)).toEqual([2]);
    expect(s.entries(2, 5, 2).map((x) => x.index)).toEqual([2, 3]);
  });

  test("compacting past the snapshot is a programmer error", () => {
    const s = MemoryStorage.bootstrap(conf);
    s.append([e(2, 1), e(3, 1)]);
    expect(() => s.compact(3)).toThrow(/snapshot covers/);
  });
});

describe("RaftLog", () => {
  test("unstable entries leave the tail once persisted, and a superseded stableTo is ignored", () => {
    const s = MemoryStorage.bootstrap(conf);
    const log = new RaftLog(s);
    log.append([e(2, 1), e(3, 1)]);
    expect(log.unstableEntries().map((x) => x.index)).toEqual([2, 3]);
    s.append(log.unstableEntries());
    log.append([e(3, 2)]); // a new leader replaced entry 3 before the caller advanced
    log.stableTo(3, 1); // the old entry 3: superseded, nothing happens
    expect(log.unstableEntries().map((x) => [x.index, x.term])).toEqual([
      [2, 1],
      [3, 2],
    ]);
    log.stableTo(3, 2);
    expect(log.hasUnstableEntries()).toBe(false);
  });

  test("a committed entry is never overwritten", () => {
    const log = new RaftLog(MemoryStorage.bootstrap(conf));
    log.append([e(2, 1), e(3, 1)]);
    log.commitTo(3);
    expect(() => log.append([e(3, 2)])).toThrow(/overwrite committed/);
  });

  test("findConflictByTerm gives the last index whose term is at most the given term", () => {
    const log = new RaftLog(MemoryStorage.bootstrap(conf));
    log.append([e(2, 1), e(3, 3), e(4, 3), e(5, 5)]);
    expect(log.findConflictByTerm(5, 4)).toEqual({ index: 4, term: 3 });
    expect(log.findConflictByTerm(5, 2)).toEqual({ index: 2, term: 1 });
  });
});

describe("§5.3 the AppendEntries consistency check", () => {
  test("'If the follower does not find an entry in its log with the same index and term, then it refuses the new entries'", () => {
    const r = newRaft("b", ["a", "b", "c"]);
    r.step(msg({ type: "append", from: "a", to: "b", term: 2, index: 5, logTerm: 2, entries: [e(6, 2)] }));
    const [reply] = take(r);
    expect(reply?.reject).toBe(true);
    expect(reply?.rejectHint).toBe(1); // the follower's last index: probe from there
    expect(r.log.lastIndex()).toBe(1);
  });
});

describe("Inflights (flow control)", () => {
  test("the window is full at its message count or its byte budget, and acknowledgements free it in order", () => {
    const byCount = new Inflights(2, 1000);
    byCount.add(5, 10);
    byCount.add(7, 10);
    expect(byCount.full()).toBe(true);
    byCount.freeLE(5);
    expect(byCount.full()).toBe(false);
    expect(byCount.count()).toBe(1);
    const byBytes = new Inflights(10, 100);
    byBytes.add(1, 60);
    expect(byBytes.full()).toBe(false);
    byBytes.add(2, 60);
    expect(byBytes.full()).toBe(true);
    byBytes.freeFirstOne();
    expect(byBytes.full()).toBe(false);
    expect(() => {
      byBytes.add(3, 100);
      byBytes.add(4, 1);
    }).toThrow(/full window/);
  });
});
