// 100,000 random and mutated frames into the decoder: none crashes it, none hangs it, every
// rejection names a known reason, and no mutated frame is accepted. The seed is printed on failure.

import { expect, test } from "bun:test";
import { fuzzFrames } from "../../fuzz/frames.ts";

test("100,000 fuzzed frames are each accepted validly or rejected with a reason", () => {
  const seed = Date.now() % 2 ** 32;
  const report = fuzzFrames(seed, 100_000);
  if (report.failures.length > 0) console.error(`fuzz seed ${seed}:\n${report.failures.join("\n")}`);
  expect(report.failures).toEqual([]);
  expect(report.cases).toBe(100_000);
  for (const reason of ["truncated", "stale", "replayed", "bad_magic", "oversized", "bad_tag", "malformed_body", "invalid_body", "unknown_type", "unsupported_version", "length_mismatch"]) {
    expect(report.reasons[reason as keyof typeof report.reasons] ?? 0).toBeGreaterThan(0);
  }
});
