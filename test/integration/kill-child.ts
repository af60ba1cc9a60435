// The child of the kill test: appends batches from several concurrent writers as fast as it can
// and prints one line per acknowledged append, until it is killed.

import { openStore } from "../../src/index.ts";

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: kill-child.ts DATA_DIR");
const store = openStore({ dataDir, durability: "full" });
const writers = 8;

async function writer(w: number): Promise<void> {
  for (let batch = 0; ; batch++) {
    const size = 1 + (batch % 5);
    const events = Array.from({ length: size }, (_, i) => ({ type: "Step", data: { w, batch, i, size } }));
    const result = await store.append(`stream-${w % 3}`, "any", events);
    process.stdout.write(`${w} ${batch} ${size} stream-${w % 3} ${result.nextVersion} ${result.position}\n`);
  }
}

await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
