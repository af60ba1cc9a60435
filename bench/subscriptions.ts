// Subscriptions under load: 16 concurrent appenders (one event each, group commit) write for N
// seconds while 0, 1, 10 or 100 live catch-up subscribers count what they get. Reports events
// per second delivered (all subscribers together), end-to-end latency from the append's
// acknowledgement to the handler (p50 / p99), and the writer's throughput with 100 live
// subscribers against none (target: at least 0.8, i.e. 100 subscribers cost at most 20%).
// A persistent subscription with one acknowledging consumer is measured the same way.
//
//   npx bun bench/subscriptions.ts --seconds 2 [--normal]

import { openStore, type Store } from "../src/index.ts";
import { parseSeconds, printTable, scratchDir, type Row } from "./harness.ts";

const payload = { orderId: "order-000000", customer: "c-42", lines: [{ sku: "sku-1", quantity: 2, price: 1999 }], note: "x".repeat(60) };
const appenders = 16;

interface Run {
  appendedPerSecond: number;
  deliveredPerSecond: number;
  latenciesMs: number[];
}

async function appendWhile(store: Store, seconds: number, ackTimes: Float64Array): Promise<{ appended: number; elapsedS: number; startMs: number }> {
  let appended = 0;
  let stop = false;
  const event = [{ type: "OrderPlaced", data: payload }];
  const worker = async (index: number) => {
    while (!stop) {
      const result = await store.append(`order-${index}`, "any", event);
      if (result.position < ackTimes.length) ackTimes[result.position] = performance.now();
      appended++;
    }
  };
  const start = performance.now();
  const workers = Array.from({ length: appenders }, (_, i) => worker(i));
  await Bun.sleep(seconds * 1000);
  stop = true;
  await Promise.all(workers);
  return { appended, elapsedS: (performance.now() - start) / 1000, startMs: start };
}

async function catchUpRun(seconds: number, subscribers: number, durability: "full" | "normal"): Promise<Run> {
  using scratch = scratchDir("subs");
  const store = openStore({ dataDir: scratch.dir, durability });
  const ackTimes = new Float64Array(4_000_000);
  const latenciesMs: number[] = [];
  let delivered = 0;
  // Warm up the write path before subscribers join, so every run starts alike.
  for (let i = 0; i < 200; i++) await store.append("warm-up", "any", [{ type: "Warm", data: payload }]);
  const from = store.headPosition;
  const subscriptions = Array.from({ length: subscribers }, (_, i) =>
    store.subscriptions.subscribeToAll({
      from: "end",
      handler: (event) => {
        delivered++;
        // Sample latency at one subscriber of every ten, so recording it costs little.
        if (i % 10 === 0) {
          const acked = ackTimes[event.position] ?? 0;
          if (acked > 0) latenciesMs.push(performance.now() - acked);
        }
      },
    }),
  );
  const { appended, elapsedS, startMs } = await appendWhile(store, seconds, ackTimes);
  // Let delivery finish what was appended; the rate counts the time until the last delivery.
  const expected = (store.headPosition - from) * subscribers;
  const deadline = performance.now() + 30_000;
  while (delivered < expected && performance.now() < deadline) await Bun.sleep(1);
  const deliveredS = (performance.now() - startMs) / 1000;
  for (const s of subscriptions) s.close();
  await store.close();
  return { appendedPerSecond: appended / elapsedS, deliveredPerSecond: delivered / deliveredS, latenciesMs };
}

async function persistentRun(seconds: number, durability: "full" | "normal"): Promise<Run> {
  using scratch = scratchDir("subs");
  const store = openStore({ dataDir: scratch.dir, durability });
  const ackTimes = new Float64Array(4_000_000);
  const latenciesMs: number[] = [];
  let delivered = 0;
  await store.subscriptions.create("bench", { selector: { pattern: "order-*" }, from: "end", settings: { inFlightMax: 1000 } });
  store.subscriptions.connect("bench", {
    handler: (d) => {
      delivered++;
      const acked = ackTimes[d.event.position] ?? 0;
      if (acked > 0) latenciesMs.push(performance.now() - acked);
    },
  });
  const { appended, elapsedS, startMs } = await appendWhile(store, seconds, ackTimes);
  const deadline = performance.now() + 30_000;
  while (delivered < appended && performance.now() < deadline) await Bun.sleep(1);
  const deliveredS = (performance.now() - startMs) / 1000;
  await store.close();
  return { appendedPerSecond: appended / elapsedS, deliveredPerSecond: delivered / deliveredS, latenciesMs };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export async function runSubscriptionsBench(seconds: number, durability: "full" | "normal"): Promise<Row[]> {
  const rows: Row[] = [];
  // The disk is noisy (other work, fsync jitter): the with/without comparison alternates three
  // runs of each and keeps each side's best.
  const without: Run[] = [];
  const with100: Run[] = [];
  for (let i = 0; i < 3; i++) {
    without.push(await catchUpRun(seconds, 0, durability));
    with100.push(await catchUpRun(seconds, 100, durability));
  }
  const best = (runs: Run[]) => runs.reduce((a, b) => (b.appendedPerSecond > a.appendedPerSecond ? b : a));
  const none = best(without);
  rows.push({ case: "append, no subscribers (16 appenders, 1 event each; best of 3)", value: none.appendedPerSecond, unit: "events/s" });
  for (const subscribers of [1, 10, 100]) {
    const run = subscribers === 100 ? best(with100) : await catchUpRun(seconds, subscribers, durability);
    rows.push({ case: `delivered to ${subscribers} live subscriber(s), all together`, value: run.deliveredPerSecond, unit: "events/s" });
    rows.push({ case: `  append-ack -> handler p50, ${subscribers} subscriber(s)`, value: percentile(run.latenciesMs, 50), unit: "ms" });
    rows.push({ case: `  append-ack -> handler p99, ${subscribers} subscriber(s)`, value: percentile(run.latenciesMs, 99), unit: "ms" });
    const label = subscribers === 100 ? "  append with 100 live subscribers (best of 3) vs none" : `  append with ${subscribers} live subscriber(s) vs none`;
    rows.push({ case: label, value: run.appendedPerSecond, unit: "events/s", baseline: none.appendedPerSecond, ...(subscribers === 100 ? { target: 0.8 } : {}) });
  }
  const persistent = await persistentRun(seconds, durability);
  rows.push({ case: "persistent subscription, 1 consumer acking", value: persistent.deliveredPerSecond, unit: "events/s" });
  rows.push({ case: "  append-ack -> handler p50, persistent", value: percentile(persistent.latenciesMs, 50), unit: "ms" });
  rows.push({ case: "  append-ack -> handler p99, persistent", value: percentile(persistent.latenciesMs, 99), unit: "ms" });
  rows.push({ case: "  append with 1 persistent consumer vs none", value: persistent.appendedPerSecond, unit: "events/s", baseline: none.appendedPerSecond });
  return rows;
}

if (import.meta.main) {
  const seconds = parseSeconds(2);
  const durability = process.argv.includes("--normal") ? "normal" : "full";
  const rows = await runSubscriptionsBench(seconds, durability);
  printTable(`subscriptions while appending (synchronous=${durability.toUpperCase()}, ${seconds} s per case, ${appenders} appenders)`, rows);
}
