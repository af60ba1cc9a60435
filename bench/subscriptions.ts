// Subscriptions under load: 16 concurrent appenders (one event each, group commit) write while
// 1, 10 or 100 live catch-up subscribers (handlers) count what they get, in phases that alternate
// with phases of appenders alone on the same store. Reports events per second delivered (all
// subscribers together), end-to-end latency from the append's acknowledgement to the handler
// (p50 / p99), and the writer's throughput with subscribers against alone (target for 100: at
// least 0.8, i.e. 100 subscribers cost the writer at most 20%). Then a persistent subscription
// with one acknowledging consumer.
//
//   npx bun bench/subscriptions.ts --seconds 2 [--normal]

import { openStore, type Store } from "../src/index.ts";
import { concurrently, parseSeconds, printTable, scratchDir, type Row } from "./harness.ts";

const payload = { orderId: "order-000000", customer: "c-42", lines: [{ sku: "sku-1", quantity: 2, price: 1999 }], note: "x".repeat(60) };
const appenders = 16;

interface Run {
  appendedPerSecond: number;
  deliveredPerSecond: number;
  latenciesMs: number[];
}

async function appendWhile(store: Store, seconds: number, ackTimes: Float64Array): Promise<{ appended: number; elapsedS: number; startMs: number }> {
  const event = [{ type: "OrderPlaced", data: payload }];
  const run = await concurrently(seconds, appenders, async (index) => {
    const result = await store.append(`order-${index}`, "any", event);
    if (result.position < ackTimes.length) ackTimes[result.position] = performance.now();
  });
  return { appended: run.count, elapsedS: run.elapsedS, startMs: run.startMs };
}

/**
 * One store; phases alternate: appenders alone, then appenders with `subscribers` live
 * subscribers (created at the phase's start, from the end). A phase with subscribers lasts until
 * they have all caught up, so the delivery work counts in its time. Alternating short phases on
 * one store keeps a noisy disk from favouring one side.
 */
async function alternatingRun(seconds: number, subscribers: number, durability: "full" | "normal"): Promise<{ without: number; with: Run; medianRatio: number; cpuUsAlone: number; cpuUsWith: number }> {
  using scratch = scratchDir("subs");
  const store = openStore({ dataDir: scratch.dir, durability });
  const ackTimes = new Float64Array(4_000_000);
  const latenciesMs: number[] = [];
  for (let i = 0; i < 200; i++) await store.append("warm-up", "any", [{ type: "Warm", data: payload }]);
  const sliceS = 0.2;
  const pairs = Math.max(4, Math.round(seconds / (2 * sliceS)));
  const ratios: number[] = [];
  let cpuAlone = 0;
  let cpuWith = 0;
  const cpuMicros = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return used.user + used.system;
  };
  let aloneAppended = 0;
  let aloneS = 0;
  let withAppended = 0;
  let withS = 0;
  let delivered = 0;
  for (let pair = 0; pair < pairs; pair++) {
    let cpu = process.cpuUsage();
    const alone = await appendWhile(store, sliceS, ackTimes);
    cpuAlone += cpuMicros(cpu);
    cpu = process.cpuUsage();
    aloneAppended += alone.appended;
    aloneS += alone.elapsedS;
    const from = store.headPosition;
    let deliveredHere = 0;
    const subscriptions = Array.from({ length: subscribers }, (_, i) =>
      store.subscriptions.subscribeToAll({
        from: "end",
        handler: (event) => {
          deliveredHere++;
          // Latency at one subscriber of every ten, so recording it costs little.
          if (i % 10 === 0) {
            const acked = ackTimes[event.position] ?? 0;
            if (acked > 0) latenciesMs.push(performance.now() - acked);
          }
        },
      }),
    );
    const run = await appendWhile(store, sliceS, ackTimes);
    const expected = (store.headPosition - from) * subscribers;
    const deadline = performance.now() + 30_000;
    while (deliveredHere < expected && performance.now() < deadline) await Bun.sleep(0);
    cpuWith += cpuMicros(cpu);
    const phaseS = (performance.now() - run.startMs) / 1000;
    ratios.push(run.appended / phaseS / (alone.appended / alone.elapsedS));
    withAppended += run.appended;
    withS += phaseS;
    delivered += deliveredHere;
    for (const subscription of subscriptions) subscription.close();
  }
  await store.close();
  return {
    without: aloneAppended / aloneS,
    with: { appendedPerSecond: withAppended / withS, deliveredPerSecond: delivered / withS, latenciesMs },
    medianRatio: percentile(ratios, 50),
    cpuUsAlone: cpuAlone / aloneAppended,
    cpuUsWith: cpuWith / withAppended,
  };
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
  // A throwaway run first: the JIT warms the write and delivery paths before anything counts.
  await alternatingRun(0.8, 10, durability);
  for (const subscribers of [1, 10, 100]) {
    const run = await alternatingRun(seconds, subscribers, durability);
    rows.push({ case: `delivered to ${subscribers} live subscriber(s), all together`, value: run.with.deliveredPerSecond, unit: "events/s" });
    rows.push({ case: `  append-ack -> handler p50, ${subscribers} subscriber(s)`, value: percentile(run.with.latenciesMs, 50), unit: "ms" });
    rows.push({ case: `  append-ack -> handler p99, ${subscribers} subscriber(s)`, value: percentile(run.with.latenciesMs, 99), unit: "ms" });
    rows.push({ case: "  append alone (alternating phases, same store)", value: run.without, unit: "events/s" });
    rows.push({ case: `  append with ${subscribers} live subscriber(s) vs alone`, value: run.with.appendedPerSecond, unit: "events/s", baseline: run.without });
    // CPU is what subscribers take from the writer's thread, and it is less noisy than the disk.
    rows.push({ case: `  CPU per appended event, ${subscribers} subscriber(s) vs alone`, value: run.cpuUsWith, unit: "µs", baseline: run.cpuUsAlone });
    // The median of each pair's ratio: a burst of disk noise in one phase moves it least.
    rows.push({ case: `  writer throughput ratio, ${subscribers} subscriber(s) (median of pairs)`, value: run.medianRatio, unit: "ratio", baseline: 1, ...(subscribers === 100 ? { target: 0.8 } : {}) });
  }
  const persistent = await persistentRun(seconds, durability);
  rows.push({ case: "persistent subscription, 1 consumer acking", value: persistent.deliveredPerSecond, unit: "events/s" });
  rows.push({ case: "  append-ack -> handler p50, persistent", value: percentile(persistent.latenciesMs, 50), unit: "ms" });
  rows.push({ case: "  append-ack -> handler p99, persistent", value: percentile(persistent.latenciesMs, 99), unit: "ms" });
  rows.push({ case: "  append with 1 persistent consumer", value: persistent.appendedPerSecond, unit: "events/s" });
  return rows;
}

if (import.meta.main) {
  const seconds = parseSeconds(2);
  const durability = process.argv.includes("--normal") ? "normal" : "full";
  const rows = await runSubscriptionsBench(seconds, durability);
  printTable(`subscriptions while appending (synchronous=${durability.toUpperCase()}, ${seconds} s per case, ${appenders} appenders)`, rows);
}
