// `npx bun bench/wire.ts [--seconds N]`: the wire against raw sockets, two processes on loopback.
// TCP bulk: 64 KiB messages through the transport (CBOR, frame, HMAC tag, session sequence)
// beside the same bytes written raw to a TCP socket. UDP: small messages through the transport
// (CBOR, frame, HMAC tag, replay window, validator) beside raw datagrams of the message's body,
// counted at the receiver. And the cost of one HMAC-SHA256 tag per frame. Targets: TCP >= 0.7 of
// raw, UDP >= 0.5 of raw. HMAC-SHA256 bounds the framed TCP rate: each side tags or verifies
// every byte once, so framed TCP cannot pass the tag's MB/s (shown in the last rows).

import path from "node:path";
import { defineMessage, deriveClusterKeys, hmac, isBytes, isRecord, isUint, MessageRegistry, encodeCbor, sealFrame } from "../src/codec/index.ts";
import { NetTransport } from "../src/transport/index.ts";
import { parseSeconds, printTable, type Row } from "./harness.ts";

const frameBytes = 64 * 1024;
const endMarker = 0xffff_ffff;
const keys = deriveClusterKeys({ clusterName: "bench", secret: "a benchmark secret of some length" });
const blobType = defineMessage<{ id: number; data: Uint8Array }>(16, "bench.blob", "bulk", (b): b is { id: number; data: Uint8Array } => isRecord(b) && isUint(b.id) && isBytes(b.data, frameBytes));
const pingType = defineMessage<{ n: number; text: string }>(17, "bench.ping", "small", (b): b is { n: number; text: string } => isRecord(b) && isUint(b.n) && typeof b.text === "string");
const registry = new MessageRegistry();
registry.register(blobType);
registry.register(pingType);
const pingText = "x".repeat(64);
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

// ---- the receiving process ----

async function receiver(mode: string): Promise<void> {
  if (mode === "tcp-framed" || mode === "udp-framed") {
    const transport = await NetTransport.start({ nodeId: "receiver", keys, registry, host: "127.0.0.1", log: () => {} });
    let bytes = 0;
    const udp = udpCounter();
    transport.onMessage((_peer, message) => {
      if (message.type === blobType.id) {
        const body = message.body as { id: number; data: Uint8Array };
        bytes += body.data.length;
        if (body.id === endMarker) print({ event: "done", bytes });
      } else {
        udp.count();
      }
    });
    print({ event: "ready", udpPort: transport.udpPort, tcpPort: transport.tcpPort });
  } else if (mode === "tcp-raw") {
    let bytes = 0;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data: (_s, chunk) => {
          bytes += chunk.length;
        },
        close: () => {
          print({ event: "done", bytes });
        },
      },
    });
    print({ event: "ready", tcpPort: listener.port, udpPort: 0 });
  } else {
    const udp = udpCounter();
    const socket = await Bun.udpSocket({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data: () => {
          udp.count();
        },
      },
    });
    print({ event: "ready", udpPort: socket.port, tcpPort: 0 });
  }
}

function udpCounter() {
  let count = 0;
  let firstMs = 0;
  let lastMs = 0;
  setInterval(() => print({ event: "udp", count, spanMs: lastMs - firstMs }), 200);
  return {
    count() {
      const now = performance.now();
      if (count === 0) firstMs = now;
      lastMs = now;
      count += 1;
    },
  };
}

// ---- the sending process (this one) ----

function spawnReceiver(mode: string) {
  return Bun.spawn([process.execPath, import.meta.path, "--receiver", mode], { stdout: "pipe", stderr: "inherit" });
}

class ReceiverProcess {
  readonly lines: Array<Record<string, number | string>> = [];
  private readonly child: ReturnType<typeof spawnReceiver>;

  constructor(mode: string) {
    const child = spawnReceiver(mode);
    this.child = child;
    void (async () => {
      let buffer = "";
      for await (const chunk of child.stdout) {
        buffer += new TextDecoder().decode(chunk);
        let i: number;
        while ((i = buffer.indexOf("\n")) >= 0) {
          this.lines.push(JSON.parse(buffer.slice(0, i)));
          buffer = buffer.slice(i + 1);
        }
      }
    })();
  }

  async wait(event: string, timeoutMs = 60_000): Promise<Record<string, number | string>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.lines.findLast((l) => l.event === event);
      if (line !== undefined) return line;
      if (performance.now() > deadline) throw new Error(`receiver: no '${event}' within ${timeoutMs} ms`);
      await Bun.sleep(1);
    }
  }

  /** The UDP count once it stopped growing. */
  async settledUdp(): Promise<{ count: number; spanMs: number }> {
    let last = -1;
    for (;;) {
      await Bun.sleep(450);
      const line = await this.wait("udp");
      if (line.count === last) return { count: Number(line.count), spanMs: Number(line.spanMs) };
      last = Number(line.count);
    }
  }

  kill(): void {
    this.child.kill();
  }
}

async function tcpFramed(seconds: number): Promise<number> {
  const receiver = new ReceiverProcess("tcp-framed");
  try {
    const ready = await receiver.wait("ready");
    const sender = await NetTransport.start({ nodeId: "sender", keys, registry, host: "127.0.0.1", log: () => {} });
    sender.setPeer("receiver", { host: "127.0.0.1", udpPort: Number(ready.udpPort), tcpPort: Number(ready.tcpPort) });
    const data = new Uint8Array(frameBytes).fill(7);
    const start = performance.now();
    let sent = 0;
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 16; i++) {
        await sender.send("receiver", { type: blobType.id, body: { id: sent / frameBytes, data } });
        sent += frameBytes;
      }
    }
    await sender.send("receiver", { type: blobType.id, body: { id: endMarker, data } });
    sent += frameBytes;
    const done = await receiver.wait("done");
    const elapsedS = (performance.now() - start) / 1000;
    if (Number(done.bytes) !== sent) throw new Error(`tcp framed: sent ${sent} bytes, received ${done.bytes}`);
    await sender.close();
    return sent / elapsedS / 1e6;
  } finally {
    receiver.kill();
  }
}

async function tcpRaw(seconds: number): Promise<number> {
  const receiver = new ReceiverProcess("tcp-raw");
  try {
    const ready = await receiver.wait("ready");
    let resume: (() => void) | null = null;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: Number(ready.tcpPort),
      socket: {
        data: () => {},
        drain: () => {
          resume?.();
          resume = null;
        },
      },
    });
    const chunk = new Uint8Array(frameBytes).fill(7);
    const start = performance.now();
    let sent = 0;
    while (performance.now() - start < seconds * 1000) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = socket.write(offset === 0 ? chunk : chunk.subarray(offset));
        offset += Math.max(0, n);
        if (offset < chunk.length) await new Promise<void>((r) => (resume = r));
      }
      sent += frameBytes;
    }
    socket.end();
    const done = await receiver.wait("done");
    const elapsedS = (performance.now() - start) / 1000;
    if (Number(done.bytes) !== sent) throw new Error(`tcp raw: sent ${sent} bytes, received ${done.bytes}`);
    return sent / elapsedS / 1e6;
  } finally {
    receiver.kill();
  }
}

async function udpFramed(seconds: number): Promise<number> {
  const receiver = new ReceiverProcess("udp-framed");
  try {
    const ready = await receiver.wait("ready");
    const sender = await NetTransport.start({ nodeId: "sender", keys, registry, host: "127.0.0.1", log: () => {} });
    sender.setPeer("receiver", { host: "127.0.0.1", udpPort: Number(ready.udpPort), tcpPort: Number(ready.tcpPort) });
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 64; i++) void sender.send("receiver", { type: pingType.id, body: { n: n++, text: pingText } });
      await Bun.sleep(0);
    }
    const { count, spanMs } = await receiver.settledUdp();
    await sender.close();
    return count / (spanMs / 1000);
  } finally {
    receiver.kill();
  }
}

async function udpRaw(seconds: number): Promise<number> {
  const receiver = new ReceiverProcess("udp-raw");
  try {
    const ready = await receiver.wait("ready");
    const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    const body = encodeCbor({ n: 123456, text: pingText });
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 64; i++) socket.send(body, Number(ready.udpPort), "127.0.0.1");
      await Bun.sleep(0);
    }
    const { count, spanMs } = await receiver.settledUdp();
    socket.close();
    return count / (spanMs / 1000);
  } finally {
    receiver.kill();
  }
}

function hmacCost(bodyBytes: number): { microseconds: number; megabytesPerSecond: number } {
  const frame = sealFrame({ type: 16, clusterId: keys.clusterId, sequence: 1, sender: "sender", body: new Uint8Array(bodyBytes) }, keys.current.tcp);
  const signed = frame.subarray(0, frame.length - 32);
  const rounds = bodyBytes > 10_000 ? 5_000 : 200_000;
  for (let i = 0; i < 100; i++) hmac(keys.current.tcp, signed);
  const start = performance.now();
  for (let i = 0; i < rounds; i++) hmac(keys.current.tcp, signed);
  const perTagMs = (performance.now() - start) / rounds;
  return { microseconds: perTagMs * 1000, megabytesPerSecond: signed.length / (perTagMs / 1000) / 1e6 };
}

/**
 * Raw and framed runs alternate, three rounds of a third of the time each, and each keeps its
 * best round: on a shared machine, the best round is the one least disturbed by others.
 */
export async function runWireBench(seconds: number): Promise<Row[]> {
  const round = seconds / 3;
  let tcpRawMBs = 0;
  let tcpFramedMBs = 0;
  let udpRawRate = 0;
  let udpFramedRate = 0;
  for (let i = 0; i < 3; i++) {
    tcpRawMBs = Math.max(tcpRawMBs, await tcpRaw(round));
    tcpFramedMBs = Math.max(tcpFramedMBs, await tcpFramed(round));
    udpRawRate = Math.max(udpRawRate, await udpRaw(round));
    udpFramedRate = Math.max(udpFramedRate, await udpFramed(round));
  }
  const bigTag = [hmacCost(frameBytes), hmacCost(frameBytes), hmacCost(frameBytes)].reduce((a, b) => (a.microseconds < b.microseconds ? a : b));
  const smallTag = hmacCost(encodeCbor({ n: 123456, text: pingText }).length);
  // The most framed TCP can reach, from this run's own measurements. Each process pays, per byte,
  // what the raw case pays (its side of the kernel copy: 1/raw seconds per MB) plus one HMAC pass
  // (the sender tags, the receiver verifies: 1/hmac seconds per MB), one after the other on its
  // thread; the two processes work in parallel. So framed MB/s <= 1 / (1/raw + 1/hmac). With
  // raw 2,235 MB/s and HMAC 2,029 MB/s that is 1,063 MB/s, 0.48 of raw: the 0.7 target cannot be
  // met with HMAC-SHA256 over every byte on one core per side, and the last row says how close
  // the framed path gets to what the tag allows (1.00 = nothing but the kernel and the HMAC).
  const ceilingMBs = 1 / (1 / tcpRawMBs + 1 / bigTag.megabytesPerSecond);
  return [
    { case: "TCP bulk, 64 KiB messages, framed + HMAC", value: tcpFramedMBs, unit: "MB/s", baseline: tcpRawMBs, target: 0.7 },
    { case: "TCP bulk ceiling with HMAC: 1/(1/raw + 1/HMAC)", value: ceilingMBs, unit: "MB/s", baseline: tcpRawMBs },
    { case: "TCP bulk framed, as a fraction of that ceiling", value: tcpFramedMBs, unit: "MB/s", baseline: ceilingMBs },
    { case: "UDP small messages, framed + HMAC", value: udpFramedRate, unit: "msg/s", baseline: udpRawRate, target: 0.5 },
    { case: "one HMAC-SHA256 tag, 64 KiB frame", value: bigTag.microseconds, unit: `us (${Math.round(bigTag.megabytesPerSecond)} MB/s)` },
    { case: "one HMAC-SHA256 tag, small frame", value: smallTag.microseconds, unit: "us" },
  ];
}

if (process.argv[2] === "--receiver") {
  await receiver(process.argv[3] ?? "");
} else if (import.meta.main) {
  const seconds = parseSeconds(2);
  printTable(`wire vs raw sockets on loopback, two processes (${seconds} s per case)`, await runWireBench(seconds));
  process.exit(0);
}
