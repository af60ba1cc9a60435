// Frames over UDP: round trips, every reason a datagram is dropped, drop counting and its
// once-a-minute log, protocol version refusal, and key rotation with two secrets.

import { describe, expect, test } from "bun:test";
import {
  DatagramCodec,
  encodeCbor,
  fixedHeaderBytes,
  readHeader,
  sealFrame,
  protocolVersion,
  udpSequenceStart,
  type DropReason,
} from "../../../src/codec/index.ts";
import { dropLogLinesPerIntervalMax, dropPeersTrackedMax, udpFrameBytesMax, udpSequenceAgeMsMax } from "../../../src/lib/limits-wire.ts";
import { keys, pingType, recordingDrops, secretA, secretB, testRegistry, TestClock } from "./fixtures.ts";

function pair(senderKeys = keys(), receiverKeys = keys()) {
  const clock = new TestClock();
  const sent = recordingDrops(clock);
  const received = recordingDrops(clock);
  const registry = testRegistry();
  const a = new DatagramCodec({ nodeId: "node-a", keys: senderKeys, registry, drops: sent.drops, now: clock.now });
  const b = new DatagramCodec({ nodeId: "node-b", keys: receiverKeys, registry, drops: received.drops, now: clock.now });
  return { a, b, clock, drops: received.drops, lines: received.lines };
}

function ping(n = 1, text = "hello") {
  return { type: pingType.id, body: { n, text } };
}

function expectDrop(result: ReturnType<DatagramCodec["open"]>, reason: DropReason) {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.reason).toBe(reason);
}

/** A frame with a valid UDP tag for node-b around any body bytes and type (what only a key
 * holder can make), numbered `n` after the test clock's sequence. */
function signed(type: number, body: Uint8Array, n: number, k = keys()) {
  const sequence = udpSequenceStart(new TestClock().ms) + n;
  return sealFrame({ type, clusterId: k.clusterId, sequence, sender: "node-a", receiver: "node-b", body }, k.current.udp);
}

describe("udp frames", () => {
  test("a message round-trips with its sender and body", () => {
    const { a, b } = pair();
    const frame = a.sealTo("node-b", ping(7, "héllo wörld"));
    expect(frame).not.toBeNull();
    const opened = b.open(frame as Uint8Array);
    expect(opened).toEqual({ ok: true, sender: "node-a", message: { type: pingType.id, body: { n: 7, text: "héllo wörld" } } });
  });

  test("the header carries magic, version, type, cluster id, sequence, length and sender", () => {
    const { a } = pair();
    const frame = a.sealTo("node-b", ping()) as Uint8Array;
    const read = readHeader(frame, udpFrameBytesMax);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(new TextDecoder().decode(frame.subarray(0, 4))).toBe("EESD");
    expect(read.header.version).toBe(protocolVersion);
    expect(read.header.type).toBe(pingType.id);
    expect(read.header.clusterId).toEqual(keys().clusterId);
    expect(read.header.sender).toBe("node-a");
    expect(read.header.bodyLength).toBe(encodeCbor({ n: 1, text: "hello" }).length);
    expect(read.header.frameLength).toBe(frame.length);
    expect(frame.length).toBe(fixedHeaderBytes + "node-a".length + read.header.bodyLength + 32);
  });

  test("sequences grow by one per datagram, from the run's start time", () => {
    const { a } = pair();
    const first = readHeader(a.sealTo("node-b", ping()) as Uint8Array, udpFrameBytesMax);
    const second = readHeader(a.sealTo("node-b", ping()) as Uint8Array, udpFrameBytesMax);
    if (!first.ok || !second.ok) throw new Error("headers");
    expect(second.header.sequence).toBe(first.header.sequence + 1);
    expect(first.header.sequence).toBeGreaterThan(2 ** 40);
  });

  test("a message too large for one datagram is not sealed for UDP", () => {
    const { a } = pair();
    expect(a.sealTo("node-b", ping(1, "x".repeat(udpFrameBytesMax)))).toBeNull();
  });

  test("sealing an invalid or unregistered message is a programmer error", () => {
    const { a } = pair();
    expect(() => a.sealTo("node-b", { type: pingType.id, body: { n: -1, text: "x" } })).toThrow(/registered and valid/);
    expect(() => a.sealTo("node-b", { type: 999, body: {} })).toThrow(/registered and valid/);
  });
});

describe("every drop reason", () => {
  test("truncated: shorter than the fixed header, or than the header's lengths say", () => {
    const { a, b } = pair();
    const frame = a.sealTo("node-b", ping()) as Uint8Array;
    expectDrop(b.open(frame.subarray(0, 10)), "truncated");
    expectDrop(b.open(frame.subarray(0, frame.length - 1)), "truncated");
  });

  test("length_mismatch: more bytes than the header's lengths say", () => {
    const { a, b } = pair();
    const frame = a.sealTo("node-b", ping()) as Uint8Array;
    const longer = new Uint8Array(frame.length + 3);
    longer.set(frame);
    expectDrop(b.open(longer), "length_mismatch");
  });

  test("bad_magic", () => {
    const { a, b } = pair();
    const frame = a.sealTo("node-b", ping()) as Uint8Array;
    frame[0] = 0x00;
    expectDrop(b.open(frame), "bad_magic");
  });

  test("bad_header: non-zero flags, an empty or invalid node id, a sequence beyond 2^53", () => {
    const { a, b } = pair();
    const flags = a.sealTo("node-b", ping()) as Uint8Array;
    flags[5] = 1;
    expectDrop(b.open(flags), "bad_header");
    const emptyId = a.sealTo("node-b", ping()) as Uint8Array;
    emptyId[28] = 0;
    expectDrop(b.open(emptyId), "bad_header");
    const badUtf8 = a.sealTo("node-b", ping()) as Uint8Array;
    badUtf8[fixedHeaderBytes] = 0xff;
    expectDrop(b.open(badUtf8), "bad_header");
    const bigSequence = a.sealTo("node-b", ping()) as Uint8Array;
    bigSequence[16] = 0xff;
    expectDrop(b.open(bigSequence), "bad_header");
  });

  test("oversized: a body length over the limit is refused before anything else is read", () => {
    const { a, b } = pair();
    const frame = a.sealTo("node-b", ping()) as Uint8Array;
    new DataView(frame.buffer).setUint32(24, udpFrameBytesMax + 1);
    expectDrop(b.open(frame), "oversized");
  });

  test("wrong_cluster: a frame of another cluster name", () => {
    const { a, b } = pair(keys(secretA, null, "other-cluster"), keys());
    expectDrop(b.open(a.sealTo("node-b", ping()) as Uint8Array), "wrong_cluster");
  });

  test("bad_tag: another secret, or any bit flipped in the header, body or tag", () => {
    const { a, b } = pair(keys(secretB), keys(secretA));
    expectDrop(b.open(a.sealTo("node-b", ping()) as Uint8Array), "bad_tag");
    const same = pair();
    const frame = same.a.sealTo("node-b", ping()) as Uint8Array;
    for (const offset of [7, 20, fixedHeaderBytes + 2, frame.length - 40, frame.length - 1]) {
      const flipped = frame.slice();
      flipped[offset] = (flipped[offset] as number) ^ 0x01;
      expectDrop(same.b.open(flipped), "bad_tag");
    }
  });

  test("replayed: the same datagram twice", () => {
    const { a, b } = pair();
    const frame = a.sealTo("node-b", ping()) as Uint8Array;
    expect(b.open(frame).ok).toBe(true);
    expectDrop(b.open(frame), "replayed");
  });

  test("unknown_type: a verified frame of a type nobody registered", () => {
    const { b } = pair();
    expectDrop(b.open(signed(999, encodeCbor({ n: 1 }), 1)), "unknown_type");
  });

  test("malformed_body: a verified frame whose body is not CBOR this wire accepts", () => {
    const { b } = pair();
    expectDrop(b.open(signed(pingType.id, new Uint8Array([0xff, 0x00]), 1)), "malformed_body");
    expectDrop(b.open(signed(pingType.id, new Uint8Array([0x9f, 0x01, 0xff]), 2)), "malformed_body"); // indefinite
    expectDrop(b.open(signed(pingType.id, new Uint8Array([0xc1, 0x01]), 3)), "malformed_body"); // a tag
    expectDrop(b.open(signed(pingType.id, new Uint8Array([0x9a, 0x7f, 0xff, 0xff, 0xff]), 4)), "malformed_body"); // length lie
  });

  test("invalid_body: well-formed CBOR that fails the type's validator", () => {
    const { b } = pair();
    expectDrop(b.open(signed(pingType.id, encodeCbor({ n: "one", text: "x" }), 1)), "invalid_body");
    expectDrop(b.open(signed(pingType.id, encodeCbor([1, 2]), 2)), "invalid_body");
  });

  test("unsupported_version: refused with a clear log line naming both versions", () => {
    const { a, b, lines } = pair();
    const frame = a.sealTo("node-b", ping()) as Uint8Array;
    frame[4] = protocolVersion + 1;
    const result = b.open(frame, "10.0.0.9:4000");
    expectDrop(result, "unsupported_version");
    expect(lines).toEqual([
      `wire: refusing peer 10.0.0.9:4000 (claims to be 'node-a', unverified): it speaks wire protocol version ${protocolVersion + 1}, this node speaks version ${protocolVersion}`,
    ]);
  });
});

describe("replay and binding across nodes and restarts", () => {
  test("a datagram captured earlier and replayed after the receiver restarts is refused (stale)", () => {
    const { a, b, clock } = pair();
    const captured = a.sealTo("node-b", ping()) as Uint8Array;
    expect(b.open(captured).ok).toBe(true);
    clock.advance(udpSequenceAgeMsMax + 1);
    const restarted = new DatagramCodec({ nodeId: "node-b", keys: keys(), registry: testRegistry(), drops: recordingDrops(clock).drops, now: clock.now });
    expectDrop(restarted.open(captured), "stale");
  });

  test("a sender running for an hour is heard at once by a receiver that just started", () => {
    const { a, clock } = pair();
    for (let i = 0; i < 10; i++) a.sealTo("node-b", ping(i));
    clock.advance(3_600_000);
    const restarted = new DatagramCodec({ nodeId: "node-b", keys: keys(), registry: testRegistry(), drops: recordingDrops(clock).drops, now: clock.now });
    expect(restarted.open(a.sealTo("node-b", ping(11)) as Uint8Array).ok).toBe(true);
  });

  for (const ageS of [0, 6, 3600]) {
    test(`datagrams sent a few milliseconds apart and reordered on the way are all accepted (sender ${ageS} s old)`, () => {
      const { a, b, clock } = pair();
      // A sender older than udpSequenceLagMsMax once jumped to its clock: from there it counts by one.
      clock.advance(ageS * 1000);
      a.sealTo("node-b", ping(0));
      const sent: Uint8Array[] = [];
      const sequences: number[] = [];
      for (let i = 0; i < 50; i++) {
        sequences.push(a.sequence);
        sent.push(a.sealTo("node-b", ping(i)) as Uint8Array);
        clock.advance(3);
      }
      expect(sequences.slice(1).map((s, i) => s - (sequences[i] as number))).toEqual(Array(49).fill(1));
      for (const frame of [...sent].reverse()) expect(b.open(frame).ok).toBe(true);
    });
  }

  test("a sender that sends rarely keeps its sequence near its clock: a new receiver still hears it", () => {
    const { a, clock } = pair();
    for (let i = 0; i < 100; i++) {
      a.sealTo("node-b", ping(i));
      clock.advance(10 * 60_000);
    }
    const restarted = new DatagramCodec({ nodeId: "node-b", keys: keys(), registry: testRegistry(), drops: recordingDrops(clock).drops, now: clock.now });
    expect(restarted.open(a.sealTo("node-b", ping(101)) as Uint8Array).ok).toBe(true);
  });

  test("a sender whose clock is before 2020 (a board without a clock) is heard again after it restarts", () => {
    const clock = new TestClock();
    const in1970 = new TestClock(86_400_000);
    const registry = testRegistry();
    const b = new DatagramCodec({ nodeId: "node-b", keys: keys(), registry, drops: recordingDrops(clock).drops, now: clock.now });
    const start = () => new DatagramCodec({ nodeId: "node-a", keys: keys(), registry, drops: recordingDrops(in1970).drops, now: in1970.now });
    let a = start();
    b.replay.resync("node-a", a.sequence, a.run); // its handshake
    for (let i = 0; i < 3000; i++) expect(b.open(a.sealTo("node-b", ping(i)) as Uint8Array).ok).toBe(true);
    in1970.advance(60_000);
    a = start(); // restarted: its sequence starts at 0 again, its run id is new
    expect(a.sequence).toBe(0);
    b.replay.resync("node-a", a.sequence, a.run);
    for (let i = 0; i < 100; i++) expect(b.open(a.sealTo("node-b", ping(i)) as Uint8Array).ok).toBe(true);
  });

  test("a datagram sent while the first handshake is in flight, across a jump of the sequence, cannot be replayed after it", () => {
    const { a, b, clock } = pair();
    clock.advance(10_000);
    expect(b.open(a.sealTo("node-b", ping(0)) as Uint8Array).ok).toBe(true); // b knows a from datagrams only
    clock.advance(5_000);
    const told = a.sequence; // written into a's hello
    clock.advance(40); // a's sequence is now more than 5 s behind its clock: the next datagram jumps
    const inFlight = a.sealTo("node-b", ping(1)) as Uint8Array;
    expect(b.open(inFlight).ok).toBe(true);
    b.replay.resync("node-a", told, a.run); // b handles the handshake
    expectDrop(b.open(inFlight), "replayed");
    expect(b.open(a.sealTo("node-b", ping(2)) as Uint8Array).ok).toBe(true);
  });

  test("a sender whose clock is 5 minutes behind is refused by a new receiver until a handshake resyncs it", () => {
    const clock = new TestClock();
    const behind = new TestClock(clock.ms - 5 * 60_000);
    const registry = testRegistry();
    const a = new DatagramCodec({ nodeId: "node-a", keys: keys(), registry, drops: recordingDrops(behind).drops, now: behind.now });
    const b = new DatagramCodec({ nodeId: "node-b", keys: keys(), registry, drops: recordingDrops(clock).drops, now: clock.now });
    const early = a.sealTo("node-b", ping(1)) as Uint8Array;
    expectDrop(b.open(early), "stale");
    b.replay.resync("node-a", a.sequence); // what the TCP handshake tells b
    expect(b.open(a.sealTo("node-b", ping(2)) as Uint8Array).ok).toBe(true);
    expectDrop(b.open(early), "replayed");
  });

  test("a datagram sealed for node-b is refused by node-c of the same cluster (bad_tag)", () => {
    const { a, b, clock } = pair();
    const c = new DatagramCodec({ nodeId: "node-c", keys: keys(), registry: testRegistry(), drops: recordingDrops(clock).drops, now: clock.now });
    const forB = a.sealTo("node-b", ping()) as Uint8Array;
    expectDrop(c.open(forB), "bad_tag");
    expect(b.open(forB).ok).toBe(true);
    expect(c.open(a.sealTo("node-c", ping()) as Uint8Array).ok).toBe(true);
  });
});

describe("drop counting and logging", () => {
  test("drops are counted per sender and reason: the node id once the tag verified, else the source address", () => {
    const { a, b, drops, lines, clock } = pair();
    const frame = a.sealTo("node-b", ping()) as Uint8Array;
    b.open(frame, "10.0.0.1:5000");
    for (let i = 0; i < 5; i++) b.open(frame, "10.0.0.1:5000");
    const other = new DatagramCodec({ nodeId: "node-c", keys: keys(secretB), registry: testRegistry(), drops: recordingDrops().drops });
    for (let i = 0; i < 3; i++) b.open(other.sealTo("node-b", ping()) as Uint8Array, "10.0.0.3:5000");
    expect(drops.count("node-a", "replayed")).toBe(5);
    expect(drops.count("10.0.0.3", "bad_tag")).toBe(3);
    expect(drops.count("node-c", "bad_tag")).toBe(0);
    expect(drops.total).toBe(8);
    expect(lines).toEqual([
      "wire: dropped frames from 'node-a' (10.0.0.1:5000): replayed=1 (logged at most once a minute per sender)",
      "wire: dropped frames from 10.0.0.3:5000 (claims to be 'node-c', unverified): bad_tag=1 (logged at most once a minute per sender)",
    ]);
    clock.advance(59_999);
    b.open(frame);
    expect(lines.length).toBe(2);
    clock.advance(1);
    b.open(frame);
    expect(lines.at(-1)).toBe("wire: dropped frames from 'node-a': replayed=6 (logged at most once a minute per sender)");
  });

  test("garbage without a readable sender is counted under its address (the IP: any port, IPv4 or IPv6)", () => {
    const { b, drops } = pair();
    b.open(new Uint8Array([1, 2, 3]), "192.0.2.1:99");
    b.open(new Uint8Array([1, 2, 3]), "192.0.2.1:100");
    b.open(new Uint8Array([1, 2, 3]), "[2001:db8::1]:99");
    expect(drops.count("192.0.2.1", "truncated")).toBe(2);
    expect(drops.count("2001:db8::1", "truncated")).toBe(1);
  });

  test("a forger varying the claimed node id makes one log line a minute per address, not one per id", () => {
    const { b, drops, lines, clock } = pair();
    const forger = new DatagramCodec({ nodeId: "x", keys: keys(secretB), registry: testRegistry(), drops: recordingDrops().drops });
    const forged = (i: number) => {
      const frame = forger.sealTo("node-b", ping(i)) as Uint8Array;
      return sealFrame({ type: pingType.id, clusterId: keys().clusterId, sequence: i, sender: `forged-${i}`, receiver: "node-b", body: frame.subarray(30, 40) }, keys(secretB).current.udp);
    };
    for (let i = 0; i < 500; i++) b.open(forged(i), "10.6.6.6:4444");
    expect(lines.length).toBe(1);
    expect(drops.count("10.6.6.6", "bad_tag")).toBe(500);
    expect(drops.keysTracked).toBe(1);
    clock.advance(60_000);
    b.open(forged(501), "10.6.6.6:4444");
    expect(lines.at(-1)).toBe("wire: dropped frames from 10.6.6.6:4444 (claims to be 'forged-501', unverified): bad_tag=500 (logged at most once a minute per sender)");
    expect(lines.length).toBe(2);
  });

  test("many addresses at once: at most dropLogLinesPerIntervalMax lines a minute, then one line says how many were held back", () => {
    const { b, drops, lines, clock } = pair();
    const garbage = new Uint8Array([1, 2, 3]);
    for (let i = 0; i < 300; i++) b.open(garbage, `10.9.${i >> 8}.${i & 0xff}:53`);
    expect(lines.length).toBe(dropLogLinesPerIntervalMax);
    expect(drops.countReason("truncated")).toBe(300);
    clock.advance(60_000);
    b.open(garbage, "10.9.0.0:53");
    expect(lines.at(-2)).toBe(`wire: ${300 - dropLogLinesPerIntervalMax} more drop log lines were suppressed (at most ${dropLogLinesPerIntervalMax} a minute)`);
    expect(lines.at(-1)).toBe("wire: dropped frames from 10.9.0.0:53: truncated=1 (logged at most once a minute per sender)");
  });

  test("the senders tracked are capped: the least recently counted is forgotten", () => {
    const { b, drops } = pair();
    for (let i = 0; i <= dropPeersTrackedMax; i++) b.open(new Uint8Array([1]), `10.8.${i >> 8}.${i & 0xff}:1`);
    expect(drops.keysTracked).toBe(dropPeersTrackedMax);
    expect(drops.count("10.8.0.0", "truncated")).toBe(0);
    expect(drops.count(`10.8.${dropPeersTrackedMax >> 8}.${dropPeersTrackedMax & 0xff}`, "truncated")).toBe(1);
  });
});

describe("secret rotation", () => {
  test("a node signs with its current secret and accepts the current or the previous one", () => {
    const oldOnly = keys(secretA);
    const rotating = keys(secretB, secretA); // current B, previous A
    const toRotating = pair(oldOnly, rotating);
    expect(toRotating.b.open(toRotating.a.sealTo("node-b", ping()) as Uint8Array).ok).toBe(true);
    const fromRotating = pair(rotating, keys(secretA, secretB)); // receiver: current A, previous B
    expect(fromRotating.b.open(fromRotating.a.sealTo("node-b", ping()) as Uint8Array).ok).toBe(true);
    const toOldOnly = pair(rotating, oldOnly);
    expectDrop(toOldOnly.b.open(toOldOnly.a.sealTo("node-b", ping()) as Uint8Array), "bad_tag");
  });

  test("keys differ per purpose and never equal the secret", () => {
    const k = keys();
    const all = [k.current.discovery, k.current.udp, k.current.tcp].map((key) => Buffer.from(key).toString("hex"));
    expect(new Set(all).size).toBe(3);
    expect(all).not.toContain(Buffer.from(secretA).toString("hex"));
  });

  test("a short secret or a bad cluster name is refused", () => {
    expect(() => keys("short")).toThrow(/secret must be/);
    expect(() => keys(secretA, null, "has space")).toThrow(/cluster name/);
  });
});
