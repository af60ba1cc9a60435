// The compiled daemon as a device meets it: idle memory (RSS) of `edge-esdb serve` beside a
// compiled hello-world Bun binary (target: at most 15 MiB more), the binary's size beside the bare
// Bun runtime, and the time from exec to the ready line with a store of a million events (target:
// under 150 ms; the file is in the page cache, as on a device that restarts the service). Builds
// the linux binary for this machine when dist/ is stale. Run alone: bun bench/binary.ts
// [--events N] [--runs N]

import { chmodSync, copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { compileTarget, isStale } from "../build/compile.ts";
import { binaryPath, loadTargets } from "../build/targets.ts";
import { openStore } from "../src/index.ts";
import { printTable, scratchDir, type Row } from "./harness.ts";

const mib = 1024 * 1024;
const idleSettleMs = 1_500;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

/**
 * Resident bytes of a process: in all, in mappings of its own executable (Bun's code and the
 * embedded bundle: file pages the kernel can drop and read again under memory pressure), and
 * anonymous (heaps: what memory pressure cannot take back without swap). Private_Dirty would
 * mislead here: a freshly written binary's pages count as dirty until the page cache writes back.
 */
function rss(pid: number, executable: string): { total: number; executable: number; anonymous: number } {
  const smaps = readFileSync(`/proc/${pid}/smaps`, "utf8");
  let total = 0;
  let inExecutable = 0;
  let anonymous = 0;
  let current = "";
  for (const line of smaps.split("\n")) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping !== null) {
      current = mapping[1] ?? "";
      continue;
    }
    const anon = /^Anonymous:\s+(\d+) kB$/.exec(line);
    if (anon !== null) anonymous += Number(anon[1]) * 1024;
    const resident = /^Rss:\s+(\d+) kB$/.exec(line);
    if (resident === null) continue;
    const bytes = Number(resident[1]) * 1024;
    total += bytes;
    if (current === executable) inExecutable += bytes;
  }
  return { total, executable: inExecutable, anonymous };
}

/** Starts `command`, waits for a stdout line matching `ready`; returns the ms it took and the child. */
async function startUntilReady(command: string[], ready: RegExp): Promise<{ ms: number; child: ReturnType<typeof Bun.spawn<"ignore", "pipe", "inherit">> }> {
  const started = performance.now();
  const child = Bun.spawn(command, { stdin: "ignore", stdout: "pipe", stderr: "inherit", env: { PATH: process.env.PATH ?? "", EDGE_ESDB_CONFIG: "" } });
  const reader = child.stdout.getReader();
  let text = "";
  while (!ready.test(text)) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`${command[0]} exited before it was ready: ${text}`);
    text += new TextDecoder().decode(chunk.value);
  }
  const ms = performance.now() - started;
  reader.releaseLock();
  return { ms, child };
}

async function compileProgram(dir: string, name: string, source: string, bunTarget: Bun.Build.CompileTarget): Promise<string> {
  const entry = path.join(dir, `${name}.ts`);
  writeFileSync(entry, source);
  const outfile = path.join(dir, name);
  const built = await Bun.build({ entrypoints: [entry], compile: { target: bunTarget, outfile, autoloadDotenv: false, autoloadBunfig: false }, bytecode: true, format: "esm", minify: true });
  if (!built.success) throw new Error(`${name} build failed: ${built.logs.join("\n")}`);
  return outfile;
}

async function stop(child: { kill(signal?: number | NodeJS.Signals): void; exited: Promise<number | null> }): Promise<void> {
  child.kill("SIGTERM");
  await child.exited;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function fillStore(dataDir: string, events: number): Promise<number> {
  const started = performance.now();
  const store = openStore({ dataDir, durability: "normal" });
  const perAppend = 500;
  const payload = { reading: 21.5, unit: "C", sensor: "greenhouse-1", note: "x".repeat(120) };
  let written = 0;
  while (written < events) {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 16 && written < events; i++) {
      const count = Math.min(perAppend, events - written);
      pending.push(store.append(`sensor-${written % 1000}`, "any", Array.from({ length: count }, () => ({ type: "Measured", data: payload }))));
      written += count;
    }
    await Promise.all(pending);
  }
  await store.close();
  return (performance.now() - started) / 1000;
}

export async function runBinaryBench(options: { events?: number; runs?: number } = {}): Promise<Row[]> {
  const events = options.events ?? 1_000_000;
  const runs = options.runs ?? 7;
  const target = (await loadTargets()).find((t) => t.arch === process.arch);
  if (target === undefined || process.platform !== "linux") throw new Error(`no target for ${process.platform}-${process.arch}`);
  if (isStale(target)) await compileTarget(target);
  using scratch = scratchDir("binary");
  // Both binaries run from fresh copies in the same directory, written back to disk: how much of
  // an executable is resident depends on the state of its file's pages in the page cache.
  const daemon = path.join(scratch.dir, path.basename(binaryPath(target)));
  copyFileSync(binaryPath(target), daemon);
  chmodSync(daemon, 0o755);

  // The baseline: the smallest Bun program that stays up, compiled the same way. And the floor
  // for any daemon like ours: bun:sqlite with a WAL file open and Bun.serve on a unix socket.
  const hello = await compileProgram(scratch.dir, "hello", 'console.log("ready");\nsetInterval(() => {}, 1 << 30);\n', target.bunTarget);
  const floor = await compileProgram(
    scratch.dir,
    "floor",
    `import { Database } from "bun:sqlite";
const db = new Database(process.argv[2] + "/floor.db", { create: true });
db.run("PRAGMA journal_mode = WAL"); db.run("CREATE TABLE IF NOT EXISTS t (x)"); db.run("INSERT INTO t VALUES (1)");
Bun.serve({ unix: process.argv[2] + "/floor.sock", fetch: () => new Response("ok") });
console.log("ready");
setInterval(() => {}, 1 << 30);
`,
    target.bunTarget,
  );
  Bun.spawnSync(["sync"]);

  // Idle RSS: a small store, the daemon up with its gateway on a unix socket, then left alone.
  const smallDir = path.join(scratch.dir, "small");
  await fillStore(smallDir, 1_000);
  const socket = path.join(scratch.dir, "s.sock");
  const serveArgs = (dataDir: string) => [daemon, "serve", "--data-dir", dataDir, "--socket", socket];
  const floorUp = await startUntilReady([floor, scratch.dir], /ready/);
  await Bun.sleep(idleSettleMs);
  const floorMemory = rss(floorUp.child.pid, floor);
  await stop(floorUp.child);
  const helloUp = await startUntilReady([hello], /ready/);
  const daemonUp = await startUntilReady(serveArgs(smallDir), /ready: /);
  await Bun.sleep(idleSettleMs);
  const helloMemory = rss(helloUp.child.pid, hello);
  const daemonMemory = rss(daemonUp.child.pid, daemon);
  const helloRss = helloMemory.total;
  const daemonRss = daemonMemory.total;
  await stop(helloUp.child);
  await stop(daemonUp.child);

  // Cold start with a big store: exec to the ready line (store open, socket listening).
  const bigDir = path.join(scratch.dir, "big");
  const fillSeconds = await fillStore(bigDir, events);
  const storeBytes = statSync(path.join(bigDir, "store.db")).size;
  const starts: number[] = [];
  const helloStarts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const up = await startUntilReady(serveArgs(bigDir), /ready: /);
    starts.push(up.ms);
    await stop(up.child);
    const h = await startUntilReady([hello], /ready/);
    helloStarts.push(h.ms);
    await stop(h.child);
  }

  const bareRuntime = path.join(path.dirname(require.resolve("bun/package.json")), "bin", "bun.exe");
  const rows: Row[] = [
    { case: "idle RSS: daemon (serve, gateway on unix socket)", value: daemonRss / mib, unit: "MiB", baseline: helloRss / mib },
    { case: "idle RSS: daemon minus hello-world (target <= 15)", value: (daemonRss - helloRss) / mib, unit: "MiB" },
    { case: "idle RSS: bun:sqlite + Bun.serve alone, minus hello-world", value: (floorMemory.total - helloRss) / mib, unit: "MiB" },
    { case: "  of it: pages of the executable (Bun's code, bundle)", value: daemonMemory.executable / mib, unit: "MiB", baseline: helloMemory.executable / mib },
    { case: "  of it: everything else (heaps, SQLite, libc)", value: (daemonRss - daemonMemory.executable) / mib, unit: "MiB", baseline: (helloRss - helloMemory.executable) / mib },
    { case: "idle anonymous memory (heaps): daemon", value: daemonMemory.anonymous / mib, unit: "MiB", baseline: helloMemory.anonymous / mib },
    { case: `binary size: ${path.basename(daemon)}`, value: statSync(daemon).size / mib, unit: "MiB", baseline: statSync(bareRuntime).size / mib },
    { case: `start to ready, ${events.toLocaleString("en-US")} events (${(storeBytes / mib).toFixed(0)} MiB), median of ${runs}`, value: median(starts), unit: "ms", baseline: median(helloStarts) },
    { case: "start to ready, fastest (target < 150)", value: Math.min(...starts), unit: "ms" },
  ];
  for (const other of await loadTargets()) {
    if (other.name === target.name) continue;
    try {
      rows.push({ case: `binary size: ${path.basename(binaryPath(other))}`, value: statSync(binaryPath(other)).size / mib, unit: "MiB" });
    } catch {
      // Not built: npm run build makes it.
    }
  }
  console.log(`(store of ${events} events filled in ${fillSeconds.toFixed(1)} s; baselines: hello-world RSS and start, bare Bun runtime size)`);
  const rssOk = (daemonRss - helloRss) / mib <= 15;
  const startOk = median(starts) < 150;
  console.log(`idle RSS over hello-world ${((daemonRss - helloRss) / mib).toFixed(1)} MiB (target <= 15): ${rssOk ? "ok" : "OVER"}; start to ready median ${median(starts).toFixed(0)} ms (target < 150): ${startOk ? "ok" : "OVER"}`);
  return rows;
}

if (import.meta.main) {
  printTable("compiled binary: memory, size, start (linux, this machine's arch)", await runBinaryBench({ events: argument("--events", 1_000_000), runs: argument("--runs", 7) }));
}
