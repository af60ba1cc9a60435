// The TCP session: the challenge-response handshake (fresh nonces both ways, bound to both node
// ids and the cluster), sequenced frames after it, and what closes a connection: a replayed or
// reordered frame, a recorded handshake, another secret, the wrong peer, another version.

import { describe, expect, test } from "bun:test";
import { emptyOutput, protocolVersion, TcpChannel, type ClusterKeys, type SessionOutput } from "../../../src/codec/index.ts";
import { blobType, keys, pingType, recordingDrops, secretA, secretB, testRegistry } from "./fixtures.ts";

interface Side {
  channel: TcpChannel;
  lines: string[];
  drops: ReturnType<typeof recordingDrops>["drops"];
}

function side(role: "dialer" | "listener", nodeId: string, k: ClusterKeys, peer?: string, withRun = true): Side {
  const { drops, lines } = recordingDrops();
  const channel = new TcpChannel({
    role,
    nodeId,
    keys: k,
    registry: testRegistry(),
    drops,
    // Asked when the hello or challenge is written, not when the channel is made.
    udpSequence: nodeId === "node-a" ? () => 1000 : 2000,
    ...(withRun ? { udpRun: nodeId === "node-a" ? 11 : 22 } : {}),
    address: "127.0.0.1:1",
    ...(peer === undefined ? {} : { peer }),
  });
  return { channel, lines, drops };
}

/** Runs a handshake, carrying every write to the other side; returns each side's outputs. */
function connect(dialer: Side, listener: Side) {
  const wire: Uint8Array[] = [];
  const dialerOut: SessionOutput[] = [];
  const listenerOut: SessionOutput[] = [];
  let toListener: Uint8Array[] = [dialer.channel.start()];
  wire.push(...toListener);
  for (let round = 0; round < 4 && toListener.length > 0; round++) {
    const toDialer: Uint8Array[] = [];
    for (const bytes of toListener) {
      const out = listener.channel.receiveBytes(bytes);
      listenerOut.push(out);
      toDialer.push(...out.writes);
    }
    toListener = [];
    for (const bytes of toDialer) {
      const out = dialer.channel.receiveBytes(bytes);
      dialerOut.push(out);
      toListener.push(...out.writes);
      wire.push(...out.writes);
    }
  }
  return { wire, dialerOut, listenerOut };
}

const established = (outs: SessionOutput[]) => outs.find((o) => o.established !== null)?.established ?? null;
const failed = (outs: SessionOutput[]) => outs.find((o) => o.failed !== null)?.failed ?? null;

describe("tcp handshake", () => {
  test("both sides authenticate each other and learn each other's UDP sequence and run", () => {
    const a = side("dialer", "node-a", keys(), "node-b");
    const b = side("listener", "node-b", keys());
    const { dialerOut, listenerOut } = connect(a, b);
    expect(established(dialerOut)).toEqual({ peer: "node-b", peerUdpSequence: 2000, peerUdpRun: 22 });
    expect(established(listenerOut)).toEqual({ peer: "node-a", peerUdpSequence: 1000, peerUdpRun: 11 });
    expect(a.channel.session.isOpen && b.channel.session.isOpen).toBe(true);
  });

  test("a peer of an older build (no UDP run in its handshake) still connects, both ways, its run unknown", () => {
    for (const olderDials of [true, false]) {
      const a = side("dialer", "node-a", keys(), "node-b", !olderDials);
      const b = side("listener", "node-b", keys(), undefined, olderDials);
      const { dialerOut, listenerOut } = connect(a, b);
      expect(established(dialerOut)).toEqual({ peer: "node-b", peerUdpSequence: 2000, peerUdpRun: olderDials ? 22 : undefined });
      expect(established(listenerOut)).toEqual({ peer: "node-a", peerUdpSequence: 1000, peerUdpRun: olderDials ? undefined : 11 });
    }
  });

  test("after it, messages flow both ways in order, bulk and small", () => {
    const a = side("dialer", "node-a", keys(), "node-b");
    const b = side("listener", "node-b", keys());
    connect(a, b);
    const data = new Uint8Array(200_000).map((_, i) => i % 251);
    const frames = [a.channel.seal({ type: blobType.id, body: { id: 1, data } }), a.channel.seal({ type: pingType.id, body: { n: 2, text: "x" } })];
    const joined = new Uint8Array(frames[0]!.length + frames[1]!.length);
    joined.set(frames[0]!);
    joined.set(frames[1]!, frames[0]!.length);
    const received = [];
    for (let offset = 0; offset < joined.length; offset += 7919) {
      received.push(...b.channel.receiveBytes(joined.subarray(offset, offset + 7919)).messages);
    }
    expect(received).toEqual([{ type: blobType.id, body: { id: 1, data } }, { type: pingType.id, body: { n: 2, text: "x" } }]);
    const back = a.channel.receiveBytes(b.channel.seal({ type: pingType.id, body: { n: 3, text: "back" } }));
    expect(back.messages).toEqual([{ type: pingType.id, body: { n: 3, text: "back" } }]);
  });

  test("a replayed data frame closes the connection (reason replayed)", () => {
    const a = side("dialer", "node-a", keys(), "node-b");
    const b = side("listener", "node-b", keys());
    connect(a, b);
    const frame = a.channel.seal({ type: pingType.id, body: { n: 1, text: "x" } });
    expect(b.channel.receiveBytes(frame).messages.length).toBe(1);
    const again = b.channel.receiveBytes(frame);
    expect(again.failed).toBe("replayed");
    expect(b.drops.count("node-a", "replayed")).toBe(1);
  });

  test("on an open connection a bad frame is counted under the authenticated peer, not the id it claims", () => {
    const a = side("dialer", "node-a", keys(), "node-b");
    const b = side("listener", "node-b", keys());
    connect(a, b);
    const frame = a.channel.seal({ type: pingType.id, body: { n: 1, text: "x" } });
    const claimed = frame.slice();
    claimed[29] = "z".charCodeAt(0); // the sender id now reads "zode-a"
    expect(b.channel.receiveBytes(claimed).failed).toBe("wrong_sender");
    expect(b.drops.count("node-a", "wrong_sender")).toBe(1);
    expect(b.drops.count("zode-a", "wrong_sender")).toBe(0);
  });

  test("frames of one connection do not verify on another between the same nodes", () => {
    const a1 = side("dialer", "node-a", keys(), "node-b");
    const b1 = side("listener", "node-b", keys());
    connect(a1, b1);
    const a2 = side("dialer", "node-a", keys(), "node-b");
    const b2 = side("listener", "node-b", keys());
    connect(a2, b2);
    const fromFirst = a1.channel.seal({ type: pingType.id, body: { n: 1, text: "x" } });
    expect(b2.channel.receiveBytes(fromFirst).failed).toBe("bad_tag");
  });

  test("a recorded handshake replayed to a listener gets a fresh challenge and never opens", () => {
    const a = side("dialer", "node-a", keys(), "node-b");
    const b = side("listener", "node-b", keys());
    const { wire } = connect(a, b);
    const victim = side("listener", "node-b", keys());
    const hello = victim.channel.receiveBytes(wire[0]!);
    expect(hello.writes.length).toBe(1); // a challenge with a fresh nonce
    const confirm = victim.channel.receiveBytes(wire[1]!);
    expect(confirm.failed).toBe("bad_tag");
    expect(confirm.established).toBeNull();
    expect(victim.channel.session.isOpen).toBe(false);
  });

  test("a dialer that reaches another node than it meant fails the handshake", () => {
    const a = side("dialer", "node-a", keys(), "node-b");
    const c = side("listener", "node-c", keys());
    const { listenerOut } = connect(a, c);
    expect(failed(listenerOut)).toBe("handshake_failed");
  });

  test("another secret fails the handshake with bad_tag", () => {
    const a = side("dialer", "node-a", keys(secretB), "node-b");
    const b = side("listener", "node-b", keys(secretA));
    const { listenerOut } = connect(a, b);
    expect(failed(listenerOut)).toBe("bad_tag");
    expect(b.drops.count("127.0.0.1", "bad_tag")).toBe(1); // before the handshake: under the address, not the claimed id
  });

  test("another cluster name fails with wrong_cluster", () => {
    const a = side("dialer", "node-a", keys(secretA, null, "other"), "node-b");
    const b = side("listener", "node-b", keys());
    expect(failed(connect(a, b).listenerOut)).toBe("wrong_cluster");
  });

  test("rotation: nodes with the secrets in either order (current/previous) connect", () => {
    const a = side("dialer", "node-a", keys(secretB, secretA), "node-b");
    const b = side("listener", "node-b", keys(secretA, secretB));
    const { dialerOut, listenerOut } = connect(a, b);
    expect(established(dialerOut)?.peer).toBe("node-b");
    expect(established(listenerOut)?.peer).toBe("node-a");
    const message = { type: pingType.id, body: { n: 1, text: "rotated" } };
    expect(b.channel.receiveBytes(a.channel.seal(message)).messages).toEqual([message]);
    expect(a.channel.receiveBytes(b.channel.seal(message)).messages).toEqual([message]);
  });

  test("a peer speaking another protocol version is refused with a clear log line", () => {
    const a = side("dialer", "node-a", keys(), "node-b");
    const b = side("listener", "node-b", keys());
    const hello = a.channel.start();
    hello[4] = protocolVersion + 1;
    const out = b.channel.receiveBytes(hello);
    expect(out.failed).toBe("unsupported_version");
    expect(b.lines).toEqual([
      `wire: refusing peer 127.0.0.1:1 (claims to be 'node-a', unverified): it speaks wire protocol version ${protocolVersion + 1}, this node speaks version ${protocolVersion}`,
    ]);
  });

  test("a data frame before the handshake, or a second hello, fails it", () => {
    const a = side("dialer", "node-a", keys(), "node-b");
    const b = side("listener", "node-b", keys());
    const hello = a.channel.start();
    expect(b.channel.receiveBytes(hello).writes.length).toBe(1);
    expect(b.channel.receiveBytes(hello).failed).toBe("handshake_failed");
  });

  test("an oversized length in the stream fails before the body arrives", () => {
    const b = side("listener", "node-b", keys());
    const a = side("dialer", "node-a", keys(), "node-b");
    const hello = a.channel.start();
    new DataView(hello.buffer).setUint32(24, 0xffff_fff0);
    const out = b.channel.receiveBytes(hello.subarray(0, 40));
    expect(out.failed).toBe("oversized");
    expect(emptyOutput().failed).toBeNull();
  });
});

describe("before the handshake", () => {
  test("a frame header that claims a body over handshakeBodyBytesMax closes the connection before any body is buffered", () => {
    const dialer = side("dialer", "node-a", keys(secretA), "node-b");
    const listener = side("listener", "node-b", keys(secretA));
    const hello = dialer.channel.start();
    // The same hello, but its header claims a 2 KiB body: only the 29-byte header and sender id arrive.
    const lying = hello.slice(0, 29 + "node-a".length);
    new DataView(lying.buffer).setUint32(24, 2048);
    const out = listener.channel.receiveBytes(lying);
    expect(out.failed).not.toBeNull();
    expect(listener.lines.join("\n")).toContain("oversized");
  });
});
