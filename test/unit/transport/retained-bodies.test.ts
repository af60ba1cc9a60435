// Received bulk bodies are views of the bytes the socket handed over (the stream reader does not
// copy them), so they must stay intact after more bytes arrive: this holds only while Bun gives
// each TCP `data` call a buffer of its own, which the first test checks directly. Real sockets on
// 127.0.0.1, port 0.

import { afterEach, describe, expect, test } from "bun:test";
import type { Message } from "../../../src/codec/index.ts";
import { NetTransport } from "../../../src/transport/index.ts";
import { blobType, keys, recordingDrops, testRegistry } from "../codec/fixtures.ts";
import { waitFor } from "../../helpers/wait.ts";

/** How long a wait here may take before the test fails. */
const waitMs = 20_000;

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

describe("bytes received over TCP are not overwritten later", () => {
  test("Bun hands each data call a buffer of its own (what StreamReader relies on)", async () => {
    const kept: Uint8Array[] = [];
    let total = 0;
    const chunkBytes = 100_000;
    const chunks = 300;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { binaryType: "uint8array", data: (_s, chunk: Uint8Array) => { kept.push(chunk); total += chunk.length; } },
    });
    open.push({ close: () => listener.stop(true) });
    let resume: (() => void) | null = null;
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {}, drain() { resume?.(); resume = null; } } });
    open.push({ close: () => socket.end() });
    for (let i = 0; i < chunks; i++) {
      const bytes = new Uint8Array(chunkBytes).fill(i & 0xff);
      for (let at = 0; at < bytes.length; ) {
        at += Math.max(0, socket.write(bytes.subarray(at)));
        if (at < bytes.length) await new Promise<void>((r) => (resume = r));
      }
    }
    await waitFor(() => total === chunkBytes * chunks, "every byte to arrive", waitMs);
    let offset = 0;
    for (const chunk of kept) {
      for (let j = 0; j < chunk.length; j += 499) expect(chunk[j]).toBe(Math.floor((offset + j) / chunkBytes) & 0xff);
      offset += chunk.length;
    }
  });

  test("64 KiB bodies kept by the receiver stay intact while hundreds more arrive", async () => {
    const registry = testRegistry();
    const received: Message[] = [];
    const start = (nodeId: string) => NetTransport.start({ nodeId, keys: keys(), registry, host: "127.0.0.1", drops: recordingDrops().drops });
    const a = await start("node-a");
    const b = await start("node-b");
    open.push(a, b);
    b.onMessage((_peer, message) => received.push(message));
    a.setPeer("node-b", { host: "127.0.0.1", udpPort: b.udpPort, tcpPort: b.tcpPort });
    const count = 400;
    for (let i = 0; i < count; i++) await a.send("node-b", { type: blobType.id, body: { id: i, data: new Uint8Array(65_536).fill(i & 0xff) } });
    await waitFor(() => received.length === count, `${count} bodies`, waitMs);
    received.forEach((message, i) => {
      const body = message.body as { id: number; data: Uint8Array };
      expect(body.id).toBe(i);
      expect(body.data.every((byte) => byte === (i & 0xff))).toBe(true);
    });
  });
});
