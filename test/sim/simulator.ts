// The deterministic simulator (in the manner of TigerBeetle's VOPR): one seed chooses the
// cluster, the timeouts, the client workload and every fault, and runs the real src/raft code
// through a safety phase under faults and a liveness phase after healing. Checkers run as it
// goes; the first violation stops the run and is reported with the seed and a short trace.

import { AssertionError, Prng } from "../../src/lib/index.ts";
import {
  MemoryStorage,
  RawNode,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type TestingBugs,
} from "../../src/raft/index.ts";
import { checkRegister, type RegisterOp } from "./linearizability.ts";
import { Network } from "./network.ts";
import { decodeWrite, encodeWrite, Registers } from "./register.ts";

export interface SimOptions {
  readonly testingBugs?: TestingBugs;
  /** "adversarial" pins the fault knobs at their harshest (leaders cut off or crashed right
   * after election and commit, one entry per append); the seed still chooses everything else. */
  readonly profile?: "default" | "adversarial";
  /** Overrides the seed's safety-phase length (long runs for deep searches). */
  readonly safetyTicks?: number;
  /** Keep a trace of the last events for the failure report. */
  readonly traceLength?: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  /** Which checker failed, and why. */
  readonly failure: string | null;
  readonly trace: string[];
  readonly stats: SimStats;
  /** The command that replays this run exactly. */
  readonly replay: string;
}

export interface SimStats {
  ticks: number;
  nodes: number;
  writesAcked: number;
  readsAcked: number;
  leaders: number;
  crashes: number;
  snapshotsSent: number;
  snapshotChunks: number;
  confChanges: number;
  transfers: number;
  messages: number;
  linearizabilityGaveUp: number;
}

/** A failed check; carries its checker's name. */
class Violation extends Error {}

interface Scenario {
  voters: number;
  learners: number;
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  safetyTicks: number;
  livenessTicksMax: number;
  keyCount: number;
  clients: number;
  writeProbability: number;
  crashProbability: number;
  crashMidReadyProbability: number;
  downTicksMax: number;
  partitionProbability: number;
  confChangeProbability: number;
  snapshotEveryEntries: number;
  tickSkipProbability: number;
  dropProbability: number;
  duplicateProbability: number;
  delayTicksMax: number;
  clientTimeoutTicks: number;
  leaderCrashProbability: number;
  /** A leader dies right after it advanced its commit index: the moment Figure 8 is about. */
  crashAfterCommitProbability: number;
  /** A new leader is cut off right after its election, before its first entry spreads. */
  isolateNewLeaderProbability: number;
  /** A leader is cut off right after a commit: it may go on answering as a deposed leader. */
  isolateAfterCommitProbability: number;
  entriesPerMessageMax: number;
  preVote: boolean;
  checkQuorum: boolean;
  batchWrites: boolean;
  readRouting: "random" | "stalest";
  transferProbability: number;
  snapshotChunkBytes: number;
}

function chooseScenario(prng: Prng): Scenario {
  const voters = prng.pick([1, 3, 3, 3, 5, 5]);
  const electionTimeoutTicks = prng.int(6, 16);
  return {
    voters,
    learners: prng.chance(0.3) ? 1 : 0,
    electionTimeoutTicks,
    heartbeatIntervalTicks: prng.int(1, Math.max(1, Math.floor(electionTimeoutTicks / 4))),
    safetyTicks: prng.int(400, 900),
    livenessTicksMax: 80 * electionTimeoutTicks,
    keyCount: prng.int(1, 3),
    clients: prng.int(1, 4),
    writeProbability: prng.pick([0.3, 0.5, 0.8]),
    crashProbability: prng.pick([0, 0.002, 0.005, 0.01]),
    crashMidReadyProbability: prng.pick([0, 0.3]),
    downTicksMax: prng.int(5, 80),
    partitionProbability: prng.pick([0, 0.005, 0.02]),
    confChangeProbability: prng.pick([0, 0, 0.01, 0.03]),
    snapshotEveryEntries: prng.pick([5, 20, 100, 1_000_000]),
    tickSkipProbability: prng.pick([0, 0.05]),
    dropProbability: prng.pick([0, 0.02, 0.1, 0.2]),
    duplicateProbability: prng.pick([0, 0.02, 0.1]),
    delayTicksMax: prng.pick([1, 2, 5, 10]),
    clientTimeoutTicks: 6 * electionTimeoutTicks,
    leaderCrashProbability: prng.pick([0, 0, 0.01, 0.03]),
    crashAfterCommitProbability: prng.pick([0, 0, 0.05, 0.2]),
    isolateNewLeaderProbability: prng.pick([0, 0, 0.2, 0.5]),
    isolateAfterCommitProbability: prng.pick([0, 0, 0.02, 0.1]),
    entriesPerMessageMax: prng.pick([1, 2, 256]),
    // Both default on in production; the simulator also runs the other three combinations,
    // which etcd supports and which stress elections and reads differently.
    preVote: prng.chance(0.8),
    checkQuorum: prng.chance(0.8),
    batchWrites: prng.chance(0.5),
    readRouting: prng.chance(0.5) ? "random" : "stalest",
    transferProbability: prng.pick([0, 0.005, 0.02]),
    // Small chunks make a snapshot of the registers travel in many pieces.
    snapshotChunkBytes: prng.pick([16, 128, 256 * 1024]),
  };
}

/** One node: its disk (storage + the last fsync'd hard state) survives crashes; the rest not. */
interface SimNode {
  readonly id: NodeId;
  readonly prng: Prng;
  readonly storage: MemoryStorage;
  syncedHardState: HardState;
  raw: RawNode | null;
  registers: Registers;
  downUntil: number;
  crashInNextReady: boolean;
  /** Reads waiting to be answered: context -> client op. */
  readsWaiting: Map<string, ClientOp>;
  readsAtIndex: Array<{ index: number; op: ClientOp }>;
  /** Highest index this node reported committed that the checker has recorded. */
  checkedCommit: number;
}

interface ClientOp {
  readonly client: number;
  readonly kind: "write" | "read";
  readonly key: number;
  readonly writeId: number;
  readonly call: number;
  readonly history: RegisterOp;
  startedAt: number;
  node: NodeId | null;
  done: boolean;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class Simulation {
  readonly seed: number;
  private readonly prng: Prng;
  private readonly scenario: Scenario;
  private readonly network: Network;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly bugs: TestingBugs | undefined;
  private readonly profile: "default" | "adversarial";
  private readonly safetyTicksOverride: number | undefined;
  private now = 0;
  private clock = 0;
  private nextNodeNumber = 1;
  private nextWriteId = 1;
  private nextReadId = 1;
  private readonly clients: Array<ClientOp | null> = [];
  private readonly histories: RegisterOp[][] = [];
  private readonly ackedWrites = new Set<number>();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** index -> "term:data" of every entry some node reported committed. */
  private readonly committed = new Map<number, string>();
  private committedMax = 0;
  /** index -> "term:data" of every entry some node applied. */
  private readonly applied = new Map<number, string>();
  private readonly traceRing: string[] = [];
  private readonly traceLength: number;
  private liveness = false;
  /** The liveness phase's write, which must commit once the cluster is healed. */
  private probe: ClientOp | null = null;
  private readonly lastCommit = new Map<NodeId, number>();
  private readonly removalsProposed = new Set<NodeId>();
  readonly stats: SimStats = {
    ticks: 0,
    nodes: 0,
    writesAcked: 0,
    readsAcked: 0,
    leaders: 0,
    crashes: 0,
    snapshotsSent: 0,
    snapshotChunks: 0,
    confChanges: 0,
    transfers: 0,
    messages: 0,
    linearizabilityGaveUp: 0,
  };

  constructor(seed: number, options: SimOptions = {}) {
    this.seed = seed;
    this.prng = new Prng(seed);
    this.scenario = chooseScenario(this.prng);
    if (options.profile === "adversarial") {
      Object.assign(this.scenario, {
        crashAfterCommitProbability: 0.2,
        isolateNewLeaderProbability: 0.5,
        entriesPerMessageMax: 1,
        partitionProbability: 0.02,
        leaderCrashProbability: 0.03,
      });
    }
    this.bugs = options.testingBugs;
    if (options.safetyTicks !== undefined) this.scenario.safetyTicks = options.safetyTicks;
    this.profile = options.profile ?? "default";
    this.safetyTicksOverride = options.safetyTicks;
    this.traceLength = options.traceLength ?? 40;
    const s = this.scenario;
    this.network = new Network(this.prng.fork(), {
      dropProbability: s.dropProbability,
      duplicateProbability: s.duplicateProbability,
      delayTicksMin: 1,
      delayTicksMax: s.delayTicksMax,
    });
    const voters: NodeId[] = [];
    const learners: NodeId[] = [];
    for (let i = 0; i < s.voters; i++) voters.push(this.newNodeId());
    for (let i = 0; i < s.learners; i++) learners.push(this.newNodeId());
    const conf: ConfState = { voters, learners };
    for (const id of [...voters, ...learners]) this.addNode(id, MemoryStorage.bootstrap(conf, new Registers(s.keyCount).encode()));
    for (let k = 0; k < s.keyCount; k++) this.histories.push([]);
    for (let c = 0; c < s.clients; c++) this.clients.push(null);
    this.trace(`scenario ${JSON.stringify(s)}`);
  }

  run(): SimResult {
    try {
      this.runPhases();
      this.checkFinal();
      return this.result(null);
    } catch (error) {
      if (error instanceof Violation) return this.result(error.message);
      if (error instanceof AssertionError) return this.result(`raft assertion: ${error.message}`);
      throw error;
    }
  }

  private result(failure: string | null): SimResult {
    this.stats.ticks = this.now;
    this.stats.nodes = this.nodes.size;
    let replay = `npm run sim -- --seed ${this.seed}`;
    if (this.profile === "adversarial") replay += " --profile adversarial";
    if (this.safetyTicksOverride !== undefined) replay += ` --ticks ${this.safetyTicksOverride}`;
    for (const [bug, on] of Object.entries(this.bugs ?? {})) if (on === true) replay += ` --bug ${bug}`;
    return { seed: this.seed, ok: failure === null, failure, trace: this.traceRing.slice(), stats: this.stats, replay };
  }

  private runPhases(): void {
    const s = this.scenario;
    for (let t = 0; t < s.safetyTicks; t++) this.tickOnce(true);
    // Liveness: heal the network, restart every crashed node, stop injecting faults.
    this.liveness = true;
    this.network.heal();
    this.network.faults = { dropProbability: 0, duplicateProbability: 0, delayTicksMin: 1, delayTicksMax: 1 };
    for (const n of this.nodes.values()) {
      n.crashInNextReady = false;
      if (n.raw === null) this.restart(n);
    }
    this.decommissionRemoved();
    this.trace("liveness phase: healed, all nodes up");
    const start = this.now;
    const probe: ClientOp = this.newWrite(-1, 0);
    this.probe = probe;
    (this.histories[0] as RegisterOp[]).push(probe.history);
    let probeSubmitted = false;
    while (this.now - start < s.livenessTicksMax) {
      this.tickOnce(false);
      if (!probeSubmitted) probeSubmitted = this.submit(probe);
      if (probe.done && this.converged()) return;
      if (probeSubmitted && !probe.done && this.now - probe.startedAt > s.clientTimeoutTicks) {
        probe.node = null;
        probeSubmitted = false;
      }
    }
    const leader = this.leader();
    throw new Violation(
      `liveness: no leader elected and commit within ${s.livenessTicksMax} ticks (leader ${leader?.id ?? "none"}, ` +
        `probe write ${probe.done ? "applied" : "not applied"})`,
    );
  }

  private tickOnce(faults: boolean): void {
    this.now++;
    if (faults) this.injectFaults();
    for (const m of this.network.due(this.now)) {
      const n = this.nodes.get(m.to);
      if (n === undefined || n.raw === null) continue;
      if (!n.raw.step(m)) throw new Violation(`malformed message from ${m.from}: ${m.type}`);
      this.handleReady(n);
    }
    for (const n of this.nodes.values()) {
      if (n.raw === null) {
        if (faults && this.now >= n.downUntil) this.restart(n);
        continue;
      }
      if (faults && n.prng.chance(this.scenario.tickSkipProbability)) continue; // clock drift
      n.raw.tick();
      this.handleReady(n);
    }
    if (faults) this.runClients();
    this.stats.messages = this.network.sent;
  }

  // ---------------------------------------------------------------------------------------------
  // Nodes.

  private newNodeId(): NodeId {
    return `n${this.nextNodeNumber++}`;
  }

  private addNode(id: NodeId, storage: MemoryStorage): SimNode {
    const n: SimNode = {
      id,
      prng: this.prng.fork(),
      storage,
      syncedHardState: storage.hardState(),
      raw: null,
      registers: new Registers(this.scenario.keyCount),
      downUntil: 0,
      crashInNextReady: false,
      readsWaiting: new Map(),
      readsAtIndex: [],
      checkedCommit: 0,
    };
    this.nodes.set(id, n);
    this.restart(n);
    return n;
  }

  private restart(n: SimNode): void {
    const s = this.scenario;
    n.raw = new RawNode({
      id: n.id,
      storage: n.storage,
      prng: n.prng.fork(),
      electionTimeoutTicks: s.electionTimeoutTicks,
      heartbeatIntervalTicks: s.heartbeatIntervalTicks,
      entriesPerMessageMax: s.entriesPerMessageMax,
      snapshotChunkBytes: s.snapshotChunkBytes,
      preVote: s.preVote,
      checkQuorum: s.checkQuorum,
      ...(this.bugs === undefined ? {} : { testingBugs: this.bugs }),
    });
    // The state machine is rebuilt from the snapshot; committed entries after it are re-applied.
    n.registers = Registers.decode(n.storage.snapshot().data, s.keyCount);
    n.crashInNextReady = false;
    this.trace(`${n.id} start term=${n.syncedHardState.term} commit=${n.syncedHardState.commit} last=${n.storage.lastIndex()}`);
    this.handleReady(n);
  }

  private crash(n: SimNode, reason: string): void {
    if (n.raw === null) return;
    n.raw = null;
    // What was written without fsync is lost: only the commit index is ever written so.
    n.storage.setHardState(n.syncedHardState);
    n.readsWaiting.clear();
    n.readsAtIndex = [];
    n.downUntil = this.now + n.prng.int(1, this.scenario.downTicksMax);
    this.stats.crashes++;
    this.trace(`${n.id} crash (${reason}) until ${n.downUntil}`);
    for (const c of this.clients) if (c !== null && c.node === n.id) c.node = null;
  }

  private handleReady(n: SimNode): void {
    for (let round = 0; round < 100; round++) {
      const raw = n.raw;
      if (raw === null || !raw.hasReady()) return;
      const rd = raw.ready();
      if (n.crashInNextReady) {
        // The process dies before its write reached the disk: the whole Ready is lost.
        this.crash(n, "before fsync");
        return;
      }
      this.persist(n, rd);
      this.checkReady(n, rd);
      for (const m of rd.messages) {
        if (m.type === "snapshot" && m.snapshot?.offset === 0) this.stats.snapshotsSent++;
        if (m.type === "snapshot") this.stats.snapshotChunks++;
        this.network.send(m, this.now);
      }
      if (rd.snapshot !== null) n.registers = Registers.decode(rd.snapshot.data, this.scenario.keyCount);
      for (const e of rd.committedEntries) this.apply(n, e);
      for (const rs of rd.readStates) {
        const op = n.readsWaiting.get(textDecoder.decode(rs.context));
        if (op === undefined) continue;
        n.readsWaiting.delete(textDecoder.decode(rs.context));
        n.readsAtIndex.push({ index: rs.index, op });
      }
      raw.advance();
      this.serveReads(n, raw);
      this.maybeSnapshot(n, raw);
      if (
        !this.liveness &&
        rd.hardState !== null &&
        raw.softState().role === "leader" &&
        rd.hardState.commit > this.lastCommitOf(n) &&
        n.prng.chance(this.scenario.crashAfterCommitProbability)
      ) {
        this.crash(n, "right after commit");
        return;
      }
      if (
        !this.liveness &&
        rd.hardState !== null &&
        raw.softState().role === "leader" &&
        rd.hardState.commit > this.lastCommitOf(n) &&
        n.prng.chance(this.scenario.isolateAfterCommitProbability)
      ) {
        this.isolate(n.id);
      }
      if (rd.hardState !== null) this.lastCommit.set(n.id, rd.hardState.commit);
    }
    throw new Violation(`${n.id}: Ready did not settle within 100 rounds`);
  }

  private lastCommitOf(n: SimNode): number {
    return this.lastCommit.get(n.id) ?? 0;
  }

  private persist(n: SimNode, rd: Ready): void {
    // The crash model keeps everything but the commit index across a crash, which is only true
    // if entries and snapshots always come with an fsync: check that instead of trusting it.
    if (!rd.mustSync && (rd.entries.length > 0 || rd.snapshot !== null)) {
      throw new Violation(`${n.id}: a Ready with ${rd.entries.length} entries${rd.snapshot === null ? "" : " and a snapshot"} did not ask for an fsync`);
    }
    if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    // fsync makes everything written so far durable; a commit-only change is written without it.
    if (rd.mustSync) n.syncedHardState = n.storage.hardState();
  }

  private apply(n: SimNode, e: Entry): void {
    const key = entryKey(e);
    const seen = this.applied.get(e.index);
    if (seen === undefined) this.applied.set(e.index, key);
    else if (seen !== key) {
      throw new Violation(`apply order: ${n.id} applied ${key} at ${e.index}, another node applied ${seen}`);
    }
    if (e.type !== "normal") return;
    const command = decodeWrite(e.data);
    n.registers.apply(command);
    for (const c of [...this.clients, this.probe]) {
      if (c === null || c.kind !== "write" || c.writeId !== command.writeId || c.node !== n.id) continue;
      this.ackWrite(c);
    }
  }

  private serveReads(n: SimNode, raw: RawNode): void {
    if (n.readsAtIndex.length === 0) return;
    const applied = raw.appliedIndex();
    const keep: Array<{ index: number; op: ClientOp }> = [];
    for (const r of n.readsAtIndex) {
      if (r.index > applied) {
        keep.push(r);
        continue;
      }
      if (r.op.done) continue;
      r.op.done = true;
      const value = n.registers.values[r.op.key] ?? null;
      const history = r.op.history as { value: number | null; response: number };
      history.value = value;
      history.response = this.tick();
      (this.histories[r.op.key] as RegisterOp[]).push(r.op.history);
      this.stats.readsAcked++;
      this.clients[r.op.client] = null;
    }
    n.readsAtIndex = keep;
  }

  private maybeSnapshot(n: SimNode, raw: RawNode): void {
    const applied = raw.appliedIndex();
    const snap = n.storage.snapshot().metadata.index;
    if (applied - snap < this.scenario.snapshotEveryEntries) return;
    n.storage.createSnapshot(applied, raw.appliedConfState(), n.registers.encode());
    // Keep a few entries so a slightly lagging follower still gets entries, not a snapshot.
    n.storage.compact(Math.max(n.storage.firstIndex(), applied - 3));
  }

  // ---------------------------------------------------------------------------------------------
  // Checkers that run on every Ready.

  private checkReady(n: SimNode, rd: Ready): void {
    const raw = n.raw as RawNode;
    if (rd.softState?.role === "leader") {
      const term = raw.hardState().term;
      const other = this.leaderOfTerm.get(term);
      if (other !== undefined && other !== n.id) {
        throw new Violation(`election safety: ${n.id} and ${other} are both leader of term ${term}`);
      }
      this.leaderOfTerm.set(term, n.id);
      this.stats.leaders++;
      this.trace(`${n.id} leader term=${term} last=${raw.lastIndex()}`);
      this.checkLeaderCompleteness(n, raw);
      if (!this.liveness && this.prng.chance(this.scenario.isolateNewLeaderProbability)) this.isolate(n.id);
    }
    const commit = raw.hardState().commit;
    if (commit > n.checkedCommit) {
      const log = raw.raftForTesting.log;
      for (let i = Math.max(n.checkedCommit + 1, log.firstIndex()); i <= commit; i++) {
        const e = log.slice(i, i + 1, Number.POSITIVE_INFINITY)[0] as Entry;
        const key = entryKey(e);
        const seen = this.committed.get(i);
        if (seen === undefined) this.committed.set(i, key);
        else if (seen !== key) {
          throw new Violation(`state machine safety: ${n.id} committed ${key} at ${i}, already committed was ${seen}`);
        }
        if (i > this.committedMax) this.committedMax = i;
      }
      n.checkedCommit = commit;
    }
  }

  /** §5.4: a new leader's log holds every entry committed so far. */
  private checkLeaderCompleteness(n: SimNode, raw: RawNode): void {
    const log = raw.raftForTesting.log;
    for (let i = log.firstIndex(); i <= this.committedMax; i++) {
      const want = this.committed.get(i);
      if (want === undefined) continue;
      const have = i <= log.lastIndex() ? entryKey(log.slice(i, i + 1, Number.POSITIVE_INFINITY)[0] as Entry) : "missing";
      if (have !== want) {
        throw new Violation(`leader completeness: leader ${n.id} has ${have} at ${i}, committed was ${want}`);
      }
    }
  }

  /** §5.3 log matching: logs that agree on an entry's term agree on everything before it. */
  private checkLogMatching(): void {
    const logs = [...this.nodes.values()].filter((n) => n.raw !== null).map((n) => ({ id: n.id, log: (n.raw as RawNode).raftForTesting.log }));
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const la = (logs[a] as (typeof logs)[number]).log;
        const lb = (logs[b] as (typeof logs)[number]).log;
        const lo = Math.max(la.firstIndex(), lb.firstIndex());
        const hi = Math.min(la.lastIndex(), lb.lastIndex());
        let agreeing = false;
        for (let i = hi; i >= lo; i--) {
          const ea = la.slice(i, i + 1, Number.POSITIVE_INFINITY)[0] as Entry;
          const eb = lb.slice(i, i + 1, Number.POSITIVE_INFINITY)[0] as Entry;
          if (ea.term === eb.term) {
            agreeing = true;
            if (entryKey(ea) !== entryKey(eb)) {
              throw new Violation(`log matching: ${logs[a]?.id} and ${logs[b]?.id} differ at ${i} with the same term`);
            }
          } else if (agreeing) {
            throw new Violation(`log matching: ${logs[a]?.id} and ${logs[b]?.id} agree after ${i} but not at ${i}`);
          }
        }
      }
    }
  }

  private checkFinal(): void {
    this.checkLogMatching();
    // Every member converged (checked by converged()); their state machines are identical.
    const members = this.members();
    let fingerprint: string | null = null;
    for (const id of members) {
      const n = this.nodes.get(id) as SimNode;
      const f = n.registers.fingerprint();
      if (fingerprint === null) fingerprint = f;
      else if (f !== fingerprint) throw new Violation(`state machines differ after healing (${id})`);
    }
    // Every acknowledged write is applied exactly once, on every member.
    for (const id of members) {
      const n = this.nodes.get(id) as SimNode;
      const counts = new Map<number, number>();
      for (const h of n.registers.histories) for (const w of h) counts.set(w, (counts.get(w) ?? 0) + 1);
      for (const [w, count] of counts) if (count !== 1) throw new Violation(`exactly once: write ${w} applied ${count} times on ${id}`);
      for (const w of this.ackedWrites) {
        if (!counts.has(w)) throw new Violation(`durability: acknowledged write ${w} is missing on ${id}`);
      }
    }
    // Reads and writes of each register are linearizable.
    for (let k = 0; k < this.histories.length; k++) {
      const ops = this.histories[k] as RegisterOp[];
      const result = checkRegister(ops);
      if (result === "violation") {
        throw new Violation(`linearizability: register ${k} history of ${ops.length} ops is not linearizable: ${formatOps(ops)}`);
      }
      if (result === "gave-up") this.stats.linearizabilityGaveUp++;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Faults.

  private injectFaults(): void {
    const s = this.scenario;
    for (const n of this.nodes.values()) {
      if (n.raw === null) continue;
      const isLeader = n.raw.softState().role === "leader";
      if (!n.prng.chance(s.crashProbability) && !(isLeader && n.prng.chance(s.leaderCrashProbability))) continue;
      if (n.prng.chance(s.crashMidReadyProbability)) n.crashInNextReady = true;
      else this.crash(n, "power loss");
    }
    if (this.prng.chance(s.partitionProbability)) this.changePartition();
    if (this.prng.chance(s.confChangeProbability)) this.changeMembership();
    if (this.prng.chance(s.transferProbability)) this.transferLeadership();
    if (this.now % 50 === 0) this.checkLogMatching();
  }

  private changePartition(): void {
    this.network.heal();
    const ids = [...this.nodes.keys()];
    const kind = this.prng.int(0, 3);
    if (kind === 0) {
      this.trace("partition healed");
      return;
    }
    if (kind === 1) {
      // Symmetric split into two sides.
      const side = new Set(ids.filter(() => this.prng.chance(0.5)));
      for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) this.network.block(a, b);
    } else if (kind === 2) {
      // One node isolated both ways (often the leader, to force an election).
      const leader = this.leader();
      this.isolate(leader !== null && this.prng.chance(0.7) ? leader.id : this.prng.pick(ids));
      return;
    } else {
      // One-way: some links drop in a single direction.
      for (const a of ids) for (const b of ids) if (a !== b && this.prng.chance(0.3)) this.network.block(a, b);
    }
    this.trace(`partition ${this.network.blockedLinks().join(",")}`);
  }

  /** As an operator would, shuts down for good every server whose removal has committed. A
   * removed server that keeps running can disrupt the cluster forever when both pre-vote and
   * check-quorum are off (thesis §4.2.3; the lease that stops it needs check-quorum). */
  private decommissionRemoved(): void {
    let best: RawNode | null = null;
    for (const n of this.nodes.values()) {
      if (n.raw !== null && (best === null || n.raw.hardState().commit > best.hardState().commit)) best = n.raw;
    }
    if (best === null) return;
    const committed = best.raftForTesting.confStateAt(best.hardState().commit);
    for (const id of this.removalsProposed) {
      if (committed.voters.includes(id) || committed.learners.includes(id)) continue;
      const n = this.nodes.get(id);
      if (n === undefined) continue;
      this.nodes.delete(id);
      this.trace(`${id} decommissioned (its removal committed)`);
    }
  }

  private isolate(victim: NodeId): void {
    this.network.heal();
    for (const b of this.nodes.keys()) {
      this.network.block(victim, b);
      this.network.block(b, victim);
    }
    this.trace(`partition: ${victim} isolated`);
  }

  /** A graceful hand-over (§3.10): the leader asks another voter to take over. */
  private transferLeadership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const raw = leader.raw as RawNode;
    const others = raw.confState().voters.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    const to = this.prng.pick(others);
    raw.transferLeadership(to);
    this.stats.transfers++;
    this.trace(`transfer: ${leader.id} hands leadership to ${to}`);
    this.handleReady(leader);
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const raw = leader.raw as RawNode;
    const conf = raw.confState();
    const choice = this.prng.int(0, 2);
    try {
      if (choice === 0 && conf.voters.length + conf.learners.length < 7) {
        const id = `n${this.nextNodeNumber}`;
        raw.proposeConfChange({ type: "addLearner", nodeId: id });
        this.nextNodeNumber++;
        this.addNode(id, new MemoryStorage());
        this.trace(`conf: ${leader.id} proposes addLearner ${id}`);
      } else if (choice === 1 && conf.learners.length > 0) {
        const id = this.prng.pick(conf.learners);
        const pr = raw.progress(id);
        if (pr === undefined || pr.match + 5 < raw.lastIndex()) return; // not caught up yet
        raw.proposeConfChange({ type: "promote", nodeId: id });
        this.trace(`conf: ${leader.id} proposes promote ${id}`);
      } else if (choice === 2 && conf.voters.length > 1 && conf.voters.length + conf.learners.length > 2) {
        const id = this.prng.pick([...conf.voters, ...conf.learners]);
        raw.proposeConfChange({ type: "remove", nodeId: id });
        this.removalsProposed.add(id);
        this.trace(`conf: ${leader.id} proposes remove ${id}`);
      } else {
        return;
      }
      this.stats.confChanges++;
    } catch (error) {
      if (error instanceof AssertionError) throw error;
      return; // refused (one at a time, not yet committed in term): the operator tries later
    }
    this.handleReady(leader);
  }

  // ---------------------------------------------------------------------------------------------
  // Clients: each does one operation at a time, retrying a write under the same id.

  private runClients(): void {
    const s = this.scenario;
    const batch: ClientOp[] = [];
    for (let c = 0; c < this.clients.length; c++) {
      let op = this.clients[c] ?? null;
      if (op !== null && !op.done && op.node !== null && this.now - op.startedAt > s.clientTimeoutTicks) {
        // No answer: a write is retried (same id), a read is given up (it had no effect).
        if (op.kind === "read") {
          this.clients[c] = null;
          op = null;
        } else {
          op.node = null;
        }
      }
      if (op === null) {
        if (!this.prng.chance(0.3)) continue;
        const key = this.prng.int(0, s.keyCount - 1);
        op = this.prng.chance(s.writeProbability) ? this.newWrite(c, key) : this.newRead(c, key);
        this.clients[c] = op;
        if (op.kind === "write") (this.histories[key] as RegisterOp[]).push(op.history);
      }
      if (op.node === null) {
        if (op.kind === "write" && s.batchWrites) batch.push(op);
        else this.submit(op);
      }
    }
    if (batch.length > 0) this.submitBatch(batch);
  }

  /** Writes that arrive together go to one leader as one proposeBatch (group commit). */
  private submitBatch(ops: ClientOp[]): void {
    const leaders = [...this.nodes.values()].filter((n) => n.raw !== null && n.raw.softState().role === "leader");
    if (leaders.length === 0) return;
    const n = this.prng.pick(leaders);
    try {
      (n.raw as RawNode).proposeBatch(ops.map((op) => encodeWrite({ writeId: op.writeId, key: op.key })));
    } catch (error) {
      if (error instanceof AssertionError) throw error;
      return;
    }
    for (const op of ops) {
      op.node = n.id;
      op.startedAt = this.now;
      if (n.registers.has(op.writeId)) this.ackWrite(op);
    }
    this.handleReady(n);
  }

  private newWrite(client: number, key: number): ClientOp {
    const writeId = this.nextWriteId++;
    const call = this.tick();
    return {
      client,
      kind: "write",
      key,
      writeId,
      call,
      history: { kind: "write", value: writeId, call, response: Number.POSITIVE_INFINITY },
      startedAt: this.now,
      node: null,
      done: false,
    };
  }

  private newRead(client: number, key: number): ClientOp {
    const call = this.tick();
    return {
      client,
      kind: "read",
      key,
      writeId: this.nextReadId++,
      call,
      history: { kind: "read", value: null, call, response: Number.POSITIVE_INFINITY },
      startedAt: this.now,
      node: null,
      done: false,
    };
  }

  /** Hands the op to a node; returns whether one took it. */
  private submit(op: ClientOp): boolean {
    const live = [...this.nodes.values()].filter((n) => n.raw !== null);
    if (live.length === 0) return false;
    const leaders = live.filter((n) => (n.raw as RawNode).softState().role === "leader");
    if (op.kind === "write") {
      if (leaders.length === 0) return false;
      const n = this.prng.pick(leaders);
      try {
        (n.raw as RawNode).propose(encodeWrite({ writeId: op.writeId, key: op.key }));
      } catch (error) {
        if (error instanceof AssertionError) throw error;
        return false;
      }
      op.node = n.id;
      op.startedAt = this.now;
      if (n.registers.has(op.writeId)) this.ackWrite(op);
      this.handleReady(n);
      return true;
    }
    // Reads go to any node that knows a leader: followers forward them (ReadIndex).
    const knowing = live.filter((n) => (n.raw as RawNode).softState().leader !== null);
    if (knowing.length === 0) return false;
    let n = this.prng.pick(knowing);
    if (this.scenario.readRouting === "stalest" && leaders.length > 0) {
      // An adversarial client: it reads from the leader of the oldest term it can find, the
      // one most likely to be deposed without knowing it.
      n = leaders.reduce((a, b) => ((a.raw as RawNode).hardState().term <= (b.raw as RawNode).hardState().term ? a : b));
    }
    const context = `r${op.writeId}`;
    (n.raw as RawNode).readIndex(textEncoder.encode(context));
    n.readsWaiting.set(context, op);
    op.node = n.id;
    op.startedAt = this.now;
    this.handleReady(n);
    return true;
  }

  private ackWrite(op: ClientOp): void {
    if (op.done) return;
    op.done = true;
    (op.history as { response: number }).response = this.tick();
    this.ackedWrites.add(op.writeId);
    this.stats.writesAcked++;
    if (op.client >= 0) this.clients[op.client] = null;
  }

  // ---------------------------------------------------------------------------------------------

  /** The live leader of the highest term, if any. */
  private leader(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const n of this.nodes.values()) {
      if (n.raw === null || n.raw.softState().role !== "leader") continue;
      const term = n.raw.hardState().term;
      if (term > bestTerm) {
        best = n;
        bestTerm = term;
      }
    }
    return best;
  }

  private members(): NodeId[] {
    const leader = this.leader();
    if (leader === null) return [];
    const conf = (leader.raw as RawNode).confState();
    return [...conf.voters, ...conf.learners];
  }

  /** Every member is up, applied everything the leader committed, and agrees on it. */
  private converged(): boolean {
    const leader = this.leader();
    if (leader === null) return false;
    const raw = leader.raw as RawNode;
    const commit = raw.hardState().commit;
    if (raw.lastIndex() !== commit) return false;
    for (const id of this.members()) {
      const n = this.nodes.get(id);
      if (n === undefined || n.raw === null || n.raw.appliedIndex() !== commit) return false;
    }
    return true;
  }

  /** A logical clock for the history: strictly increasing, ordered with the ticks. */
  private tick(): number {
    this.clock++;
    return this.now * 1_000_000 + this.clock;
  }

  private trace(line: string): void {
    this.traceRing.push(`[${this.now}] ${line}`);
    if (this.traceRing.length > this.traceLength) this.traceRing.shift();
  }
}

function entryKey(e: Entry): string {
  return `${e.term}:${e.type}:${textDecoder.decode(e.data)}`;
}

function formatOps(ops: readonly RegisterOp[]): string {
  return ops
    .slice(0, 30)
    .map((o) => `${o.kind}(${o.value})@${o.call}-${o.response === Number.POSITIVE_INFINITY ? "inf" : o.response}`)
    .join(" ");
}

export function runSeed(seed: number, options: SimOptions = {}): SimResult {
  return new Simulation(seed, options).run();
}

export function formatFailure(result: SimResult): string {
  return [
    `seed ${result.seed} FAILED: ${result.failure}`,
    `replay: ${result.replay}`,
    "trace (last events):",
    ...result.trace.map((l) => `  ${l}`),
  ].join("\n");
}
