// `npm run fuzz -- --count N [--seed S]`: the frame fuzzer for long runs. Prints progress, the
// rejection reasons it saw, and exits non-zero on the first failures with their seed.

import { fuzzFrames } from "./frames.ts";

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const count = Number(argument("count") ?? "1000000");
const seed = Number(argument("seed") ?? String(Date.now() % 2 ** 32));
if (!Number.isSafeInteger(count) || count <= 0 || !Number.isSafeInteger(seed)) {
  console.error("usage: npm run fuzz -- --count N [--seed S]");
  process.exit(2);
}
const startedMs = performance.now();
console.log(`fuzz: ${count} frames, seed ${seed}`);
const report = fuzzFrames(seed, count, (done) => {
  if (done % 1_000_000 === 0) console.log(`fuzz: ${done} frames, ${((performance.now() - startedMs) / 1000).toFixed(0)} s`);
});
console.log(`fuzz: ${report.cases} cases, ${report.accepted} accepted, ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
for (const [reason, n] of Object.entries(report.reasons).sort()) console.log(`  ${reason.padEnd(20)} ${n}`);
if (report.failures.length > 0) {
  for (const f of report.failures) console.error(`FAIL ${f}`);
  process.exit(1);
}
