// The child of the kill test: joins persistent subscription "k" and acknowledges each delivery
// in order, printing "acking <position>" before each ack, until it is killed.

import { openStore } from "../../../src/index.ts";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: kill-consumer-child.ts DATA_DIR");
const store = openStore({ dataDir, durability: "full" });
const consumer = store.subscriptions.connect("k");
for await (const delivery of consumer) {
  process.stdout.write(`acking ${delivery.event.position}\n`);
  delivery.ack();
  // Give the checkpoint writes their turns, as a real consumer doing work would.
  await Bun.sleep(0);
}
