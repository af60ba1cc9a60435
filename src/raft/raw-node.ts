// RawNode: the core's public face (as etcd's rawnode.go). The caller feeds it messages, ticks,
// proposals and requests, and drives it with the Ready/advance protocol: take ready(), persist
// its snapshot, entries and hard state (fsync when mustSync), send its messages, apply its
// committed entries, serve its read states, then advance(). One Ready is out at a time.

import { assert, limits } from "../lib/index.ts";
import { isConfChangeData, type ConfChange } from "./conf-change.ts";
import type { Progress } from "./progress.ts";
import { Raft, type RaftConfig } from "./raft.ts";
import type { ConfState, HardState, Message, MessageType, NodeId, Ready, SoftState } from "./types.ts";
import { isHardStateEqual } from "./types.ts";

export class RawNode {
  private readonly raft: Raft;
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private outstanding: Ready | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevHardState = config.storage.initialState().hardState;
    this.prevSoftState = this.softState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  tick(): void {
    this.assertNoReady("tick");
    this.raft.tick();
  }

  /** A message from another node. Returns false, changing nothing, for a message that no
   * correct peer sends (a local type, wrong address, broken entries): a peer's bug or a
   * forged frame must not trip this node's assertions. */
  step(m: Message): boolean {
    this.assertNoReady("step");
    if (!isWellFormed(m, this.raft.id)) return false;
    this.raft.step(m);
    return true;
  }

  /** Proposes application data (leader only); returns the entry's index. Throws not_leader. */
  propose(data: Uint8Array): number {
    this.assertNoReady("propose");
    return this.raft.propose(data);
  }

  /** Proposes several entries at once: one append per follower carries them all (group
   * commit). Returns the last entry's index; all or nothing. */
  proposeBatch(datas: readonly Uint8Array[]): number {
    this.assertNoReady("proposeBatch");
    return this.raft.proposeBatch(datas);
  }

  /** Proposes one membership change (leader only); returns the entry's index. */
  proposeConfChange(change: ConfChange): number {
    this.assertNoReady("proposeConfChange");
    return this.raft.proposeConfChange(change);
  }

  /** Asks for a linearizable read point; the answer comes as a ReadState with this context. */
  readIndex(context: Uint8Array): void {
    this.assertNoReady("readIndex");
    this.raft.readIndex(context);
  }

  transferLeadership(to: NodeId): void {
    this.assertNoReady("transferLeadership");
    this.raft.transferLeadership(to);
  }

  /** Starts an election now (tests, and a lone node that wants to lead at once). */
  campaign(): void {
    this.assertNoReady("campaign");
    this.raft.campaign();
  }

  hasReady(): boolean {
    const r = this.raft;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (!isHardStateEqual(this.hardState(), this.prevHardState)) return true;
    if (!isSoftStateEqual(this.softState(), this.prevSoftState)) return true;
    if (r.log.pendingSnapshot() !== null) return true;
    if (r.log.hasUnstableEntries()) return true;
    return r.log.hasNextCommittedEntries(this.applyLimit());
  }

  ready(): Ready {
    assert(this.outstanding === null, "ready() again before advance()");
    const r = this.raft;
    const hard = this.hardState();
    const soft = this.softState();
    const hardChanged = !isHardStateEqual(hard, this.prevHardState);
    const entries = r.log.unstableEntries();
    const rd: Ready = {
      softState: isSoftStateEqual(soft, this.prevSoftState) ? null : soft,
      hardState: hardChanged ? hard : null,
      entries,
      snapshot: r.log.pendingSnapshot(),
      committedEntries: r.log.nextCommittedEntries(limits.committedEntriesPerReadyBytesMax, this.applyLimit()),
      messages: r.msgs,
      readStates: r.readStates,
      // A snapshot to install must be on disk before the reply that acknowledges it goes out:
      // the leader counts it as matched, and a follower that lost it could commit stale entries.
      mustSync:
        entries.length > 0 ||
        r.log.pendingSnapshot() !== null ||
        (hardChanged && (hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote)),
    };
    r.msgs = [];
    r.readStates = [];
    this.outstanding = rd;
    return rd;
  }

  advance(): void {
    const rd = this.outstanding;
    assert(rd !== null, "advance() without a ready()");
    this.outstanding = null;
    const r = this.raft;
    if (rd.hardState !== null) this.prevHardState = rd.hardState;
    if (rd.softState !== null) this.prevSoftState = rd.softState;
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) r.log.stableTo(last.index, last.term);
    if (rd.snapshot !== null) r.log.stableSnapshotTo(rd.snapshot.metadata.index);
    const applied = rd.committedEntries[rd.committedEntries.length - 1];
    if (applied !== undefined && applied.index > r.log.applied) {
      r.log.appliedTo(applied.index, r.bugs.applyBeforeCommit === true);
    }
    r.confs.compactTo(Math.min(r.log.applied, r.log.committed));
  }

  /** The configuration as of the last applied entry: what a snapshot taken now must record. */
  appliedConfState(): ConfState {
    return this.raft.confStateAt(this.raft.log.applied);
  }

  appliedIndex(): number {
    return this.raft.log.applied;
  }

  /** The latest configuration in the log (committed or not), which this node acts on. */
  confState(): ConfState {
    return this.raft.confs.latest();
  }

  softState(): SoftState {
    return { leader: this.raft.leader, role: this.raft.role };
  }

  hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  /** Leader only: what it knows of a member's log (for deciding when to promote a learner). */
  progress(id: NodeId): Readonly<Progress> | undefined {
    return this.raft.progress.get(id);
  }

  lastIndex(): number {
    return this.raft.log.lastIndex();
  }

  /** Test-only view of the core, for the paper's scenario tests and the simulator's checkers. */
  get raftForTesting(): Raft {
    return this.raft;
  }

  private applyLimit(): number {
    const log = this.raft.log;
    if (this.raft.bugs.applyBeforeCommit === true) return log.lastIndex();
    return log.committed;
  }

  private assertNoReady(what: string): void {
    assert(this.outstanding === null, `${what}() between ready() and advance()`);
  }
}

const remoteTypes = new Set<MessageType>([
  "append",
  "appendResponse",
  "heartbeat",
  "heartbeatResponse",
  "vote",
  "voteResponse",
  "preVote",
  "preVoteResponse",
  "snapshot",
  "snapshotResponse",
  "readIndex",
  "readIndexResponse",
  "transferLeader",
  "timeoutNow",
]);

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** The shape checks of a message from the network (sizes are the codec's to check). */
export function isWellFormed(m: Message, self: NodeId): boolean {
  if (!remoteTypes.has(m.type) || m.to !== self || m.from === self || m.from.length === 0) return false;
  if (!isCount(m.term) || !isCount(m.logTerm) || !isCount(m.index) || !isCount(m.commit) || !isCount(m.rejectHint)) return false;
  // Only forwarded requests may come from a node that has no term yet.
  if (m.term === 0 && m.type !== "readIndex" && m.type !== "transferLeader") return false;
  if ((m.type === "readIndex" || m.type === "readIndexResponse") && m.context === null) return false;
  if (m.entries.length > limits.entriesPerMessageMax) return false;
  let previousTerm = m.logTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i] as Message["entries"][number];
    if (e.index !== m.index + 1 + i || !isCount(e.term) || e.term > m.term || e.term < previousTerm) return false;
    previousTerm = e.term;
    if (e.type !== "normal" && e.type !== "confChange" && e.type !== "empty") return false;
    if (e.type === "confChange" && !isConfChangeData(e.data)) return false;
  }
  const chunk = m.snapshot;
  if (m.type === "snapshot") {
    if (chunk === null || !isCount(chunk.offset) || !isCount(chunk.totalBytes)) return false;
    if (chunk.offset + chunk.data.length > chunk.totalBytes || chunk.done !== (chunk.offset + chunk.data.length === chunk.totalBytes)) return false;
    if (!isCount(chunk.metadata.index) || !isCount(chunk.metadata.term)) return false;
    if (chunk.metadata.term > m.term || chunk.metadata.index < 1) return false;
  }
  return true;
}

function isSoftStateEqual(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}

