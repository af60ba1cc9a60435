// Helpers for the paper's scenario tests: nodes built on MemoryStorage, and a tiny in-memory
// network that delivers every message until the cluster is quiet (as etcd's raft_test.go),
// with links that can be cut. The core is driven step by step; nothing here reads a clock.

import { Prng } from "../../../src/lib/index.ts";
import {
  MemoryStorage,
  Raft,
  RawNode,
  message,
  type Entry,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  type Ready,
} from "../../../src/raft/index.ts";

export interface NodeOptions {
  learners?: NodeId[];
  electionTimeoutTicks?: number;
  heartbeatIntervalTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  storage?: MemoryStorage;
  seed?: number;
  testingBugs?: RaftConfig["testingBugs"];
}

export function newRaft(id: NodeId, voters: NodeId[], options: NodeOptions = {}): Raft {
  const storage = options.storage ?? MemoryStorage.bootstrap({ voters, learners: options.learners ?? [] });
  return new Raft({
    id,
    storage,
    prng: new Prng(options.seed ?? 1),
    electionTimeoutTicks: options.electionTimeoutTicks ?? 10,
    heartbeatIntervalTicks: options.heartbeatIntervalTicks ?? 1,
    preVote: options.preVote ?? false,
    checkQuorum: options.checkQuorum ?? false,
    ...(options.testingBugs ? { testingBugs: options.testingBugs } : {}),
  });
}

/** Takes the messages a node wants to send. */
export function take(r: Raft): Message[] {
  const out = r.msgs;
  r.msgs = [];
  return out;
}

export function msg(fields: Partial<Message> & { type: MessageType; from: NodeId; to: NodeId }): Message {
  return message(fields);
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** Every node of a cluster and the links between them. */
export class Cluster {
  readonly nodes = new Map<NodeId, Raft>();
  private readonly cut = new Set<string>();
  delivered: Message[] = [];

  constructor(ids: NodeId[], options: NodeOptions = {}) {
    ids.forEach((id, i) => this.nodes.set(id, newRaft(id, ids, { ...options, seed: (options.seed ?? 1) + i })));
  }

  node(id: NodeId): Raft {
    const r = this.nodes.get(id);
    if (r === undefined) throw new Error(`no node ${id}`);
    return r;
  }

  add(r: Raft): void {
    this.nodes.set(r.id, r);
  }

  /** Cuts both directions between a and every other node. */
  isolate(a: NodeId): void {
    for (const b of this.nodes.keys()) {
      if (b === a) continue;
      this.cut.add(`${a}>${b}`);
      this.cut.add(`${b}>${a}`);
    }
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Delivers messages until none are left (bounded: a loop means a bug). */
  settle(roundsMax = 1000): void {
    for (let round = 0; round < roundsMax; round++) {
      const pending: Message[] = [];
      for (const r of this.nodes.values()) pending.push(...take(r));
      if (pending.length === 0) return;
      for (const m of pending) {
        if (this.cut.has(`${m.from}>${m.to}`)) continue;
        const to = this.nodes.get(m.to);
        if (to === undefined) continue;
        this.delivered.push(m);
        to.step(m);
      }
    }
    throw new Error("cluster did not settle");
  }

  campaign(id: NodeId): void {
    this.node(id).campaign();
    this.settle();
  }

  tickAll(ticks: number): void {
    for (let t = 0; t < ticks; t++) {
      for (const r of this.nodes.values()) r.tick();
      this.settle();
    }
  }

  propose(id: NodeId, data: string): number {
    const index = this.node(id).propose(bytes(data));
    this.settle();
    return index;
  }

  /** The data of a node's entries from index `from` (normal entries only). */
  logData(id: NodeId, from = 1): string[] {
    const log = this.node(id).log;
    const lo = Math.max(from, log.firstIndex());
    return log
      .slice(lo, log.lastIndex() + 1, Number.POSITIVE_INFINITY)
      .filter((e) => e.type === "normal")
      .map((e) => text(e.data));
  }
}

/** A cluster of RawNodes that runs the whole Ready protocol: persist, send, apply, advance. */
export class RawCluster {
  readonly nodes = new Map<NodeId, RawNode>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readies: Array<{ id: NodeId; ready: Ready }> = [];
  readonly sent: Message[] = [];
  /** Drop a message when this returns true (it is still recorded in `sent`). */
  drop: (m: Message) => boolean = () => false;
  private queue: Message[] = [];

  add(id: NodeId, storage: MemoryStorage, options: NodeOptions = {}): void {
    this.storages.set(id, storage);
    this.applied.set(id, []);
    this.nodes.set(
      id,
      new RawNode({
        id,
        storage,
        prng: new Prng(options.seed ?? id.charCodeAt(0)),
        electionTimeoutTicks: options.electionTimeoutTicks ?? 10,
        heartbeatIntervalTicks: options.heartbeatIntervalTicks ?? 1,
        preVote: options.preVote ?? true,
        checkQuorum: options.checkQuorum ?? true,
      }),
    );
  }

  node(id: NodeId): RawNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Handles every node's Ready and delivers messages until all is quiet. */
  settle(roundsMax = 10_000): void {
    for (let round = 0; round < roundsMax; round++) {
      let busy = false;
      for (const [id, n] of this.nodes) {
        while (n.hasReady()) {
          busy = true;
          const rd = n.ready();
          this.readies.push({ id, ready: rd });
          const s = this.storages.get(id) as MemoryStorage;
          if (rd.snapshot !== null) s.applySnapshot(rd.snapshot);
          s.append(rd.entries);
          if (rd.hardState !== null) s.setHardState(rd.hardState);
          for (const m of rd.messages) {
            this.sent.push(m);
            if (!this.drop(m)) this.queue.push(m);
          }
          (this.applied.get(id) as Entry[]).push(...rd.committedEntries);
          n.advance();
        }
      }
      const due = this.queue;
      this.queue = [];
      for (const m of due) {
        const to = this.nodes.get(m.to);
        if (to === undefined) continue;
        busy = true;
        to.step(m);
      }
      if (!busy) return;
    }
    throw new Error("raw cluster did not settle");
  }

  tickAll(ticks: number): void {
    for (let t = 0; t < ticks; t++) {
      for (const n of this.nodes.values()) n.tick();
      this.settle();
    }
  }
}
