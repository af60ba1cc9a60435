// `npm run bench:raft`: committed entries per second of the Raft core alone (src/raft, in
// memory, no I/O, messages handed over directly) for 3 and 5 voters, one by one and batched
// (proposeBatch, as the store's group commit will call it). The core must never be what limits
// the store, so each row stands beside the store's single-node append rate measured in the same
// run (synchronous=FULL): one append at a time for the one-by-one rows, 256 concurrent
// appenders (group commit) for the batched rows, with a target of 10x. `--no-store` skips it.

import { Prng } from "../src/lib/index.ts";
import { MemoryStorage, RawNode, type Message } from "../src/raft/index.ts";
import { openStore } from "../src/index.ts";
import { concurrently, parseSeconds, printTable, rate, scratchDir, type Row } from "./harness.ts";

const entryBytes = 100;
const batchEntries = 256;

class MemoryCluster {
  readonly nodes = new Map<string, RawNode>();
  private readonly storages = new Map<string, MemoryStorage>();
  private queue: Message[] = [];
  readonly leader: RawNode;
  compactEvery = 10_000;

  constructor(voters: number) {
    const ids = Array.from({ length: voters }, (_, i) => `n${i + 1}`);
    for (const id of ids) {
      const storage = MemoryStorage.bootstrap({ voters: ids, learners: [] });
      this.storages.set(id, storage);
      this.nodes.set(id, new RawNode({ id, storage, prng: new Prng(id.length * 7919 + Number(id.slice(1))) }));
    }
    this.leader = this.nodes.get("n1") as RawNode;
    this.leader.campaign();
    this.pump();
  }

  /** Handles every Ready and delivers every message until the cluster is quiet. */
  pump(): void {
    for (;;) {
      let busy = false;
      for (const [id, n] of this.nodes) {
        while (n.hasReady()) {
          busy = true;
          const rd = n.ready();
          const s = this.storages.get(id) as MemoryStorage;
          if (rd.snapshot !== null) s.applySnapshot(rd.snapshot);
          s.append(rd.entries);
          if (rd.hardState !== null) s.setHardState(rd.hardState);
          for (const m of rd.messages) this.queue.push(m);
          n.advance();
          // Keep memory flat over a long run, as a node would by snapshotting.
          const applied = n.appliedIndex();
          if (applied - s.snapshot().metadata.index >= this.compactEvery) {
            s.createSnapshot(applied, n.appliedConfState(), new Uint8Array(0));
            s.compact(applied - 100);
          }
        }
      }
      const due = this.queue;
      this.queue = [];
      for (const m of due) {
        busy = true;
        (this.nodes.get(m.to) as RawNode).step(m);
      }
      if (!busy) return;
    }
  }
}

/** The store's single-node appends per second: one at a time, or from many concurrent appenders. */
async function storeAppendRate(seconds: number, appenders: number): Promise<number> {
  using scratch = scratchDir("raft-bench-store");
  const store = openStore({ dataDir: scratch.dir, durability: "full", openTelemetry: false });
  const event = [{ type: "OrderPlaced", data: { total: 42, sku: "abc-123" } }];
  const run = await concurrently(seconds, appenders, (index) => store.append(`order-${index}`, "any", event));
  await store.close();
  return run.count / run.elapsedS;
}

async function main(): Promise<void> {
  const seconds = parseSeconds(2);
  const withStore = !process.argv.includes("--no-store");
  const storeOneByOne = withStore ? await storeAppendRate(seconds, 1) : undefined;
  const storeGrouped = withStore ? await storeAppendRate(seconds, batchEntries) : undefined;
  const data = new Uint8Array(entryBytes).fill(7);
  const batch = Array.from({ length: batchEntries }, () => data);
  const rows: Row[] = [];
  for (const voters of [3, 5]) {
    for (const batched of [false, true]) {
      const cluster = new MemoryCluster(voters);
      const perStep = batched ? batchEntries : 1;
      const committedBefore = cluster.leader.hardState().commit;
      let proposed = 0;
      const value = await rate(
        seconds,
        () => {
          if (batched) cluster.leader.proposeBatch(batch);
          else cluster.leader.propose(data);
          proposed += perStep;
          cluster.pump();
        },
        perStep,
      );
      // Every proposal was committed and applied by the leader before the next step began.
      const committed = cluster.leader.hardState().commit - committedBefore;
      if (committed < proposed) throw new Error(`bench: ${proposed} proposed but ${committed} committed`);
      rows.push({
        case: `${voters} voters, ${batched ? `batches of ${batchEntries}` : "one by one"} (${entryBytes} B entries)`,
        value,
        unit: "committed entries/s",
        ...baseline(batched ? storeGrouped : storeOneByOne),
      });
    }
  }
  printTable(
    `Raft core in memory (no I/O), ${seconds} s per case` +
      (withStore
        ? `; baseline: the store's single-node appends/s (synchronous=FULL), one at a time for one-by-one rows, ${batchEntries} concurrent appenders for batched rows`
        : ""),
    rows,
  );
}

function baseline(storeRate: number | undefined): Pick<Row, "baseline" | "target"> {
  return storeRate === undefined ? {} : { baseline: storeRate, target: 10 };
}

await main();
