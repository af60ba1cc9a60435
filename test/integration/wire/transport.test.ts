// The socket transport on loopback (port 0): small messages by UDP, bulk by TCP, one connection
// per pair when both dial, reconnection after a restart, back-pressure towards a gone peer, a
// wrong secret and a replayed datagram refused, and TLS under the HMAC.

import { afterEach, describe, expect, test } from "bun:test";
import { DatagramCodec, DropCounter } from "../../../src/codec/index.ts";
import { limits } from "../../../src/lib/index.ts";
import { blobType, keys, pingType, secretB, testRegistry } from "../../unit/codec/fixtures.ts";
import { link, startNode, throwawayCert, waitFor, type TestNode } from "./helpers.ts";

const started: TestNode[] = [];
async function node(...args: Parameters<typeof startNode>): Promise<TestNode> {
  const n = await startNode(...args);
  started.push(n);
  return n;
}
afterEach(async () => {
  for (const n of started.splice(0)) await n.transport.close();
});

const ping = (n: number, text = "hi") => ({ type: pingType.id, body: { n, text } });
const blob = (id: number, bytes: number) => ({ type: blobType.id, body: { id, data: new Uint8Array(bytes).fill(id % 256) } });

describe("socket transport", () => {
  test("small messages go by UDP both ways and arrive as (peer, message)", async () => {
    const a = await node("node-a");
    const b = await node("node-b");
    link(a, b);
    await a.transport.send("node-b", ping(1));
    await b.transport.send("node-a", ping(2));
    await waitFor(() => a.received.length === 1 && b.received.length === 1, "one message each way");
    expect(b.received).toEqual([["node-a", ping(1)]]);
    expect(a.received).toEqual([["node-b", ping(2)]]);
  });

  test("bulk messages go by TCP, in order, and a small message too big for a datagram follows them", async () => {
    const a = await node("node-a");
    const b = await node("node-b");
    link(a, b);
    const sends = [];
    for (let i = 0; i < 50; i++) sends.push(a.transport.send("node-b", blob(i, 64 * 1024)));
    sends.push(a.transport.send("node-b", blob(99, 3 * 1024 * 1024)));
    await Promise.all(sends);
    await a.transport.send("node-b", ping(7, "x".repeat(1800)));
    await waitFor(() => b.received.length === 52, "52 messages");
    expect(b.received.slice(0, 50).map(([, m]) => (m.body as { id: number }).id)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect((b.received[50]![1].body as { data: Uint8Array }).data.length).toBe(3 * 1024 * 1024);
    expect(b.received[51]).toEqual(["node-a", ping(7, "x".repeat(1800))]);
  });

  test("when both dial, each side keeps one connection: the one the lower node id dialed", async () => {
    const a = await node("node-a");
    const b = await node("node-b");
    link(a, b);
    await waitFor(() => a.transport.isConnected("node-b") && b.transport.isConnected("node-a"), "connected");
    await waitFor(() => a.transport.openConnections === 1 && b.transport.openConnections === 1, "one connection each");
    await a.transport.send("node-b", blob(1, 1000));
    await b.transport.send("node-a", blob(2, 1000));
    await waitFor(() => a.received.length === 1 && b.received.length === 1, "bulk both ways");
  });

  test("a restarted peer is reconnected with back-off and gets what was queued meanwhile", async () => {
    const a = await node("node-a");
    let b = await node("node-b");
    link(a, b);
    await waitFor(() => a.transport.isConnected("node-b"), "connected");
    const ports = { udpPort: b.transport.udpPort, tcpPort: b.transport.tcpPort };
    await b.transport.close();
    await waitFor(() => !a.transport.isConnected("node-b"), "disconnect seen");
    const queued = a.transport.send("node-b", blob(5, 10_000));
    b = await node("node-b", ports);
    b.transport.setPeer("node-a", { host: "127.0.0.1", udpPort: a.transport.udpPort, tcpPort: a.transport.tcpPort });
    await queued;
    await waitFor(() => b.received.length === 1, "the queued message after the restart");
    expect((b.received[0]![1].body as { id: number }).id).toBe(5);
    // The restarted node's UDP sequence starts above its last run: its datagrams are accepted.
    await b.transport.send("node-a", ping(3));
    await waitFor(() => a.received.length === 1, "a datagram from the restarted node");
  });

  test("towards a gone peer, bulk senders wait and memory stays bounded; removing the peer rejects them", async () => {
    const a = await node("node-a");
    const gone = await node("node-gone");
    const address = { host: "127.0.0.1", udpPort: gone.transport.udpPort, tcpPort: gone.transport.tcpPort };
    await gone.transport.close();
    a.transport.setPeer("node-gone", address);
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < limits.bulkQueueCountMax + 10; i++) sends.push(a.transport.send("node-gone", blob(i, 1000)).catch((e: { code: string }) => e.code));
    await Bun.sleep(0);
    const stats = a.transport.peerStats("node-gone")!;
    expect(stats.bulkQueued).toBe(limits.bulkQueueCountMax);
    expect(stats.bulkWaiters).toBe(10);
    for (let i = 0; i < 1000; i++) await a.transport.send("node-gone", ping(i));
    expect(a.transport.peerStats("node-gone")!.smallQueued).toBeLessThanOrEqual(limits.smallQueueCountMax);
    a.transport.removePeer("node-gone");
    const results = await Promise.all(sends);
    expect(results.slice(-10)).toEqual(Array(10).fill("unavailable"));
    expect(await a.transport.send("node-gone", ping(1)).catch((e: { code: string }) => e.code)).toBe("unavailable");
  });

  test("a node with another secret is never heard: its datagrams fail the tag, its TCP handshake fails", async () => {
    const a = await node("node-a");
    const evil = await node("node-evil", { keys: keys(secretB) });
    link(a, evil);
    await evil.transport.send("node-a", ping(1));
    await evil.transport.send("node-a", blob(1, 100)).catch(() => {});
    await waitFor(() => a.transport.drops.count("127.0.0.1", "bad_tag") >= 2, "bad tags counted");
    expect(a.received).toEqual([]);
    expect(a.transport.isConnected("node-evil")).toBe(false);
    expect(a.lines.some((line) => line.includes("'node-evil'") && line.includes("bad_tag"))).toBe(true);
  });

  test("a datagram replayed on the socket is delivered once", async () => {
    const a = await node("node-a");
    const codec = new DatagramCodec({ nodeId: "node-x", keys: keys(), registry: testRegistry(), drops: new DropCounter(() => {}) });
    const datagram = codec.sealTo("node-a", ping(9))!;
    const raw = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    try {
      raw.send(datagram, a.transport.udpPort, "127.0.0.1");
      raw.send(datagram, a.transport.udpPort, "127.0.0.1");
      await waitFor(() => a.transport.drops.count("node-x", "replayed") === 1, "the replay counted");
      expect(a.received).toEqual([["node-x", ping(9)]]);
    } finally {
      raw.close();
    }
  });

  test("TLS on the TCP channel, with the HMAC handshake still on", async () => {
    using cert = throwawayCert();
    const tls = { cert: cert.cert, key: cert.key, ca: cert.cert };
    const a = await node("node-a", { tls });
    const b = await node("node-b", { tls });
    link(a, b);
    await a.transport.send("node-b", blob(1, 200_000));
    await waitFor(() => b.received.length === 1, "a bulk message over TLS");
    expect((b.received[0]![1].body as { data: Uint8Array }).data.length).toBe(200_000);
    const plain = await node("node-plain");
    link(plain, b);
    void plain.transport.send("node-b", blob(2, 100)).catch(() => {});
    await waitFor(() => plain.transport.unauthenticatedCloses >= 2, "the plain node to fail twice (it redials with back-off)");
    expect(b.received.length).toBe(1);
    expect(plain.transport.isConnected("node-b")).toBe(false);
  });
});
