// The paper's §5.3 (log replication) with flow control and fast back-off, and §5.4 (safety)
// including Figure 8, driven step by step. Each test names the sentence it checks.

import { describe, expect, test } from "bun:test";
import { limits } from "../../../src/lib/index.ts";
import { MemoryStorage, type Entry } from "../../../src/raft/index.ts";
import { bytes, Cluster, msg, newRaft, take } from "./helpers.ts";

const peers = ["a", "b", "c"];

function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: "normal", data: bytes(data) };
}

/** A storage holding the bootstrap snapshot at (1, 1) and then entries of the given terms. */
function storageWithTerms(terms: number[], voters = peers, hardTerm = Math.max(1, ...terms)): MemoryStorage {
  const s = MemoryStorage.bootstrap({ voters, learners: [] });
  s.append(terms.map((t, i) => entry(i + 2, t)));
  s.setHardState({ term: hardTerm, vote: null, commit: 1 });
  return s;
}

describe("§5.3 log replication", () => {
  test("'The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel to each of the other servers'", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    const a = c.node("a");
    a.propose(bytes("x"));
    expect(a.log.lastIndex()).toBe(3);
    const out = take(a);
    expect(out.map((m) => `${m.type}>${m.to}`).sort()).toEqual(["append>b", "append>c"]);
    for (const m of out) {
      // 'the leader includes the index and term of the entry in its log that immediately precedes the new entries'
      expect(m.index).toBe(2);
      expect(m.logTerm).toBe(2);
      expect(m.entries.map((e) => e.index)).toEqual([3]);
    }
  });

  test("'A log entry is committed once the leader that created the entry has replicated it on a majority of the servers'", () => {
    const c = new Cluster(["a", "b", "c", "d", "e"]);
    c.campaign("a");
    const a = c.node("a");
    const index = a.propose(bytes("x"));
    take(a);
    expect(a.log.committed).toBe(index - 1);
    a.step(msg({ type: "appendResponse", from: "b", to: "a", term: a.term, index }));
    expect(a.log.committed).toBe(index - 1); // 2 of 5
    a.step(msg({ type: "appendResponse", from: "c", to: "a", term: a.term, index }));
    expect(a.log.committed).toBe(index); // 3 of 5
  });

  test("'the follower ... applies the entry ... once it learns that a log entry is committed' (leaderCommit in AppendEntries)", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    c.propose("a", "x");
    c.tickAll(1); // a heartbeat carries the new commit index
    for (const id of peers) expect(c.node(id).log.committed).toBe(3);
  });

  test("'If a follower's log is inconsistent with the leader's, ... the leader decrements nextIndex and retries' until the logs match (Figure 7)", () => {
    // The leader's log (terms by index from 2): 1 1 1 4 4 5 5 6 6 6; a follower with extra
    // uncommitted entries of terms 2 and 3 (Figure 7 (f)).
    const leaderStorage = storageWithTerms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6], peers, 7);
    const followerStorage = storageWithTerms([1, 1, 1, 4, 4, 2, 2, 2, 3, 3, 3, 3], peers, 6);
    const c = new Cluster([]);
    c.add(newRaft("a", peers, { storage: leaderStorage }));
    c.add(newRaft("b", peers, { storage: followerStorage }));
    c.add(newRaft("c", peers, { storage: storageWithTerms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6], peers, 7) }));
    c.campaign("a");
    expect(c.node("a").role).toBe("leader");
    const terms = (id: string): number[] => {
      const log = c.node(id).log;
      const out: number[] = [];
      for (let i = 2; i <= log.lastIndex(); i++) out.push(log.term(i) as number);
      return out;
    };
    expect(terms("b")).toEqual(terms("a"));
    // Fast back-off: the rejection hints skip a whole term at a time, not one entry per round trip.
    const rejects = c.delivered.filter((m) => m.type === "appendResponse" && m.reject && m.from === "b");
    expect(rejects.length).toBeLessThanOrEqual(2);
  });

  test("flow control: the leader stops sending to a follower once inflightMessagesMax appends are unacknowledged", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    const a = c.node("a");
    take(a);
    for (let i = 0; i < limits.inflightMessagesMax + 10; i++) a.propose(bytes(`p${i}`));
    const toB = take(a).filter((m) => m.to === "b" && m.type === "append");
    expect(toB).toHaveLength(limits.inflightMessagesMax);
    // An acknowledgement frees the window and the rest goes out.
    const last = toB[toB.length - 1]?.entries[0]?.index as number;
    a.step(msg({ type: "appendResponse", from: "b", to: "a", term: a.term, index: last }));
    const more = take(a).filter((m) => m.to === "b" && m.type === "append");
    expect(more.flatMap((m) => m.entries).length).toBe(10);
  });

  test("a rejected append from a follower in replicate state sends the leader back to probing from its match", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    const a = c.node("a");
    a.propose(bytes("x"));
    take(a);
    a.step(msg({ type: "appendResponse", from: "b", to: "a", term: a.term, index: 3, reject: true, rejectHint: 2, logTerm: 2 }));
    const pr = a.progress.get("b");
    expect(pr?.state).toBe("probe");
    expect(take(a).filter((m) => m.to === "b").map((m) => m.index)).toEqual([2]);
  });
});

describe("§5.4 safety", () => {
  test("'the voter denies its vote if its own log is more up-to-date than that of the candidate' (§5.4.1)", () => {
    // Voter's last entry: index 3, term 2.
    const cases: Array<[number, number, boolean]> = [
      [3, 2, true], // same
      [4, 2, true], // longer, same term
      [2, 2, false], // shorter, same term
      [2, 3, true], // later term wins even if shorter
      [9, 1, false], // earlier term loses even if longer
    ];
    for (const [index, logTerm, granted] of cases) {
      const r = newRaft("a", peers, { storage: storageWithTerms([2, 2], peers, 2) });
      r.step(msg({ type: "vote", from: "b", to: "a", term: 4, index, logTerm }));
      expect({ index, logTerm, granted: !take(r)[0]?.reject }).toEqual({ index, logTerm, granted });
    }
  });

  test("the planted bug voteWithoutLogCheck grants a vote to a candidate with a stale log", () => {
    const r = newRaft("a", peers, { storage: storageWithTerms([2, 2], peers, 2), testingBugs: { voteWithoutLogCheck: true } });
    r.step(msg({ type: "vote", from: "b", to: "a", term: 4, index: 9, logTerm: 1 }));
    expect(take(r)[0]?.reject).toBe(false);
  });

  test("'Raft never commits log entries from previous terms by counting replicas' (§5.4.2, Figure 8)", () => {
    // Figure 8 (c): S1 leads term 4 with an entry of term 2 at index 2 that S2 and S3 hold.
    const s1 = newRaft("s1", ["s1", "s2", "s3", "s4", "s5"], {
      storage: storageWithTerms([2], ["s1", "s2", "s3", "s4", "s5"], 3),
    });
    s1.campaign();
    for (const v of ["s2", "s3"]) s1.step(msg({ type: "voteResponse", from: v, to: "s1", term: 4 }));
    expect(s1.role).toBe("leader");
    take(s1);
    // A majority (s1, s2, s3) now holds index 2 of term 2, but not yet the leader's entry 3 of term 4.
    s1.step(msg({ type: "appendResponse", from: "s2", to: "s1", term: 4, index: 2 }));
    s1.step(msg({ type: "appendResponse", from: "s3", to: "s1", term: 4, index: 2 }));
    expect(s1.log.committed).toBe(1);
    // 'once an entry from the current term has been committed ..., all prior entries are committed indirectly'
    s1.step(msg({ type: "appendResponse", from: "s2", to: "s1", term: 4, index: 3 }));
    s1.step(msg({ type: "appendResponse", from: "s3", to: "s1", term: 4, index: 3 }));
    expect(s1.log.committed).toBe(3);
  });

  test("the planted bug commitOlderTermByCount commits Figure 8's entry by counting (so the simulator can prove it catches it)", () => {
    const voters = ["s1", "s2", "s3", "s4", "s5"];
    const s1 = newRaft("s1", voters, { storage: storageWithTerms([2], voters, 3), testingBugs: { commitOlderTermByCount: true } });
    s1.campaign();
    for (const v of ["s2", "s3"]) s1.step(msg({ type: "voteResponse", from: v, to: "s1", term: 4 }));
    s1.step(msg({ type: "appendResponse", from: "s2", to: "s1", term: 4, index: 2 }));
    s1.step(msg({ type: "appendResponse", from: "s3", to: "s1", term: 4, index: 2 }));
    expect(s1.log.committed).toBe(2);
  });

  test("'If a follower ... receives an AppendEntries whose entries conflict ... it deletes the existing entry and all that follow it' — never a committed one", () => {
    const r = newRaft("b", peers, { storage: storageWithTerms([1, 1, 2], peers, 2) });
    r.step(msg({ type: "append", from: "a", to: "b", term: 3, index: 2, logTerm: 1, entries: [entry(3, 3, "new")], commit: 2 }));
    expect(r.log.lastIndex()).toBe(3);
    expect(r.log.term(3)).toBe(3);
    expect(r.log.committed).toBe(2);
    expect(() =>
      r.step(msg({ type: "append", from: "a", to: "b", term: 3, index: 1, logTerm: 1, entries: [entry(2, 3, "bad")], commit: 2 })),
    ).not.toThrow(); // index 1 < commit 2: answered with the commit index, nothing touched
    expect(r.log.term(2)).toBe(1);
  });
});

describe("the leader's uncommitted budget (uncommittedBytesMax)", () => {
  test("proposals beyond the budget are refused with unavailable until earlier ones commit", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    const a = c.node("a");
    c.isolate("a");
    const big = new Uint8Array(limits.uncommittedBytesMax / 2 + 1);
    a.propose(big);
    let code = "";
    try {
      a.propose(big);
    } catch (error) {
      code = (error as { code?: string }).code ?? "other";
    }
    expect(code).toBe("unavailable");
    c.heal();
    c.settle();
    c.tickAll(1);
    expect(a.log.committed).toBe(a.log.lastIndex());
    expect(() => a.propose(big)).not.toThrow();
  });
});
