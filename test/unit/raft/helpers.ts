// Helpers for the paper's scenario tests: nodes built on MemoryStorage, and a tiny in-memory
// network that delivers every message until the cluster is quiet (as etcd's raft_test.go),
// with links that can be cut. The core is driven step by step; nothing here reads a clock.

import { Prng } from "../../../src/lib/index.ts";
import { MemoryStorage, Raft, message, type Message, type MessageType, type NodeId, type RaftConfig } from "../../../src/raft/index.ts";

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
