// The thesis' §6.4 (linearizable reads by ReadIndex) and §3.10 (leadership transfer), driven
// step by step. Each test names the sentence it checks.

import { describe, expect, test } from "bun:test";
import { isEdgeEsdbError } from "../../../src/lib/index.ts";
import { bytes, Cluster, msg, newRaft, take, text } from "./helpers.ts";

const peers = ["a", "b", "c"];

describe("§6.4 linearizable reads (ReadIndex)", () => {
  test("'the leader ... records its current commit index ... sends heartbeats ... once a majority acknowledged, it is still the leader'", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    const a = c.node("a");
    a.readIndex(bytes("r1"));
    const beats = take(a).filter((m) => m.type === "heartbeat");
    expect(beats.map((m) => text(m.context as Uint8Array))).toEqual(["r1", "r1"]);
    expect(a.readStates).toEqual([]); // not before a majority confirmed
    a.step(msg({ type: "heartbeatResponse", from: "b", to: "a", term: a.term, context: bytes("r1") }));
    expect(a.readStates).toEqual([{ index: a.log.committed, context: bytes("r1") }]);
  });

  test("'the leader waits until it has committed an entry of its current term' before serving a read (§6.4 step 1)", () => {
    const a = newRaft("a", peers);
    a.campaign();
    a.step(msg({ type: "voteResponse", from: "b", to: "a", term: 2 }));
    take(a);
    a.readIndex(bytes("r1"));
    expect(take(a).filter((m) => m.type === "heartbeat")).toHaveLength(0);
    a.step(msg({ type: "appendResponse", from: "b", to: "a", term: 2, index: 2 }));
    const beats = take(a).filter((m) => m.type === "heartbeat" && m.context !== null);
    expect(beats).toHaveLength(2);
  });

  test("a follower's read is forwarded to the leader and answered with the leader's read index", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    c.propose("a", "x");
    c.node("b").readIndex(bytes("rb"));
    c.settle();
    expect(c.node("b").readStates).toEqual([{ index: 3, context: bytes("rb") }]);
  });

  test("a lone voter answers reads at once: it is its own majority", () => {
    const c = new Cluster(["a"]);
    c.campaign("a");
    c.node("a").readIndex(bytes("r"));
    expect(c.node("a").readStates).toEqual([{ index: 2, context: bytes("r") }]);
  });

  test("a leader cut off from its majority never answers a read (the planted bug readWithoutQuorum would)", () => {
    for (const bug of [false, true]) {
      const c = new Cluster(peers, bug ? { testingBugs: { readWithoutQuorum: true } } : {});
      c.campaign("a");
      c.isolate("a");
      c.node("a").readIndex(bytes("r"));
      c.settle();
      expect(c.node("a").readStates.length).toBe(bug ? 1 : 0);
    }
  });
});

describe("§3.10 leadership transfer", () => {
  test("'the prior leader sends a TimeoutNow request to the target server ... the target ... starts a new election' and wins", () => {
    const c = new Cluster(peers, { preVote: true, checkQuorum: true });
    c.campaign("a");
    const term = c.node("a").term;
    c.node("a").transferLeadership("b");
    c.settle();
    expect(c.node("b").role).toBe("leader");
    expect(c.node("b").term).toBe(term + 1);
    expect(c.node("a").role).toBe("follower");
  });

  test("'the prior leader ... brings the target server's log up to date' before the TimeoutNow", () => {
    const c = new Cluster(peers, { preVote: true, checkQuorum: true });
    c.campaign("a");
    c.isolate("c");
    c.propose("a", "x");
    c.propose("a", "y");
    c.heal();
    c.node("a").transferLeadership("c");
    c.settle();
    expect(c.node("c").role).toBe("leader");
    expect(c.logData("c")).toEqual(["x", "y"]);
    // c's log was current when it got TimeoutNow: its one election won every vote.
    expect(c.delivered.filter((m) => m.type === "timeoutNow")).toHaveLength(1);
    const votes = c.delivered.filter((m) => m.type === "voteResponse" && m.to === "c");
    expect(votes.length).toBeGreaterThan(0);
    expect(votes.every((m) => !m.reject)).toBe(true);
  });

  test("'the prior leader stops accepting new client requests' during a transfer", () => {
    const c = new Cluster(peers);
    c.campaign("a");
    c.isolate("b");
    c.node("a").propose(bytes("x")); // b now lags
    c.node("a").transferLeadership("b");
    let code = "";
    try {
      c.node("a").propose(bytes("y"));
    } catch (error) {
      code = isEdgeEsdbError(error) ? error.code : "other";
    }
    expect(code).toBe("unavailable");
    // 'If the transfer does not complete within ... an election timeout, the prior leader aborts'
    for (let i = 0; i < 10; i++) c.node("a").tick();
    expect(() => c.node("a").propose(bytes("z"))).not.toThrow();
  });
});
