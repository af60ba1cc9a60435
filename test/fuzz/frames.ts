// The frame fuzzer, shared by the unit test (100,000 cases) and `npm run fuzz` (millions). Every
// case is derived from one seed: random bytes, valid frames with bit flips, truncations and
// length lies, valid tags on garbage or mutated bodies, random header fields under a valid tag,
// frames sealed for another receiver, and byte streams cut at random into a TCP channel. The decoder must never throw, every rejection
// must carry a known reason, and a mutated frame must never be accepted.

import {
  DatagramCodec,
  DropCounter,
  dropReasons,
  encodeCbor,
  sealFrame,
  TcpChannel,
  udpSequenceStart,
  type DropReason,
} from "../../src/codec/index.ts";
import { Prng } from "../../src/lib/index.ts";
import { keys, pingType, blobType, testRegistry } from "../unit/codec/fixtures.ts";

export interface FuzzReport {
  cases: number;
  accepted: number;
  reasons: Partial<Record<DropReason, number>>;
  failures: string[];
}

const kinds = ["random", "bitflip", "truncate", "length_lie", "garbage_body", "mutated_body", "header_fields", "other_receiver", "valid", "tcp_stream"] as const;
type Kind = (typeof kinds)[number];

export function fuzzFrames(seed: number, count: number, onProgress?: (done: number) => void): FuzzReport {
  const prng = new Prng(seed);
  const registry = testRegistry();
  const k = keys();
  const silent = new DropCounter(() => {});
  // One fixed wall clock: the run depends on the seed alone, however long it takes.
  const nowMs = 1_800_000_000_000;
  const now = () => nowMs;
  const sender = new DatagramCodec({ nodeId: "fuzz-sender", keys: k, registry, drops: silent, now });
  const receiver = new DatagramCodec({ nodeId: "fuzz-receiver", keys: k, registry, drops: silent, now });
  const report: FuzzReport = { cases: 0, accepted: 0, reasons: {}, failures: [] };
  const known = new Set<string>(dropReasons);
  let fakeSequence = udpSequenceStart(nowMs) + 1;

  const validFrame = (to = "fuzz-receiver"): Uint8Array => {
    const text = "t".repeat(prng.int(0, 200));
    return sender.sealTo(to, { type: pingType.id, body: { n: prng.int(0, 1_000_000), text } }) as Uint8Array;
  };
  const randomBytes = (length: number): Uint8Array => {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = prng.int(0, 255);
    return bytes;
  };
  const fail = (kind: Kind, what: string, bytes: Uint8Array) => {
    if (report.failures.length < 20) {
      report.failures.push(`seed ${seed} case ${report.cases} (${kind}): ${what}: ${Buffer.from(bytes.subarray(0, 96)).toString("hex")}`);
    }
  };

  for (let i = 0; i < count; i++) {
    if (onProgress !== undefined && i > 0 && i % 100_000 === 0) onProgress(i);
    const kind = prng.pick(kinds);
    let bytes: Uint8Array;
    let mustReject = true;
    switch (kind) {
      case "random":
        bytes = randomBytes(prng.int(0, 1500));
        if (prng.chance(0.5) && bytes.length >= 5) bytes.set([0x45, 0x45, 0x53, 0x44, 1]);
        break;
      case "bitflip": {
        bytes = validFrame();
        const original = bytes.slice();
        const flips = prng.int(1, 8);
        for (let f = 0; f < flips; f++) {
          const at = prng.int(0, bytes.length - 1);
          bytes[at] = (bytes[at] as number) ^ (1 << prng.int(0, 7));
        }
        if (Buffer.compare(bytes, original) === 0) bytes[0] = (bytes[0] as number) ^ 0x80; // two flips cancelled out
        break;
      }
      case "truncate": {
        const frame = validFrame();
        bytes = frame.subarray(0, prng.int(0, frame.length - 1));
        break;
      }
      case "length_lie": {
        bytes = validFrame();
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
        const lie = prng.chance(0.5) ? prng.nextUint32() : view.getUint32(24) + prng.int(-20, 20);
        if (lie === view.getUint32(24) || lie < 0) view.setUint32(24, view.getUint32(24) + 1);
        else view.setUint32(24, lie >>> 0);
        if (prng.chance(0.3)) bytes[28] = prng.int(0, 255); // node id length lie too
        break;
      }
      case "garbage_body":
        bytes = sealFrame(
          { type: prng.pick([pingType.id, blobType.id, prng.int(0, 0xffff)]), clusterId: k.clusterId, sequence: fakeSequence++, sender: "fuzz-forger", receiver: "fuzz-receiver", body: randomBytes(prng.int(0, 1200)) },
          k.current.udp,
        );
        mustReject = false; // a random body may, rarely, be a valid one
        break;
      case "mutated_body": {
        const body = encodeCbor({ n: prng.int(0, 100), text: "x".repeat(prng.int(0, 50)) });
        const flips = prng.int(1, 4);
        for (let f = 0; f < flips; f++) body[prng.int(0, body.length - 1)] = prng.int(0, 255);
        bytes = sealFrame({ type: pingType.id, clusterId: k.clusterId, sequence: fakeSequence++, sender: "fuzz-forger", receiver: "fuzz-receiver", body }, k.current.udp);
        mustReject = false;
        break;
      }
      case "header_fields": {
        bytes = sealFrame(
          {
            type: prng.int(0, 0xffff),
            clusterId: k.clusterId,
            // Half from long ago (stale for a sender without a window), half around now.
            sequence: prng.chance(0.5) ? prng.int(0, 2 ** 40) : udpSequenceStart(nowMs) + prng.int(-(2 ** 20), 2 ** 30),
            sender: "fuzz-forger-" + prng.int(0, 9),
            receiver: "fuzz-receiver",
            body: encodeCbor({ n: 1, text: "" }),
          },
          k.current.udp,
        );
        bytes[4] = prng.chance(0.5) ? prng.int(0, 255) : 1;
        bytes[5] = prng.chance(0.8) ? 0 : prng.int(0, 255);
        mustReject = false;
        break;
      }
      case "other_receiver":
        bytes = validFrame(prng.chance(0.5) ? "fuzz-other" : "fuzz-receiver2");
        break;
      case "valid":
        bytes = validFrame();
        mustReject = false;
        break;
      case "tcp_stream":
        report.cases += 1;
        fuzzTcpStream(prng, k, registry, report, seed);
        continue;
    }
    report.cases += 1;
    let result: ReturnType<DatagramCodec["open"]>;
    try {
      result = receiver.open(bytes, "fuzz");
    } catch (error) {
      fail(kind, `decoder threw ${String(error)}`, bytes);
      continue;
    }
    if (result.ok) {
      report.accepted += 1;
      if (mustReject) fail(kind, "a mutated frame was accepted", bytes);
      else if (!registry.isValid(result.message)) fail(kind, "an accepted message fails its validator", bytes);
      if (mustReject && result.sender === "fuzz-sender") fail(kind, "accepted as the real sender", bytes);
    } else {
      if (!known.has(result.reason)) fail(kind, `unknown reason ${String(result.reason)}`, bytes);
      report.reasons[result.reason] = (report.reasons[result.reason] ?? 0) + 1;
      if (kind === "valid") fail(kind, `a valid frame was rejected (${result.reason})`, bytes);
    }
  }
  return report;
}

/** A handshake, then a stream of valid and mutated frames cut into random chunks. */
function fuzzTcpStream(prng: Prng, k: ReturnType<typeof keys>, registry: ReturnType<typeof testRegistry>, report: FuzzReport, seed: number): void {
  const silent = new DropCounter(() => {});
  const a = new TcpChannel({ role: "dialer", nodeId: "a", peer: "b", keys: k, registry, drops: silent, udpSequence: 1 });
  const b = new TcpChannel({ role: "listener", nodeId: "b", keys: k, registry, drops: silent, udpSequence: 2 });
  const challenge = b.receiveBytes(a.start()).writes;
  for (const w of challenge) for (const c of a.receiveBytes(w).writes) b.receiveBytes(c);
  const parts: Uint8Array[] = [];
  for (let i = prng.int(1, 6); i > 0; i--) parts.push(a.seal({ type: pingType.id, body: { n: i, text: "s" } }));
  const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    stream.set(p, offset);
    offset += p.length;
  }
  const mutate = prng.chance(0.7);
  if (mutate) {
    const at = prng.int(0, stream.length - 1);
    stream[at] = (stream[at] as number) ^ prng.int(1, 255);
  }
  try {
    let delivered = 0;
    let failed = false;
    for (let at = 0; at < stream.length && !failed; ) {
      const size = prng.int(1, 300);
      const out = b.receiveBytes(stream.subarray(at, at + size));
      delivered += out.messages.length;
      failed = out.failed !== null;
      if (out.failed !== null) report.reasons[out.failed] = (report.reasons[out.failed] ?? 0) + 1;
      at += size;
    }
    if (!mutate && (failed || delivered !== parts.length)) {
      report.failures.push(`seed ${seed} tcp stream: an intact stream delivered ${delivered}/${parts.length}`);
    }
    if (mutate && delivered === parts.length && !failed) {
      // A mutation that left every frame intact is impossible: each byte is covered by a tag.
      report.failures.push(`seed ${seed} tcp stream: a mutated stream delivered every frame`);
    }
    if (!failed) report.accepted += delivered;
  } catch (error) {
    report.failures.push(`seed ${seed} tcp stream: threw ${String(error)}`);
  }
}
