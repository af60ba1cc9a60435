// `npm run sim -- --seed N` replays one seed exactly and prints its trace; `npm run sim --
// --seeds N [--from S]` searches N seeds and prints every failure. Exits non-zero on a failure.
// Options: --profile adversarial, --bug <TestingBugs key>, --ticks N (safety phase length),
// --trace N (trace lines kept), --verbose (print the trace of a passing seed).

import { formatFailure, runSeed, type SimOptions } from "./simulator.ts";
import type { TestingBugs } from "../../src/raft/index.ts";

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const bugName = argument("--bug");
const testingBugs: TestingBugs | undefined = bugName === undefined ? undefined : { [bugName]: true };
const profile: "default" | "adversarial" = argument("--profile") === "adversarial" ? "adversarial" : "default";
const ticks = argument("--ticks");
const common: SimOptions = { profile, ...(ticks === undefined ? {} : { safetyTicks: Number(ticks) }), ...(testingBugs ? { testingBugs } : {}) };
const single = argument("--seed");
if (single !== undefined) {
  const result = runSeed(Number(single), { ...common, traceLength: Number(argument("--trace") ?? 60) });
  if (!result.ok) {
    console.error(formatFailure(result));
    process.exit(1);
  }
  console.log(`seed ${result.seed} ok ${JSON.stringify(result.stats)}`);
  if (process.argv.includes("--verbose")) for (const l of result.trace) console.log(`  ${l}`);
  process.exit(0);
}

const count = Number(argument("--seeds") ?? 1000);
const from = Number(argument("--from") ?? 1);
let failures = 0;
const start = performance.now();
for (let seed = from; seed < from + count; seed++) {
  const result = runSeed(seed, common);
  if (!result.ok) {
    failures++;
    console.error(formatFailure(result));
  }
  if ((seed - from + 1) % 1000 === 0) {
    console.log(`${seed - from + 1} seeds, ${failures} failures, ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
}
console.log(`${count} seeds from ${from}: ${failures} failures in ${((performance.now() - start) / 1000).toFixed(1)} s`);
process.exit(failures > 0 ? 1 : 0);
