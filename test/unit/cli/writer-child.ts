// A process that appends to a store as fast as it can until SIGTERM, for the online-backup test:
// one event per append, alternating between a few streams; prints "ready" after the first commit.
import { openStore } from "../../../src/index.ts";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: writer-child.ts DATA_DIR");
const store = openStore({ dataDir, durability: "normal" });
let stopping = false;
process.once("SIGTERM", () => {
  stopping = true;
});
let n = 0;
await store.append("w-0", "any", [{ type: "Wrote", data: { n: n++ } }]);
console.log("ready");
while (!stopping) {
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < 8; i++) batch.push(store.append(`w-${n % 5}`, "any", [{ type: "Wrote", data: { n: n++, pad: "x".repeat(200) } }]));
  await Promise.all(batch);
}
await store.close();
console.log(`stopped after ${n} events`);
