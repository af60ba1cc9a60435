// Runs the simulator over a fixed set of seeds (both fault profiles) and fails with the seed,
// the failing checker and a short trace. `npm run sim -- --seed N` replays any of them.

import { expect, test } from "bun:test";
import { formatFailure, runSeed, type SimResult } from "./simulator.ts";

// Each test runs one chunk of seeds so that no single test nears `npm test`'s per-test timeout.
const chunkSeeds = 500;
const defaultChunks = 6; // seeds 1..3000
const adversarialChunks = 3; // seeds 100001..101500

function runAll(from: number, count: number, profile: "default" | "adversarial"): SimResult[] {
  const failures: SimResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const result = runSeed(seed, { profile });
    if (!result.ok) failures.push(result);
  }
  return failures;
}

const chunks: Array<{ from: number; profile: "default" | "adversarial" }> = [];
for (let i = 0; i < defaultChunks; i++) chunks.push({ from: 1 + i * chunkSeeds, profile: "default" });
for (let i = 0; i < adversarialChunks; i++) chunks.push({ from: 100_001 + i * chunkSeeds, profile: "adversarial" });

for (const { from, profile } of chunks) {
  test(`simulator: seeds ${from}..${from + chunkSeeds - 1} (${profile} profile) hold every safety and liveness check`, () => {
    const failures = runAll(from, chunkSeeds, profile);
    if (failures.length > 0) console.error(failures.map(formatFailure).join("\n\n"));
    expect(failures.map((f) => `seed ${f.seed}: ${f.failure}`)).toEqual([]);
  });
}

test("simulator: 20 long runs (5000-tick safety phase, adversarial) hold every check", () => {
  const failures: SimResult[] = [];
  for (let seed = 900_001; seed <= 900_020; seed++) {
    const result = runSeed(seed, { profile: "adversarial", safetyTicks: 5000 });
    if (!result.ok) failures.push(result);
  }
  if (failures.length > 0) console.error(failures.map(formatFailure).join("\n\n"));
  expect(failures.map((f) => `seed ${f.seed}: ${f.failure}`)).toEqual([]);
});

test("simulator: one seed replays bit for bit", () => {
  const a = runSeed(42, { traceLength: 1000 });
  const b = runSeed(42, { traceLength: 1000 });
  expect(a.stats).toEqual(b.stats);
  expect(a.trace).toEqual(b.trace);
  // The run did real work: elections, acknowledged writes and reads.
  expect(a.stats.leaders).toBeGreaterThan(0);
  expect(a.stats.writesAcked + a.stats.readsAcked).toBeGreaterThan(0);
});

test("simulator: the seeds exercise what the issue lists (crashes, snapshots, membership, reads, transfers)", () => {
  let crashes = 0;
  let snapshots = 0;
  let chunks = 0;
  let confChanges = 0;
  let reads = 0;
  let transfers = 0;
  let leaders = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const r = runSeed(seed);
    crashes += r.stats.crashes;
    snapshots += r.stats.snapshotsSent;
    chunks += r.stats.snapshotChunks;
    confChanges += r.stats.confChanges;
    reads += r.stats.readsAcked;
    transfers += r.stats.transfers;
    leaders += r.stats.leaders;
  }
  expect(crashes).toBeGreaterThan(0);
  expect(snapshots).toBeGreaterThan(0);
  expect(chunks).toBeGreaterThan(snapshots); // some snapshots travel in several chunks
  expect(confChanges).toBeGreaterThan(0);
  expect(reads).toBeGreaterThan(0);
  expect(transfers).toBeGreaterThan(0);
  expect(leaders).toBeGreaterThan(60);
});
