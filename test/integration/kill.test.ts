// kill -9 while appending: every append acknowledged before the kill is there after reopening,
// no batch is half-written, and versions have no gaps.

import { expect, test } from "bun:test";
import path from "node:path";
import { openStore } from "../../src/index.ts";
import { tempDir } from "../helpers/temp.ts";

interface Ack {
  writer: number;
  batch: number;
  size: number;
  stream: string;
  lastVersion: number;
  lastPosition: number;
}

async function runUntilAcks(dataDir: string, acksWanted: number): Promise<Ack[]> {
  const child = Bun.spawn([process.execPath, path.join(import.meta.dir, "kill-child.ts"), dataDir], { stdout: "pipe", stderr: "inherit" });
  const acks: Ack[] = [];
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk);
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const [writer, batch, size, stream, lastVersion, lastPosition] = line.split(" ");
      acks.push({ writer: Number(writer), batch: Number(batch), size: Number(size), stream: stream as string, lastVersion: Number(lastVersion), lastPosition: Number(lastPosition) });
    }
    if (acks.length >= acksWanted) {
      child.kill("SIGKILL");
      break;
    }
  }
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  return acks;
}

test("kill -9 during appends loses no acknowledged append and leaves no half batch", async () => {
  using dir = tempDir();
  for (let round = 0; round < 3; round++) {
    const acks = await runUntilAcks(dir.path, 300 + round * 100);
    const store = openStore({ dataDir: dir.path });
    try {
      const byStream = new Map<string, Array<{ version: number; position: number; data: { w: number; batch: number; i: number; size: number } }>>();
      for (const stream of ["stream-0", "stream-1", "stream-2"]) {
        const events = await store.read(stream, { limit: 10_000 });
        byStream.set(stream, events.map((e) => ({ version: e.version, position: e.position, data: e.data as never })));
        // Gapless versions from 0.
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i));
        // No half batch: events of one batch are consecutive and complete.
        for (let i = 0; i < events.length; ) {
          const first = events[i]?.data as { w: number; batch: number; size: number };
          for (let k = 0; k < first.size; k++) {
            const e = events[i + k]?.data as { w: number; batch: number; i: number } | undefined;
            expect(e).toEqual({ w: first.w, batch: first.batch, i: k, size: first.size } as never);
          }
          i += first.size;
        }
      }
      // Every acknowledged append is there, at the version and position it was acknowledged with.
      for (const ack of acks) {
        const stored = byStream.get(ack.stream)?.[ack.lastVersion];
        expect(stored?.position).toBe(ack.lastPosition);
        expect(stored?.data).toEqual({ w: ack.writer, batch: ack.batch, i: ack.size - 1, size: ack.size });
      }
      // Positions only grow across the whole store.
      const all = await store.readAll({ limit: 10_000 });
      expect(all.map((e) => e.position)).toEqual([...all.map((e) => e.position)].sort((a, b) => a - b));
    } finally {
      await store.close();
    }
  }
}, 60_000);
