// kill -9 while a consumer acknowledges: the reopened store resumes at the saved checkpoint,
// which never passes an event the consumer had not acknowledged, and every event after it is
// delivered again (at least once, none skipped).

import { describe, expect, test } from "bun:test";
import path from "node:path";
import type { Delivery } from "../../../src/index.ts";
import { ev, testStore } from "./helpers.ts";

const child = path.join(import.meta.dir, "kill-consumer-child.ts");

describe("persistent subscription and kill -9", () => {
  test("the checkpoint survives a crash and never runs ahead of the acknowledgements", async () => {
    const t = testStore();
    try {
      const total = 400;
      await t.store.subscriptions.create("k", { selector: { pattern: "*" }, settings: { checkpointIntervalMs: 0 } });
      for (let i = 0; i < total; i += 20) await t.store.append(`s-${i % 3}`, "any", Array.from({ length: 20 }, () => ev("E", { i })));
      await t.store.close();
      const proc = Bun.spawn([process.execPath, child, t.dir], { stdout: "pipe", stderr: "inherit" });
      const reader = proc.stdout.getReader();
      let text = "";
      while ((text.match(/\n/g) ?? []).length < 100) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      proc.kill("SIGKILL");
      await proc.exited;
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
      const acking = text.split("\n").filter((l) => l.startsWith("acking ")).map((l) => Number(l.slice(7)));
      expect(acking.length).toBeGreaterThanOrEqual(100);
      expect(acking).toEqual(Array.from({ length: acking.length }, (_, i) => i));
      const store = await t.reopen();
      const checkpoint = store.subscriptions.get("k").checkpoint;
      expect(checkpoint).toBeLessThanOrEqual(acking[acking.length - 1] as number);
      expect(checkpoint).toBeGreaterThanOrEqual(-1);
      const consumer = store.subscriptions.connect("k");
      const again: number[] = [];
      while (again.length < total - 1 - checkpoint) {
        const d = (await consumer.next()) as Delivery;
        again.push(d.event.position);
        d.ack();
      }
      expect(again).toEqual(Array.from({ length: total - 1 - checkpoint }, (_, i) => checkpoint + 1 + i));
    } finally {
      await t[Symbol.asyncDispose]();
    }
  });
});
