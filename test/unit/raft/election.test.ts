// The paper's §5.1 and §5.2 (leader election), §9.6 of the thesis (pre-vote) and §6.2 (check
// quorum), driven step by step. Each test names the sentence it checks.

import { describe, expect, test } from "bun:test";
import { Prng } from "../../../src/lib/index.ts";
import { MemoryStorage, Raft } from "../../../src/raft/index.ts";
import { Cluster, msg, newRaft, take } from "./helpers.ts";

const peers = ["a", "b", "c"];

describe("§5.1 terms", () => {
  test("'If one server's current term is smaller than the other's, then it updates its current term to the larger value'", () => {
    const r = newRaft("a", peers);
    r.step(msg({ type: "heartbeat", from: "b", to: "a", term: 5 }));
    expect(r.term).toBe(5);
    expect(r.role).toBe("follower");
    expect(r.leader).toBe("b");
  });

  test("'If a candidate or leader discovers that its term is out of date, it immediately reverts to follower state'", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    const a = c.node("a");
    expect(a.role).toBe("leader");
    a.step(msg({ type: "append", from: "b", to: "a", term: a.term + 1, index: 0, logTerm: 0 }));
    expect(a.role).toBe("follower");
  });

  test("'If a server receives a request with a stale term number, it rejects the request'", () => {
    const r = newRaft("a", peers, { preVote: true });
    r.step(msg({ type: "heartbeat", from: "b", to: "a", term: 5 }));
    take(r);
    r.step(msg({ type: "append", from: "c", to: "a", term: 3, index: 1, logTerm: 1 }));
    const out = take(r);
    expect(out).toHaveLength(1);
    expect(out[0]?.type).toBe("appendResponse");
    expect(out[0]?.term).toBe(5); // tells the stale leader the current term
    expect(r.log.lastIndex()).toBe(1); // nothing appended
  });
});

describe("§5.2 leader election", () => {
  test("'If a follower receives no communication over a period of time called the election timeout, then it ... begins an election'", () => {
    const r = newRaft("a", peers);
    for (let i = 0; i < 2 * r.electionTimeoutTicks; i++) r.tick();
    expect(r.role).toBe("candidate");
    expect(r.term).toBe(2);
    expect(r.vote).toBe("a");
    const votes = take(r).filter((m) => m.type === "vote");
    expect(votes.map((m) => m.to).sort()).toEqual(["b", "c"]);
    for (const v of votes) {
      expect(v.term).toBe(2);
      expect(v.index).toBe(1);
      expect(v.logTerm).toBe(1);
    }
  });

  test("'Election timeouts are chosen randomly from a fixed interval' [T, 2T)", () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 50; seed++) {
      const r = new Raft({
        id: "a",
        storage: MemoryStorage.bootstrap({ voters: peers, learners: [] }),
        prng: new Prng(seed),
        electionTimeoutTicks: 10,
        preVote: false,
      });
      let ticks = 0;
      while (r.role === "follower") {
        r.tick();
        ticks++;
        expect(ticks).toBeLessThan(20);
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      seen.add(ticks);
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  test("'Each server will vote for at most one candidate in a given term, on a first-come-first-served basis'", () => {
    const r = newRaft("a", peers);
    r.step(msg({ type: "vote", from: "b", to: "a", term: 2, index: 1, logTerm: 1 }));
    r.step(msg({ type: "vote", from: "c", to: "a", term: 2, index: 1, logTerm: 1 }));
    r.step(msg({ type: "vote", from: "b", to: "a", term: 2, index: 1, logTerm: 1 })); // a retry
    const replies = take(r).map((m) => `${m.to}:${m.reject ? "no" : "yes"}`);
    expect(replies).toEqual(["b:yes", "c:no", "b:yes"]);
    expect(r.vote).toBe("b");
  });

  test("the planted bug grantTwoVotesInTerm breaks that rule (so the simulator can prove it catches it)", () => {
    const r = newRaft("a", peers, { testingBugs: { grantTwoVotesInTerm: true } });
    r.step(msg({ type: "vote", from: "b", to: "a", term: 2, index: 1, logTerm: 1 }));
    r.step(msg({ type: "vote", from: "c", to: "a", term: 2, index: 1, logTerm: 1 }));
    expect(take(r).map((m) => m.reject)).toEqual([false, false]);
  });

  test("'A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term'", () => {
    const r = newRaft("a", ["a", "b", "c", "d", "e"]);
    r.campaign();
    expect(r.role).toBe("candidate");
    r.step(msg({ type: "voteResponse", from: "b", to: "a", term: 2 }));
    expect(r.role).toBe("candidate"); // 2 of 5
    r.step(msg({ type: "voteResponse", from: "c", to: "a", term: 2, reject: true }));
    r.step(msg({ type: "voteResponse", from: "d", to: "a", term: 2 }));
    expect(r.role).toBe("leader"); // 3 of 5
  });

  test("a candidate that a majority rejects returns to follower", () => {
    const r = newRaft("a", peers);
    r.campaign();
    r.step(msg({ type: "voteResponse", from: "b", to: "a", term: 2, reject: true }));
    r.step(msg({ type: "voteResponse", from: "c", to: "a", term: 2, reject: true }));
    expect(r.role).toBe("follower");
  });

  test("'If the leader's term ... is at least as large as the candidate's current term, then the candidate recognizes the leader as legitimate and returns to follower state'", () => {
    const r = newRaft("a", peers);
    r.campaign();
    r.step(msg({ type: "append", from: "b", to: "a", term: 2, index: 1, logTerm: 1 }));
    expect(r.role).toBe("follower");
    expect(r.leader).toBe("b");
    expect(r.term).toBe(2);
  });

  test("'Once a candidate wins an election, it becomes leader. It then sends heartbeat messages to all of the other servers'", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    expect(c.node("a").role).toBe("leader");
    expect(c.node("b").leader).toBe("a");
    expect(c.node("c").leader).toBe("a");
    // The new leader's no-op entry of its term reached everyone and committed (§8).
    for (const id of peers) expect(c.node(id).log.committed).toBe(2);
  });
});

describe("§9.6 pre-vote and §6.2 check quorum", () => {
  test("'a server first asks whether its log is up-to-date enough to win; ... it does not increment its term' (pre-vote)", () => {
    const r = newRaft("a", peers, { preVote: true });
    r.campaign();
    expect(r.role).toBe("preCandidate");
    expect(r.term).toBe(1);
    const out = take(r);
    expect(out.map((m) => m.type)).toEqual(["preVote", "preVote"]);
    expect(out[0]?.term).toBe(2); // the term it would stand at
  });

  test("a partitioned server does not disrupt the cluster when it rejoins (§9.6)", () => {
    const c = new Cluster(peers, { preVote: true, checkQuorum: true });
    c.campaign("a");
    const termBefore = c.node("a").term;
    c.isolate("c");
    c.tickAll(100);
    expect(c.node("c").term).toBe(termBefore); // pre-votes failed, so its term never rose
    c.heal();
    c.tickAll(5);
    expect(c.node("a").role).toBe("leader");
    expect(c.node("a").term).toBe(termBefore);
  });

  test("without pre-vote the same partitioned server forces a new election (the problem §9.6 solves)", () => {
    const c = new Cluster(peers, { preVote: false, checkQuorum: false });
    c.campaign("a");
    const termBefore = c.node("a").term;
    c.isolate("c");
    c.tickAll(100);
    expect(c.node("c").term).toBeGreaterThan(termBefore);
    c.heal();
    c.tickAll(30);
    expect(c.node("a").term).toBeGreaterThan(termBefore);
  });

  test("'a leader steps down if an election timeout elapses without a successful round of heartbeats to a majority' (§6.2)", () => {
    const c = new Cluster(peers, { checkQuorum: true });
    c.campaign("a");
    c.isolate("a");
    for (let i = 0; i < 2 * 10 + 1; i++) {
      c.node("a").tick();
      c.settle();
    }
    expect(c.node("a").role).toBe("follower");
  });

  test("'a server ... that has heard from a current leader within the minimum election timeout ... does not update its term or grant its vote' (§4.2.3)", () => {
    const r = newRaft("b", peers, { checkQuorum: true });
    r.step(msg({ type: "heartbeat", from: "a", to: "b", term: 2 }));
    take(r);
    r.step(msg({ type: "vote", from: "c", to: "b", term: 3, index: 5, logTerm: 2 }));
    expect(take(r)).toHaveLength(0);
    expect(r.term).toBe(2);
    expect(r.vote).toBe(null);
  });
});
