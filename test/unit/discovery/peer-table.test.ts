// The peer table: up on the first beacon, down after the set number of missed announcements or
// at once on goodbye, up again when the peer returns, changed when its address moves.

import { describe, expect, test } from "bun:test";
import { PeerTable, type PeerEvent } from "../../../src/discovery/index.ts";
import { TestClock } from "../codec/fixtures.ts";

const peer = (nodeId: string, udpPort = 4000) => ({ nodeId, addresses: ["10.0.0.1"], udpPort, tcpPort: 4001, version: 1 });

describe("peer table", () => {
  test("up, down after missed announcements, up again on return", () => {
    const clock = new TestClock();
    const events: PeerEvent[] = [];
    const table = new PeerTable(3000, clock.now, (e) => events.push(e));
    table.seen(peer("b"));
    clock.advance(1000);
    table.seen(peer("b"));
    clock.advance(3000);
    table.check();
    expect(table.isUp("b")).toBe(true);
    clock.advance(1);
    table.check();
    expect(table.isUp("b")).toBe(false);
    table.check();
    table.seen(peer("b"));
    expect(events.map((e) => [e.name, e.peer.nodeId, e.reason])).toEqual([
      ["cluster node up", "b", undefined],
      ["cluster node down", "b", "missed announcements"],
      ["cluster node up", "b", undefined],
    ]);
  });

  test("goodbye takes a peer down at once; a moved peer is reported changed", () => {
    const events: PeerEvent[] = [];
    const table = new PeerTable(3000, new TestClock().now, (e) => events.push(e));
    table.seen(peer("b"));
    table.seen(peer("b", 5000));
    table.goodbye("b");
    table.goodbye("b");
    expect(events.map((e) => [e.name, e.reason])).toEqual([
      ["cluster node up", undefined],
      ["cluster node changed", undefined],
      ["cluster node down", "goodbye"],
    ]);
    expect(table.up()).toEqual([]);
  });
});
