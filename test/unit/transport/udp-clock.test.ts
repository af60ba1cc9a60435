// UDP replay windows over real sockets (127.0.0.1, port 0): a node whose clock is minutes behind
// is refused over UDP by a peer that has never heard it (its sequences look like old captures),
// and heard as soon as their TCP handshake has told the peer its next sequence.

import { afterEach, describe, expect, test } from "bun:test";
import type { Message } from "../../../src/codec/index.ts";
import { NetTransport } from "../../../src/transport/index.ts";
import { keys, pingType, recordingDrops, testRegistry } from "../codec/fixtures.ts";
import { waitFor } from "../../helpers/wait.ts";

const open: NetTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

describe("UDP and a clock that is behind", () => {
  test("a node 5 minutes behind is heard over UDP once its TCP handshake is done", async () => {
    const registry = testRegistry();
    const behindMs = 5 * 60_000;
    const a = await NetTransport.start({ nodeId: "node-a", keys: keys(), registry, host: "127.0.0.1", drops: recordingDrops().drops, now: () => Date.now() - behindMs });
    const b = await NetTransport.start({ nodeId: "node-b", keys: keys(), registry, host: "127.0.0.1", drops: recordingDrops().drops });
    open.push(a, b);
    const received: Message[] = [];
    b.onMessage((_peer, message) => received.push(message));
    // b knows a's address, but a does not know b's TCP port: no handshake yet, UDP only.
    a.setPeer("node-b", { host: "127.0.0.1", udpPort: b.udpPort, tcpPort: 1 });
    await a.send("node-b", { type: pingType.id, body: { n: 1, text: "early" } });
    await waitFor(() => b.drops.count("node-a", "stale") === 1, "the early datagram refused as stale");
    expect(received).toEqual([]);
    a.setPeer("node-b", { host: "127.0.0.1", udpPort: b.udpPort, tcpPort: b.tcpPort });
    await waitFor(() => b.isConnected("node-a"), "the TCP handshake");
    await a.send("node-b", { type: pingType.id, body: { n: 2, text: "after the handshake" } });
    await waitFor(() => received.length === 1, "the datagram after the handshake");
    expect(received).toEqual([{ type: pingType.id, body: { n: 2, text: "after the handshake" } }]);
  });
});
