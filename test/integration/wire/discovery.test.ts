// Discovery on loopback without multicast: static peers asked by unicast DNS-SD queries on port 0,
// signed answers, goodbye on stop, and a node with another secret never discovered. (Multicast
// runs only in the network-namespace tests, test/cluster.)

import { afterEach, describe, expect, test } from "bun:test";
import { Discovery, type PeerEvent } from "../../../src/discovery/index.ts";
import { keys, secretB } from "../../unit/codec/fixtures.ts";
import { waitFor } from "./helpers.ts";

const running: Discovery[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

async function start(nodeId: string, staticPeers: string[], secret?: string) {
  const events: PeerEvent[] = [];
  const d = new Discovery({
    nodeId,
    keys: secret === undefined ? keys() : keys(secret),
    udpPort: 7000,
    tcpPort: 7001,
    mdns: { enabled: false, port: 0, bindHost: "127.0.0.1" },
    addresses: ["127.0.0.1"],
    staticPeers,
    announceIntervalMs: 100,
    log: () => {},
  });
  d.on((e) => events.push(e));
  running.push(d);
  await d.start();
  return { d, events };
}

describe("discovery on loopback (static peers, unicast)", () => {
  test("static peers find each other, and a stopped one is reported down by its goodbye", async () => {
    const a = await start("node-a", []);
    const b = await start("node-b", [`127.0.0.1:${a.d.port}`]);
    await waitFor(() => b.d.isUp("node-a"), "b sees a");
    expect(b.d.peers()).toEqual([{ nodeId: "node-a", addresses: ["127.0.0.1"], udpPort: 7000, tcpPort: 7001, version: 1 }]);
    await a.d.stop();
    await waitFor(() => !b.d.isUp("node-a"), "b sees a leave");
    expect(b.events.map((e) => [e.name, e.reason])).toEqual([["cluster node up", undefined], ["cluster node down", "goodbye"]]);
  });

  test("a node with another secret is never discovered; its beacons are counted bad_tag", async () => {
    const evil = await start("node-evil", [], secretB);
    const good = await start("node-good", []);
    const b = await start("node-b", [`127.0.0.1:${evil.d.port}`, `127.0.0.1:${good.d.port}`]);
    await waitFor(() => b.d.isUp("node-good") && b.d.drops.count("node-evil", "bad_tag") >= 3, "good seen, evil refused thrice");
    expect(b.d.isUp("node-evil")).toBe(false);
  });
});
