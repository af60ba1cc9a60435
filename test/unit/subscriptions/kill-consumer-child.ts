// The child of the kill test: joins persistent subscription "k" and acknowledges each delivery
// in order, writing "acking <position>" to the pipe before each ack, until it is killed.

import { writeSync } from "node:fs";
import { openStore } from "../../../src/index.ts";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: kill-consumer-child.ts DATA_DIR");
const store = openStore({ dataDir, durability: "full" });
const consumer = store.subscriptions.connect("k");
for await (const delivery of consumer) {
  // writeSync, not process.stdout.write: Bun may hold a pipe write in its own buffer until a later
  // turn, and kill -9 loses that buffer, so a line "printed" before its ack could never arrive
  // while the ack (and the checkpoint after it) did. This puts each line in the pipe first.
  writeSync(1, `acking ${delivery.event.position}\n`);
  delivery.ack();
  // Give the checkpoint writes their turns, as a real consumer doing work would.
  await Bun.sleep(0);
}
