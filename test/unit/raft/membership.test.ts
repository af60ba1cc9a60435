// The paper's §6 and the thesis' chapter 4 (single-server membership changes): a new server
// joins as a learner, catches up, is promoted; one change at a time; removing the leader.
// Each test names the sentence it checks.

import { describe, expect, test } from "bun:test";
import { isEdgeEsdbError } from "../../../src/lib/index.ts";
import { encodeConfChange, MemoryStorage } from "../../../src/raft/index.ts";
import { bytes, Cluster, msg, newRaft, take } from "./helpers.ts";

const peers = ["a", "b", "c"];

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isEdgeEsdbError(error) ? error.code : String(error);
  }
  return "no error";
}

function clusterWithLearner(): Cluster {
  const c = new Cluster(peers);
  c.campaign("a");
  c.add(newRaft("d", [], { storage: new MemoryStorage() }));
  c.node("a").proposeConfChange({ type: "addLearner", nodeId: "d" });
  c.settle();
  c.tickAll(1);
  return c;
}

describe("§6 cluster membership changes (single server, thesis §4.1)", () => {
  test("'new servers join the cluster as non-voting members': a learner receives the log but does not count for commit", () => {
    const c = clusterWithLearner();
    const d = c.node("d");
    expect(d.confs.latest()).toEqual({ voters: peers, learners: ["d"] });
    expect(d.log.lastIndex()).toBe(c.node("a").log.lastIndex());
    c.isolate("d");
    c.propose("a", "x");
    expect(c.node("a").log.committed).toBe(c.node("a").log.lastIndex());
    // A learner never campaigns, however long it hears nothing.
    const term = d.term;
    for (let i = 0; i < 100; i++) d.tick();
    expect(d.role).toBe("follower");
    expect(d.term).toBe(term);
  });

  test("a caught-up learner is promoted and then counts toward the majority", () => {
    const c = clusterWithLearner();
    c.node("a").proposeConfChange({ type: "promote", nodeId: "d" });
    c.settle();
    expect(c.node("a").confs.latest().voters).toEqual(["a", "b", "c", "d"]);
    // With four voters, a and one other are not a majority any more.
    c.isolate("c");
    c.cutLink("a", "d");
    c.cutLink("d", "a");
    const before = c.node("a").log.committed;
    c.node("a").propose(bytes("x"));
    c.settle();
    expect(c.node("a").log.committed).toBe(before);
  });

  test("'a leader ... does not start a new change until the previous one is committed' (one at a time)", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    c.isolate("b");
    c.isolate("c");
    const a = c.node("a");
    a.proposeConfChange({ type: "addLearner", nodeId: "d" });
    expect(errorCode(() => a.proposeConfChange({ type: "addLearner", nodeId: "e" }))).toBe("unavailable");
  });

  test("a new leader changes membership only after it committed an entry of its term (the single-server change bug fix)", () => {
    const a = newRaft("a", peers);
    a.campaign();
    a.step(msg({ type: "voteResponse", from: "b", to: "a", term: 2 }));
    expect(a.role).toBe("leader");
    expect(errorCode(() => a.proposeConfChange({ type: "addLearner", nodeId: "d" }))).toBe("unavailable");
    a.step(msg({ type: "appendResponse", from: "b", to: "a", term: 2, index: 2 }));
    expect(a.log.committed).toBe(2);
    expect(() => a.proposeConfChange({ type: "addLearner", nodeId: "d" })).not.toThrow();
  });

  test("invalid changes are refused: promoting a voter, removing a stranger, removing the last voter", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    const a = c.node("a");
    expect(errorCode(() => a.proposeConfChange({ type: "promote", nodeId: "b" }))).toBe("invalid_argument");
    expect(errorCode(() => a.proposeConfChange({ type: "remove", nodeId: "z" }))).toBe("invalid_argument");
    const solo = new Cluster(["a"]);
    solo.campaign("a");
    expect(errorCode(() => solo.node("a").proposeConfChange({ type: "remove", nodeId: "a" }))).toBe("invalid_argument");
  });

  test("'a server always uses the latest configuration in its log, regardless of whether the entry is committed' (and falls back when it is truncated)", () => {
    const b = newRaft("b", peers);
    const change = { index: 2, term: 2, type: "confChange" as const, data: encodeConfChange({ type: "addLearner", nodeId: "d" }) };
    b.step(msg({ type: "append", from: "a", to: "b", term: 2, index: 1, logTerm: 1, entries: [change], commit: 1 }));
    expect(b.log.committed).toBe(1);
    expect(b.confs.latest().learners).toEqual(["d"]);
    // A new leader of term 3 overwrites the uncommitted change.
    const other = { index: 2, term: 3, type: "normal" as const, data: bytes("x") };
    b.step(msg({ type: "append", from: "c", to: "b", term: 3, index: 1, logTerm: 1, entries: [other], commit: 1 }));
    expect(b.confs.latest().learners).toEqual([]);
  });

  test("removing the leader: 'the leader steps down once the configuration without it is committed', and the rest go on", () => {
    const c = new Cluster(peers, { preVote: true, checkQuorum: true });
    c.campaign("a");
    c.node("a").proposeConfChange({ type: "remove", nodeId: "a" });
    c.settle();
    const a = c.node("a");
    expect(a.role).toBe("follower");
    expect(a.promotable()).toBe(false);
    c.tickAll(40);
    const leaders = ["b", "c"].filter((id) => c.node(id).role === "leader");
    expect(leaders).toHaveLength(1);
    const leader = leaders[0] as string;
    expect(c.node(leader).confs.latest()).toEqual({ voters: ["b", "c"], learners: [] });
    c.propose(leader, "after");
    expect(c.node(leader).log.committed).toBe(c.node(leader).log.lastIndex());
    expect(a.role).toBe("follower"); // the removed server never campaigned
  });

  test("a leader that proposed its own removal and lost its quorum may campaign again until the removal commits", () => {
    const c = new Cluster(peers, { checkQuorum: true });
    c.campaign("a");
    c.isolate("b");
    c.isolate("c");
    c.node("a").proposeConfChange({ type: "remove", nodeId: "a" });
    take(c.node("a"));
    expect(c.node("a").promotable()).toBe(true);
  });
});
