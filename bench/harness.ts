// Shared pieces of the benchmarks: a scratch directory on the real disk (not tmpfs, so fsync
// costs what it costs on a device), a timed loop, and a table printer.

import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";

const scratchRoot = path.resolve(import.meta.dir, "..", ".bench-tmp");

export function scratchDir(name: string): { dir: string; [Symbol.dispose](): void } {
  mkdirSync(scratchRoot, { recursive: true });
  const dir = mkdtempSync(path.join(scratchRoot, `${name}-`));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `step` (which does `unitsPerStep` units) until `seconds` pass; returns units per second. */
export async function rate(seconds: number, step: () => unknown | Promise<unknown>, unitsPerStep: number): Promise<number> {
  // A full collection first, so that a case does not pay for the garbage the case before it left.
  Bun.gc(true);
  // Warm up: the first steps pay for statement preparation and JIT.
  for (let i = 0; i < 3; i++) await step();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let units = 0;
  while (performance.now() < deadline) {
    await step();
    units += unitsPerStep;
  }
  return units / ((performance.now() - start) / 1000);
}

/**
 * Runs `appenders` concurrent loops of `step(index)` for `seconds`; returns how many steps
 * finished and over how long. The loops stop together and are awaited before it returns.
 */
export async function concurrently(seconds: number, appenders: number, step: (index: number) => Promise<unknown>): Promise<{ count: number; elapsedS: number; startMs: number }> {
  let count = 0;
  let stop = false;
  const loop = async (index: number) => {
    while (!stop) {
      await step(index);
      count++;
    }
  };
  const startMs = performance.now();
  const loops = Array.from({ length: appenders }, (_, i) => loop(i));
  await Bun.sleep(seconds * 1000);
  stop = true;
  await Promise.all(loops);
  return { count, elapsedS: (performance.now() - startMs) / 1000, startMs };
}

export interface Row {
  case: string;
  value: number;
  unit: string;
  baseline?: number;
  target?: number;
}

export function printTable(title: string, rows: readonly Row[]): void {
  const header = ["case", "value", "unit", "raw baseline", "ratio", "target", ""];
  const lines = rows.map((r) => {
    const ratio = r.baseline === undefined ? undefined : r.value / r.baseline;
    const verdict = ratio === undefined || r.target === undefined ? "" : ratio >= r.target ? "ok" : "BELOW";
    return [r.case, fmt(r.value), r.unit, r.baseline === undefined ? "" : fmt(r.baseline), ratio === undefined ? "" : ratio.toFixed(2), r.target === undefined ? "" : `>= ${r.target}`, verdict];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const render = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  console.log(`\n${title}\n`);
  console.log(render(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const line of lines) console.log(render(line));
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2);
}

export function parseSeconds(fallback: number): number {
  const index = process.argv.indexOf("--seconds");
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
