// `npm run bench`: every benchmark of the project in one run, each table with the raw limit
// beside it. Options: --seconds N per case (default 2), --normal for synchronous=NORMAL.

import { existsSync } from "node:fs";
import path from "node:path";
import { parseSeconds, printTable } from "./harness.ts";
import { runStoreBench } from "./store.ts";

const seconds = parseSeconds(2);
const durability = process.argv.includes("--normal") ? "normal" : "full";
printTable(`store vs raw bun:sqlite (synchronous=${durability.toUpperCase()}, ${seconds} s per case)`, await runStoreBench(seconds, durability));

// Benchmarks of other parts run as their own processes, so one's sockets or memory cannot
// disturb another's numbers.
for (const name of ["wire.ts", "raft.ts", "subscriptions.ts", "http.ts", "binary.ts"]) {
  const file = path.join(import.meta.dir, name);
  if (!existsSync(file)) continue;
  const child = Bun.spawnSync([process.execPath, file, "--seconds", String(seconds)], { stdout: "inherit", stderr: "inherit" });
  if (child.exitCode !== 0) {
    console.error(`bench/${name} failed with exit code ${child.exitCode}`);
    process.exitCode = 1;
  }
}
