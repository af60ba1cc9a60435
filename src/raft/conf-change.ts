// Single-server membership changes (thesis §4.1): add a learner, promote a learner to voter,
// remove a server. A change is one log entry; a server uses the latest configuration in its log
// whether or not it is committed, so the core tracks every configuration entry of the log and
// falls back when a conflicting suffix is truncated.

import { assert, limits } from "../lib/index.ts";
import type { ConfState, Entry, NodeId } from "./types.ts";

export type ConfChangeType = "addLearner" | "promote" | "remove";

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

const typeCodes: Record<ConfChangeType, number> = { addLearner: 1, promote: 2, remove: 3 };
const codeTypes: ReadonlyArray<ConfChangeType | undefined> = [undefined, "addLearner", "promote", "remove"];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(change: ConfChange): Uint8Array {
  const id = encoder.encode(change.nodeId);
  assert(id.length > 0 && id.length <= limits.nodeIdBytesMax, "conf change: node id length");
  const out = new Uint8Array(1 + id.length);
  out[0] = typeCodes[change.type];
  out.set(id, 1);
  return out;
}

/** True when `data` decodes to a conf change: for checking what arrives from the network. */
export function isConfChangeData(data: Uint8Array): boolean {
  return codeTypes[data[0] ?? 0] !== undefined && data.length > 1 && data.length - 1 <= limits.nodeIdBytesMax;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const type = codeTypes[data[0] ?? 0];
  assert(type !== undefined, "conf change: known type code");
  assert(data.length > 1, "conf change: has a node id");
  return { type, nodeId: decoder.decode(data.subarray(1)) };
}

/** Why a change cannot apply to a configuration, or null when it can. */
export function confChangeProblem(conf: ConfState, change: ConfChange): string | null {
  const isVoter = conf.voters.includes(change.nodeId);
  const isLearner = conf.learners.includes(change.nodeId);
  switch (change.type) {
    case "addLearner":
      if (isVoter || isLearner) return `${change.nodeId} is already a member`;
      if (conf.voters.length + conf.learners.length >= limits.clusterNodesMax) return "the cluster is full (clusterNodesMax)";
      return null;
    case "promote":
      return isLearner ? null : `${change.nodeId} is not a learner`;
    case "remove":
      if (!isVoter && !isLearner) return `${change.nodeId} is not a member`;
      if (isVoter && conf.voters.length === 1) return "cannot remove the last voter";
      return null;
  }
}

/** The configuration after a change. A change that does not apply leaves it as it is: every
 * node decides the same, because they all see the same log. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  if (confChangeProblem(conf, change) !== null) return conf;
  const id = change.nodeId;
  switch (change.type) {
    case "addLearner":
      return { voters: conf.voters, learners: [...conf.learners, id].sort() };
    case "promote":
      return { voters: [...conf.voters, id].sort(), learners: conf.learners.filter((n) => n !== id) };
    case "remove":
      return { voters: conf.voters.filter((n) => n !== id), learners: conf.learners.filter((n) => n !== id) };
  }
}

/** The configurations that log entries after a base (a snapshot or an applied index) set. */
export class ConfHistory {
  private base: ConfState;
  private baseIndex: number;
  private readonly changes: Array<{ index: number; conf: ConfState }> = [];

  constructor(base: ConfState, baseIndex: number) {
    this.base = base;
    this.baseIndex = baseIndex;
  }

  latest(): ConfState {
    return this.changes[this.changes.length - 1]?.conf ?? this.base;
  }

  /** The index of the latest configuration entry (or the base's index). */
  latestIndex(): number {
    return this.changes[this.changes.length - 1]?.index ?? this.baseIndex;
  }

  /** The configuration in force once entry `index` is in the log. */
  at(index: number): ConfState {
    assert(index >= this.baseIndex, `conf history: ${index} is before the base ${this.baseIndex}`);
    let conf = this.base;
    for (const c of this.changes) {
      if (c.index > index) break;
      conf = c.conf;
    }
    return conf;
  }

  /** Entries were written from their first index on: drop what they replaced, add their changes. */
  written(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    while (this.changes.length > 0 && (this.changes[this.changes.length - 1] as { index: number }).index >= first.index) {
      this.changes.pop();
    }
    for (const e of entries) {
      if (e.type !== "confChange") continue;
      this.changes.push({ index: e.index, conf: applyConfChange(this.latest(), decodeConfChange(e.data)) });
    }
  }

  /** Everything up to `index` is applied and can never be truncated: fold it into the base. */
  compactTo(index: number): void {
    while (this.changes.length > 0 && (this.changes[0] as { index: number }).index <= index) {
      const c = this.changes.shift() as { index: number; conf: ConfState };
      this.base = c.conf;
      this.baseIndex = c.index;
    }
  }

  reset(base: ConfState, baseIndex: number): void {
    this.base = base;
    this.baseIndex = baseIndex;
    this.changes.length = 0;
  }
}
