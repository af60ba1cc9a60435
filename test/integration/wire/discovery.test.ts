// Discovery on loopback without multicast: static peers asked by unicast DNS-SD queries on port 0,
// signed answers, goodbye on stop, and a node with another secret never discovered. (Multicast
// runs only in the network-namespace tests, test/cluster.)

import { afterEach, describe, expect, test } from "bun:test";
import makeMdns from "multicast-dns";
import type { Packet } from "dns-packet";
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
    await waitFor(() => b.d.isUp("node-good") && b.d.drops.count("127.0.0.1", "bad_tag") >= 3, "good seen, evil refused thrice");
    expect(b.d.isUp("node-evil")).toBe(false);
  });

  test("a DNS-SD query gets standard records: PTR, SRV, TXT and A, with the service enumeration PTR", async () => {
    const a = await start("node-a", []);
    const client = makeMdns({ port: 0, multicast: false, bind: "127.0.0.1" } as never);
    try {
      const response = new Promise<Packet>((resolve) => client.on("response", (packet: Packet) => resolve(packet)));
      client.query({ questions: [{ name: "_edge-esdb._udp.local", type: "PTR" }] }, { address: "127.0.0.1", port: a.d.port } as never);
      const packet = await response;
      const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])] as Array<{ name: string; type: string; data: unknown }>;
      const byType = (type: string) => records.filter((r) => r.type === type);
      expect(byType("PTR").map((r) => [r.name, r.data])).toEqual([
        ["_edge-esdb._udp.local", "node-a._edge-esdb._udp.local"],
        ["_services._dns-sd._udp.local", "_edge-esdb._udp.local"],
      ]);
      const srv = byType("SRV")[0] as { name: string; data: { port: number; target: string } };
      expect(srv.name).toBe("node-a._edge-esdb._udp.local");
      expect(srv.data.port).toBe(7000);
      expect(byType("A")).toEqual([expect.objectContaining({ name: srv.data.target, data: "127.0.0.1" })]);
      const txt = (byType("TXT")[0]?.data as Uint8Array[]).map((b) => Buffer.from(b).toString());
      expect(txt.map((t) => t.split("=")[0])).toEqual(["id", "c", "u", "t", "v", "ts", "n", "a", "b", "h"]);
      expect(txt[0]).toBe("id=node-a");
    } finally {
      await new Promise<void>((resolve) => client.destroy(() => resolve()));
    }
  });
});
