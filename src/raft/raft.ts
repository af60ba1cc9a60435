// The Raft algorithm as a pure state machine (modelled on etcd's raft.go): messages and ticks in,
// messages and log changes out; no I/O, no clock, randomness only from the seeded Prng it is
// given. The role is a swapped pair of step and tick functions; term handling happens once, at
// the top of step(). RawNode (raw-node.ts) wraps this in the Ready/advance protocol.

import { assert, EdgeEsdbError, InvalidArgumentError, limits, TooLargeError, type Prng } from "../lib/index.ts";
import { ConfHistory, confChangeProblem, encodeConfChange, type ConfChange } from "./conf-change.ts";
import { RaftLog } from "./log.ts";
import { messageSizeBytes, messageSizeBytesMax } from "./message-size.ts";
import { Progress } from "./progress.ts";
import type { Storage } from "./storage.ts";
import type {
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  ReadState,
  Role,
  Snapshot,
  SnapshotChunk,
  TestingBugs,
} from "./types.ts";
import { message } from "./types.ts";

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  /** The only source of randomness (election timeouts). Seed it from the node's seed. */
  readonly prng: Prng;
  readonly electionTimeoutTicks?: number;
  readonly heartbeatIntervalTicks?: number;
  /** §9.6: a candidate first asks whether it could win, without raising its term. Default on. */
  readonly preVote?: boolean;
  /** §6.2: a leader that has not heard from a quorum within an election timeout steps down, and
   * a follower that hears from its leader ignores vote requests. Default on. */
  readonly checkQuorum?: boolean;
  /** Entries one append carries at most (default and ceiling: limits.entriesPerMessageMax). */
  readonly entriesPerMessageMax?: number;
  /** Snapshot bytes per chunk (default and ceiling: limits.snapshotChunkBytesMax). */
  readonly snapshotChunkBytes?: number;
  /** Test-only: bugs the simulator plants to prove its checkers. Off (undefined) in production. */
  readonly testingBugs?: TestingBugs;
}

const transferContext = new TextEncoder().encode("transfer");
const textDecoder = new TextDecoder();

type StepFn = (m: Message) => void;

interface PendingRead {
  readonly index: number;
  readonly request: Message;
  readonly acks: Set<NodeId>;
}

/** Chunks of a snapshot being received, kept until the last arrives. */
/**
 * A snapshot being received. It belongs to one sender in one term: two leaders' snapshots at
 * the same (index, term) need not be the same bytes, so chunks of different senders, terms or
 * sizes are never joined.
 */
interface IncomingSnapshot {
  readonly from: NodeId;
  readonly messageTerm: number;
  readonly totalBytes: number;
  readonly index: number;
  readonly term: number;
  readonly chunks: Uint8Array[];
  received: number;
}

export class Raft {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly confs: ConfHistory;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly bugs: TestingBugs;
  readonly entriesPerMessageMax: number;
  readonly snapshotChunkBytes: number;
  private readonly prng: Prng;

  term = 0;
  vote: NodeId | null = null;
  leader: NodeId | null = null;
  role: Role = "follower";
  /** Leader only: what it knows of every member's log (itself included when it is a member). */
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  leadTransferee: NodeId | null = null;
  private uncommittedBytes = 0;
  /** Leader: this term's proposals not yet committed, as (last index, bytes) per batch. Its
   * length is bounded by uncommittedBytesMax over the smallest batch, and by the log. */
  private uncommittedBatches: Array<{ lastIndex: number; bytes: number }> = [];
  /** Leader: reads waiting for a quorum of heartbeat acknowledgements, in arrival order. */
  private readonly pendingReads = new Map<string, PendingRead>();
  /** Leader: reads that arrived before an entry of this term committed (§6.4 step 1). */
  private readsBeforeTermCommit: Message[] = [];
  private incoming: IncomingSnapshot | null = null;
  private stepRole: StepFn = (m) => this.stepFollower(m);
  private tickRole: () => void = () => this.tickElection();

  constructor(config: RaftConfig) {
    this.id = config.id;
    const idBytes = new TextEncoder().encode(config.id).length;
    assert(idBytes > 0 && idBytes <= limits.nodeIdBytesMax, "node id is 1..nodeIdBytesMax UTF-8 bytes");
    this.electionTimeoutTicks = config.electionTimeoutTicks ?? limits.electionTimeoutTicksDefault;
    this.heartbeatIntervalTicks = config.heartbeatIntervalTicks ?? limits.heartbeatIntervalTicksDefault;
    assert(this.heartbeatIntervalTicks >= 1, "heartbeat interval >= 1 tick");
    assert(this.electionTimeoutTicks > this.heartbeatIntervalTicks, "election timeout > heartbeat interval");
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.bugs = config.testingBugs ?? {};
    this.entriesPerMessageMax = config.entriesPerMessageMax ?? limits.entriesPerMessageMax;
    assert(
      this.entriesPerMessageMax >= 1 && this.entriesPerMessageMax <= limits.entriesPerMessageMax,
      "entriesPerMessageMax within 1..limits.entriesPerMessageMax",
    );
    this.snapshotChunkBytes = config.snapshotChunkBytes ?? limits.snapshotChunkBytesMax;
    assert(
      this.snapshotChunkBytes >= 1 && this.snapshotChunkBytes <= limits.snapshotChunkBytesMax,
      "snapshotChunkBytes within 1..limits.snapshotChunkBytesMax",
    );
    this.prng = config.prng;
    const storage = config.storage;
    this.log = new RaftLog(storage);
    const hard = storage.initialState().hardState;
    const snap = storage.snapshot();
    this.confs = new ConfHistory(snap.metadata.confState, snap.metadata.index);
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    if (last >= first) this.confs.written(storage.entries(first, last + 1, Number.POSITIVE_INFINITY));
    // A commit index written without fsync may have been lost; the snapshot is committed anyway.
    const commit = Math.max(hard.commit, snap.metadata.index);
    assert(commit <= last, `restart: commit ${commit} beyond the last index ${last}`);
    this.log.commitTo(commit);
    this.term = hard.term;
    this.vote = hard.vote;
    this.becomeFollower(this.term, null);
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs.

  tick(): void {
    this.tickRole();
    this.assertInvariants();
  }

  step(m: Message): void {
    this.stepInner(m);
    this.assertInvariants();
  }

  /** What must hold after every input, whatever the role. */
  private assertInvariants(): void {
    const log = this.log;
    assert(log.committed <= log.lastIndex(), `commit ${log.committed} beyond last index ${log.lastIndex()}`);
    assert(log.applied <= log.lastIndex(), "applied within the log");
    assert(log.lastTerm() <= this.term, `last entry's term ${log.lastTerm()} is ahead of the term ${this.term}`);
    assert(this.role !== "candidate" || this.vote === this.id, "a candidate voted for itself");
    assert(this.role !== "leader" || this.leader === this.id, "a leader knows it leads");
    assert(this.role === "follower" || this.role === "leader" || this.promotable(), "only a voter campaigns");
    assert(this.uncommittedBytes >= 0 && this.uncommittedBytes <= limits.uncommittedBytesMax + limits.entryDataBytesMax, "uncommitted budget");
  }

  private stepInner(m: Message): void {
    if (m.term === 0) {
      assert(isLocal(m.type) || m.type === "readIndex" || m.type === "transferLeader", `term 0 only on local messages (${m.type})`);
    } else if (m.term > this.term) {
      if (m.type === "vote" || m.type === "preVote") {
        const force = m.context !== null && bytesEqual(m.context, transferContext);
        const inLease = this.checkQuorum && this.leader !== null && this.electionElapsed < this.electionTimeoutTicks;
        // §6 (disruptive servers): a node that hears from its leader ignores vote requests.
        if (!force && inLease) return;
      }
      if (m.type === "preVote") {
        // A pre-vote never changes our term.
      } else if (m.type === "preVoteResponse" && !m.reject) {
        // A granted pre-vote carries the term we would stand at; the candidate handles it.
      } else if (m.type === "append" || m.type === "heartbeat" || m.type === "snapshot") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === "heartbeat" || m.type === "append")) {
        // A stale leader (or a node whose term we passed while partitioned) learns our term.
        this.send(message({ type: "appendResponse", from: this.id, to: m.from }));
      } else if (m.type === "preVote") {
        this.send(message({ type: "preVoteResponse", from: this.id, to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case "hup":
        this.hup(false);
        return;
      case "vote":
      case "preVote":
        this.stepVoteRequest(m);
        return;
      default:
        this.stepRole(m);
    }
  }

  private stepVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (m.type === "preVote" && m.term > this.term) ||
      (this.bugs.grantTwoVotesInTerm === true && m.type === "vote" && this.role === "follower" && this.leader === null);
    const responseType: MessageType = m.type === "vote" ? "voteResponse" : "preVoteResponse";
    const upToDate = this.bugs.voteWithoutLogCheck === true || this.log.isUpToDate(m.index, m.logTerm);
    if (canVote && upToDate) {
      // §5.2, §5.4.1: grant the vote to a candidate whose log is at least as up-to-date as ours.
      this.send(message({ type: responseType, from: this.id, to: m.from, term: m.term }));
      if (m.type === "vote") {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(message({ type: responseType, from: this.id, to: m.from, term: this.term, reject: true }));
    }
  }

  /** Appends a proposal (leader only); returns its index. */
  propose(data: Uint8Array, type: EntryType = "normal"): number {
    return this.proposeBatch([data], type);
  }

  /** Appends proposals as consecutive entries, sent together (leader only); returns the last
   * index. All or nothing: a refused batch appends none. */
  proposeBatch(datas: readonly Uint8Array[], type: EntryType = "normal"): number {
    if (this.role !== "leader") throw new EdgeEsdbError("not_leader", `not the leader (leader: ${this.leader ?? "unknown"})`);
    if (this.leadTransferee !== null) {
      throw new EdgeEsdbError("unavailable", `leadership is being transferred to ${this.leadTransferee}`);
    }
    if (datas.length === 0 || datas.length > limits.entriesPerMessageMax) {
      throw new InvalidArgumentError(`a batch holds 1..${limits.entriesPerMessageMax} proposals (entriesPerMessageMax)`);
    }
    let bytes = 0;
    for (const data of datas) {
      if (data.length > limits.entryDataBytesMax) {
        throw new TooLargeError("entry data bytes", "entryDataBytesMax", limits.entryDataBytesMax, data.length);
      }
      bytes += data.length;
    }
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > limits.uncommittedBytesMax) {
      throw new EdgeEsdbError("unavailable", "too many uncommitted bytes (uncommittedBytesMax): retry later");
    }
    this.uncommittedBytes += bytes;
    const first = this.log.lastIndex() + 1;
    this.uncommittedBatches.push({ lastIndex: first + datas.length - 1, bytes });
    const entries: Entry[] = datas.map((data, i) => ({ term: this.term, index: first + i, type, data }));
    this.appendEntries(entries);
    this.broadcastAppend();
    return first + datas.length - 1;
  }

  /** Proposes one membership change (leader only); returns its entry's index. */
  proposeConfChange(change: ConfChange): number {
    if (this.role !== "leader") throw new EdgeEsdbError("not_leader", `not the leader (leader: ${this.leader ?? "unknown"})`);
    if (this.confs.latestIndex() > this.log.committed) {
      throw new EdgeEsdbError("unavailable", "a membership change is still uncommitted: one at a time");
    }
    // Without this a new leader could change membership on top of an uncommitted change of an
    // older term and let two disjoint majorities form (Ongaro, raft-dev 2015).
    if (this.log.term(this.log.committed) !== this.term) {
      throw new EdgeEsdbError("unavailable", "the leader has not yet committed an entry of its term");
    }
    const problem = confChangeProblem(this.confs.latest(), change);
    if (problem !== null) throw new InvalidArgumentError(`membership change: ${problem}`);
    return this.propose(encodeConfChange(change), "confChange");
  }

  /** Asks for a read index; the answer comes as a ReadState with the same context. */
  readIndex(context: Uint8Array): void {
    if (context.length === 0 || context.length > limits.readContextBytesMax) {
      throw new InvalidArgumentError(`read context must be 1..${limits.readContextBytesMax} bytes`);
    }
    if (this.leader === null) throw new EdgeEsdbError("not_leader", "no leader known: cannot serve a read");
    this.step(message({ type: "readIndex", from: this.id, to: this.id, context }));
  }

  /** Asks the leader to hand leadership to `to` (§3.10, graceful shutdown). */
  transferLeadership(to: NodeId): void {
    if (this.leader === null) throw new EdgeEsdbError("not_leader", "no leader known: cannot transfer leadership");
    this.step(message({ type: "transferLeader", from: this.id, to: this.id, context: new TextEncoder().encode(to) }));
  }

  campaign(): void {
    this.step(message({ type: "hup", from: this.id, to: this.id }));
  }

  // ---------------------------------------------------------------------------------------------
  // Roles.

  becomeFollower(term: number, leader: NodeId | null): void {
    this.reset(term);
    this.stepRole = (m) => this.stepFollower(m);
    this.tickRole = () => this.tickElection();
    this.leader = leader;
    this.role = "follower";
  }

  private becomePreCandidate(): void {
    assert(this.role !== "leader", "a leader does not become a pre-candidate");
    // A pre-candidate keeps its term and vote: it only asks whether it could win.
    this.stepRole = (m) => this.stepCandidate(m);
    this.tickRole = () => this.tickElection();
    this.votes.clear();
    this.leader = null;
    this.role = "preCandidate";
  }

  private becomeCandidate(): void {
    assert(this.role !== "leader", "a leader does not become a candidate");
    this.reset(this.term + 1);
    this.stepRole = (m) => this.stepCandidate(m);
    this.tickRole = () => this.tickElection();
    this.vote = this.id;
    this.role = "candidate";
  }

  private becomeLeader(): void {
    assert(this.role === "candidate", "only a candidate becomes leader");
    this.reset(this.term);
    this.stepRole = (m) => this.stepLeader(m);
    this.tickRole = () => this.tickHeartbeat();
    this.leader = this.id;
    this.role = "leader";
    this.syncProgress();
    this.progress.get(this.id)?.becomeReplicate();
    // §5.4.2, §8: a new leader commits an entry of its own term so that it learns which
    // entries are committed, and so that ReadIndex and membership changes can proceed.
    this.appendEntries([{ term: this.term, index: this.log.lastIndex() + 1, type: "empty", data: new Uint8Array(0) }]);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, `term goes back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeoutTicks + this.prng.int(0, this.electionTimeoutTicks - 1);
    this.leadTransferee = null;
    this.votes.clear();
    this.progress.clear();
    this.uncommittedBytes = 0;
    this.uncommittedBatches = [];
    this.pendingReads.clear();
    this.readsBeforeTermCommit = [];
  }

  /** Whether this node may campaign: it is a voter of its latest configuration, or its removal
   * is not committed yet. Without the second case a leader that proposed its own removal and
   * then lost its quorum (check-quorum) could deadlock the cluster: the remaining voters may
   * still need its vote (their latest configuration lacks the removal) and it holds the longer log. */
  promotable(): boolean {
    if (this.confs.latest().voters.includes(this.id)) return true;
    return this.confs.at(this.log.committed).voters.includes(this.id);
  }

  private hup(transfer: boolean): void {
    if (this.role === "leader") return;
    if (!this.promotable()) return;
    if (this.preVote && !transfer) this.campaignAs("preCandidate", false);
    else this.campaignAs("candidate", transfer);
  }

  private campaignAs(role: "preCandidate" | "candidate", transfer: boolean): void {
    let type: MessageType;
    let term: number;
    if (role === "preCandidate") {
      this.becomePreCandidate();
      type = "preVote";
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      type = "vote";
      term = this.term;
    }
    this.votes.set(this.id, true);
    if (this.pollResult() === "won") {
      if (role === "preCandidate") this.campaignAs("candidate", transfer);
      else this.becomeLeader();
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const to of this.confs.latest().voters) {
      if (to === this.id) continue;
      this.send(
        message({ type, from: this.id, to, term, index, logTerm, context: transfer ? transferContext : null }),
      );
    }
  }

  private pollResult(): "won" | "lost" | "pending" {
    const voters = this.confs.latest().voters;
    const quorum = Math.floor(voters.length / 2) + 1;
    let granted = 0;
    let rejected = 0;
    for (const v of voters) {
      const answer = this.votes.get(v);
      if (answer === true) granted++;
      else if (answer === false) rejected++;
    }
    if (granted >= quorum) return "won";
    if (rejected > voters.length - quorum) return "lost";
    return "pending";
  }

  // ---------------------------------------------------------------------------------------------
  // Ticks.

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: "hup", from: this.id, to: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: "checkQuorum", from: this.id, to: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (§3.10).
      if (this.role === "leader") this.leadTransferee = null;
    }
    if (this.role !== "leader") return;
    if (this.heartbeatElapsed >= this.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: "beat", from: this.id, to: this.id }));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Follower and candidate.

  private stepFollower(m: Message): void {
    switch (m.type) {
      case "append":
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleHeartbeat(m);
        return;
      case "snapshot":
        this.electionElapsed = 0;
        this.leader = m.from;
        this.handleSnapshot(m);
        return;
      case "transferLeader":
      case "readIndex":
        // Forwarded to the leader, which answers the reader (readIndexResponse) directly.
        if (this.leader === null || m.from !== this.id) return;
        this.send(message({ ...m, from: this.id, to: this.leader, term: 0 }));
        return;
      case "readIndexResponse":
        assert(m.context !== null, "readIndexResponse has a context");
        this.readStates.push({ index: m.index, context: m.context });
        return;
      case "timeoutNow":
        // §3.10: the leader asks us to start an election now, skipping pre-vote and lease.
        this.hup(true);
        return;
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const responseType: MessageType = this.role === "preCandidate" ? "preVoteResponse" : "voteResponse";
    switch (m.type) {
      case "append":
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case "snapshot":
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      default:
        break;
    }
    if (m.type !== responseType) return;
    if (!this.confs.latest().voters.includes(m.from)) return;
    this.votes.set(m.from, !m.reject);
    const result = this.pollResult();
    if (result === "won") {
      if (this.role === "preCandidate") this.campaignAs("candidate", false);
      else {
        this.becomeLeader();
        this.broadcastAppend();
      }
    } else if (result === "lost") {
      // A rejection with a higher term already made us a follower at the top of step().
      this.becomeFollower(this.term, null);
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message({ type: "appendResponse", from: this.id, to: m.from, index: this.log.committed }));
      return;
    }
    if (!this.log.matchTerm(m.index, m.logTerm)) {
      // §5.3 fast back-off: point the leader at the last index whose term is <= its entry's term.
      const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
      this.send(
        message({
          type: "appendResponse",
          from: this.id,
          to: m.from,
          index: m.index,
          reject: true,
          rejectHint: hint.index,
          logTerm: hint.term,
        }),
      );
      return;
    }
    const lastNew = m.index + m.entries.length;
    const conflict = this.log.findConflict(m.entries);
    if (conflict !== 0) {
      // §5.3: delete the conflicting entry and all that follow it; never a committed one.
      assert(conflict > this.log.committed, `entry ${conflict} conflicts with committed ${this.log.committed}`);
      const written = m.entries.slice(conflict - m.index - 1);
      this.log.append(written);
      this.confs.written(written);
    }
    this.log.commitTo(Math.min(m.commit, lastNew));
    this.send(message({ type: "appendResponse", from: this.id, to: m.from, index: lastNew }));
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, commit), so this never passes our log.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(message({ type: "heartbeatResponse", from: this.id, to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const chunk = m.snapshot;
    if (chunk === null) return;
    const { index, term } = chunk.metadata;
    const reply = (nextOffset: number, reject: boolean): void =>
      this.send(message({ type: "snapshotResponse", from: this.id, to: m.from, index, rejectHint: nextOffset, reject }));
    if (index <= this.log.committed) {
      this.incoming = null;
      this.send(message({ type: "appendResponse", from: this.id, to: m.from, index: this.log.committed }));
      return;
    }
    if (chunk.totalBytes > limits.snapshotBytesMax) return; // refused: the leader keeps retrying
    const current = this.incoming;
    const sameTransfer =
      current !== null && current.index === index && current.term === term && current.from === m.from && current.messageTerm === m.term && current.totalBytes === chunk.totalBytes;
    if (!sameTransfer) {
      this.incoming = null;
      if (chunk.offset !== 0) {
        reply(0, true);
        return;
      }
      this.incoming = { from: m.from, messageTerm: m.term, totalBytes: chunk.totalBytes, index, term, chunks: [], received: 0 };
    }
    const incoming = this.incoming;
    assert(incoming !== null, "a snapshot transfer is under way");
    if (chunk.offset !== incoming.received) {
      reply(incoming.received, true);
      return;
    }
    incoming.chunks.push(chunk.data);
    incoming.received += chunk.data.length;
    assert(incoming.received <= chunk.totalBytes, "snapshot chunks do not exceed the total");
    if (!chunk.done) {
      reply(incoming.received, false);
      return;
    }
    assert(incoming.received === chunk.totalBytes, "a done snapshot has all its bytes");
    this.incoming = null;
    const data = concatBytes(incoming.chunks, incoming.received);
    if (this.restore({ metadata: chunk.metadata, data })) {
      this.send(message({ type: "appendResponse", from: this.id, to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(message({ type: "appendResponse", from: this.id, to: m.from, index: this.log.committed }));
    }
  }

  /** §7: install a leader's snapshot; returns false when the log already holds it. */
  restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    assert(this.role === "follower", "only a follower installs a snapshot");
    if (this.log.matchTerm(index, term)) {
      // Our log already has the entry: the snapshot only tells us it is committed.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.confs.reset(confState, index);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Leader.

  private tickLeaderCheckQuorum(): void {
    const voters = this.confs.latest().voters;
    const quorum = Math.floor(voters.length / 2) + 1;
    let active = 0;
    for (const v of voters) {
      if (v === this.id || this.progress.get(v)?.recentActive === true) active++;
    }
    for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
    // §6.2: a leader cut off from its majority steps down, so clients go elsewhere.
    if (active < quorum) this.becomeFollower(this.term, null);
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case "beat":
        this.broadcastHeartbeat(null);
        return;
      case "checkQuorum":
        this.tickLeaderCheckQuorum();
        return;
      case "readIndex":
        this.leaderReadIndex(m);
        return;
      case "transferLeader":
        this.leaderTransfer(m.context === null ? "" : textDecoder.decode(m.context));
        return;
      default:
        break;
    }
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case "appendResponse":
        pr.recentActive = true;
        this.handleAppendResponse(m, pr);
        return;
      case "heartbeatResponse":
        pr.recentActive = true;
        pr.probeSent = false;
        if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.state === "snapshot" && pr.snapshotChunkOut) {
          // A chunk or its answer was lost: send it again after a few quiet heartbeats.
          pr.snapshotStallHeartbeats++;
          if (pr.snapshotStallHeartbeats >= 3) this.sendSnapshotChunk(m.from, pr);
        }
        if (pr.match < this.log.lastIndex()) this.maybeSendAppend(m.from, true);
        if (m.context !== null) this.ackRead(m.from, m.context);
        return;
      case "snapshotResponse":
        pr.recentActive = true;
        if (pr.state !== "snapshot" || pr.pendingSnapshotIndex !== m.index) return;
        pr.snapshotOffset = m.rejectHint;
        pr.snapshotChunkOut = false;
        this.sendSnapshotChunk(m.from, pr);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    if (m.reject) {
      let probeFrom = m.rejectHint;
      if (m.logTerm > 0) probeFrom = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, probeFrom)) {
        if (pr.state === "replicate") pr.becomeProbe();
        this.maybeSendAppend(m.from, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!(pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === "probe"))) return;
    if (pr.state === "probe") {
      pr.becomeReplicate();
    } else if (pr.state === "snapshot" && pr.match >= pr.pendingSnapshotIndex) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === "replicate") {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      if (this.role !== "leader") return; // it committed its own removal
      this.broadcastAppend();
    } else if (wasPaused) {
      this.maybeSendAppend(m.from, true);
    }
    // Pipeline: fill the follower's window.
    for (let i = 0; i < limits.inflightMessagesMax && this.maybeSendAppend(m.from, false); i++);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send(message({ type: "timeoutNow", from: this.id, to: m.from }));
    }
  }

  /** §5.3, §5.4.2: commit the highest index a quorum of voters holds, if it is of this term. */
  maybeCommit(): boolean {
    const voters = this.confs.latest().voters;
    const matches: number[] = [];
    for (const v of voters) matches.push(this.progress.get(v)?.match ?? 0);
    matches.sort((a, b) => b - a);
    const quorum = Math.floor(voters.length / 2) + 1;
    const candidate = matches[quorum - 1] ?? 0;
    if (candidate <= this.log.committed) return false;
    if (this.bugs.commitOlderTermByCount !== true && this.log.term(candidate) !== this.term) return false;
    this.log.commitTo(candidate);
    // Proposals of this term leave the uncommitted budget as they commit.
    const batches = this.uncommittedBatches;
    while (batches.length > 0 && (batches[0] as { lastIndex: number }).lastIndex <= candidate) {
      this.uncommittedBytes -= (batches.shift() as { bytes: number }).bytes;
    }
    assert(this.uncommittedBytes >= 0, "uncommitted bytes never go negative");
    this.afterCommit();
    return true;
  }

  private afterCommit(): void {
    if (this.log.term(this.log.committed) === this.term && this.readsBeforeTermCommit.length > 0) {
      const reads = this.readsBeforeTermCommit;
      this.readsBeforeTermCommit = [];
      for (const r of reads) this.leaderReadIndex(r);
    }
    // §6 (thesis 4.2.2): a leader removed from the configuration steps down once the removal
    // is committed; until then it manages the cluster without counting itself.
    if (!this.confs.latest().voters.includes(this.id) && this.log.committed >= this.confs.latestIndex()) {
      this.broadcastAppend();
      this.becomeFollower(this.term, null);
    }
  }

  private appendEntries(entries: Entry[]): void {
    this.log.append(entries);
    this.confs.written(entries);
    if (entries.some((e) => e.type === "confChange")) this.syncProgress();
    this.progress.get(this.id)?.maybeUpdate(this.log.lastIndex());
    this.maybeCommit();
  }

  /** Makes the progress map match the latest configuration (leader only). */
  private syncProgress(): void {
    const conf: ConfState = this.confs.latest();
    const members = new Set<NodeId>([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = conf.learners.includes(id);
      const pr = this.progress.get(id);
      if (pr !== undefined) {
        pr.isLearner = isLearner;
        continue;
      }
      const fresh = new Progress(this.log.lastIndex() + 1, isLearner);
      if (id === this.id) fresh.match = this.log.lastIndex();
      fresh.recentActive = true;
      this.progress.set(id, fresh);
    }
  }

  broadcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.maybeSendAppend(id, true);
  }

  private broadcastHeartbeat(context: Uint8Array | null): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      // The commit a follower may learn is capped by what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send(message({ type: "heartbeat", from: this.id, to: id, commit, context }));
    }
  }

  /** Sends one append (or a snapshot chunk) to a follower; returns whether it sent anything. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === null || pr.next < this.log.firstIndex()) {
      const snap = this.log.snapshot();
      pr.becomeSnapshot(snap.metadata.index, snap.metadata.term);
      this.sendSnapshotChunk(to, pr);
      return true;
    }
    const last = this.log.lastIndex();
    const entries =
      pr.next <= last
        ? this.log.slice(pr.next, Math.min(last + 1, pr.next + this.entriesPerMessageMax), limits.entriesPerMessageBytesMax)
        : [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of entries) bytes += e.data.length;
    this.send(
      message({ type: "append", from: this.id, to, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed }),
    );
    pr.sentEntries(prevIndex + entries.length, bytes);
    return true;
  }

  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const snap = this.log.snapshot();
    if (snap.metadata.index !== pr.pendingSnapshotIndex || snap.metadata.term !== pr.pendingSnapshotTerm) {
      // A newer snapshot replaced the one being sent: start over with it.
      pr.becomeSnapshot(snap.metadata.index, snap.metadata.term);
    }
    assert(snap.data.length <= limits.snapshotBytesMax, "snapshot within snapshotBytesMax");
    const offset = Math.min(pr.snapshotOffset, snap.data.length);
    const data = snap.data.subarray(offset, offset + this.snapshotChunkBytes);
    const chunk: SnapshotChunk = {
      metadata: snap.metadata,
      offset,
      totalBytes: snap.data.length,
      data,
      done: offset + data.length >= snap.data.length,
    };
    pr.snapshotChunkOut = true;
    pr.snapshotStallHeartbeats = 0;
    this.send(message({ type: "snapshot", from: this.id, to, snapshot: chunk }));
  }

  private leaderTransfer(to: NodeId): void {
    if (to === this.id || to === this.leadTransferee) return;
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isLearner) return;
    this.leadTransferee = to;
    this.electionElapsed = 0; // the transfer gets one election timeout to finish
    if (pr.match === this.log.lastIndex()) this.send(message({ type: "timeoutNow", from: this.id, to }));
    else this.maybeSendAppend(to, true);
  }

  // ---------------------------------------------------------------------------------------------
  // ReadIndex (§6.4): note the commit index, confirm leadership with a quorum, then answer.

  private leaderReadIndex(m: Message): void {
    assert(m.context !== null, "readIndex has a context");
    const voters = this.confs.latest().voters;
    if (voters.length === 1 && voters[0] === this.id) {
      this.answerRead(m, this.log.committed);
      return;
    }
    if (this.log.term(this.log.committed) !== this.term) {
      // Step 1: until an entry of this term commits, the leader's commit index may be stale.
      if (this.readsBeforeTermCommit.length < limits.pendingReadsMax) this.readsBeforeTermCommit.push(m);
      return;
    }
    if (this.bugs.readWithoutQuorum === true) {
      this.answerRead(m, this.log.committed);
      return;
    }
    const key = bytesKey(m.context);
    if (this.pendingReads.has(key)) return;
    if (this.pendingReads.size >= limits.pendingReadsMax) return; // the reader times out and retries
    this.pendingReads.set(key, { index: this.log.committed, request: m, acks: new Set([this.id]) });
    this.broadcastHeartbeat(m.context);
  }

  private ackRead(from: NodeId, context: Uint8Array): void {
    const key = bytesKey(context);
    const read = this.pendingReads.get(key);
    if (read === undefined) return;
    read.acks.add(from);
    const voters = this.confs.latest().voters;
    let acked = 0;
    for (const v of voters) if (read.acks.has(v)) acked++;
    if (acked < Math.floor(voters.length / 2) + 1) return;
    // This read and every read queued before it are confirmed by the same quorum.
    for (const [k, r] of this.pendingReads) {
      this.pendingReads.delete(k);
      this.answerRead(r.request, r.index);
      if (k === key) break;
    }
  }

  private answerRead(request: Message, index: number): void {
    assert(request.context !== null, "a read has a context");
    if (request.from === this.id) this.readStates.push({ index, context: request.context });
    else this.send(message({ type: "readIndexResponse", from: this.id, to: request.from, index, context: request.context }));
  }

  // ---------------------------------------------------------------------------------------------

  /** Queues a message built by message() for this call alone (so its term may be set here). */
  private send(m: Message): void {
    const sized = m as { -readonly [K in keyof Message]: Message[K] };
    if (!(isResponseWithOwnTerm(m.type) && m.term !== 0)) sized.term = this.term;
    assert(!isLocal(sized.type), `local message ${sized.type} is never sent`);
    assert(sized.to !== this.id, `message ${sized.type} to self`);
    const bytes = messageSizeBytes(sized);
    const max = messageSizeBytesMax(sized.type);
    assert(bytes <= max || sized.entries.length === 1, `message ${sized.type} of ${bytes} bytes over its class limit ${max}`);
    this.msgs.push(sized);
  }

  /** The configuration in force once entry `index` is applied (for the caller's snapshots). */
  confStateAt(index: number): ConfState {
    return this.confs.at(index);
  }
}

function isLocal(type: MessageType): boolean {
  return type === "hup" || type === "beat" || type === "checkQuorum" || type === "propose";
}

/** Vote replies carry the term they answer for (a pre-vote's may be ahead of ours). */
function isResponseWithOwnTerm(type: MessageType): boolean {
  return type === "voteResponse" || type === "preVoteResponse" || type === "vote" || type === "preVote";
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bytesKey(bytes: Uint8Array): string {
  let key = "";
  for (const b of bytes) key += String.fromCharCode(b);
  return key;
}

function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

