// The data of the Raft core: entries, messages, hard and soft state, snapshots, configuration,
// and the Ready batch handed to the caller. Everything is plain JS objects and Uint8Array, so a
// codec can frame it and the simulator can copy it without knowing the core.

export type NodeId = string;

/** "normal" carries the application's data; "confChange" one membership change (see
 * conf-change.ts); "empty" is the no-op a new leader appends to commit an entry of its term. */
export type EntryType = "normal" | "confChange" | "empty";

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be on disk before any message of the same Ready is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state, for the caller's information (who leads, what this node is). */
export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

/** The membership: voters elect and count toward quorums; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/** One piece of a snapshot on the wire; pieces go in order, the last has `done`. */
export interface SnapshotChunk {
  readonly metadata: SnapshotMetadata;
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

export type MessageType =
  // Local inputs: never sent on the wire.
  | "hup" // start an election (pre-vote first when enabled)
  | "beat" // leader: send heartbeats now
  | "checkQuorum" // leader: step down unless a quorum was heard from recently
  | "propose"
  // Between nodes.
  | "append"
  | "appendResponse"
  | "heartbeat"
  | "heartbeatResponse"
  | "vote"
  | "voteResponse"
  | "preVote"
  | "preVoteResponse"
  | "snapshot"
  | "snapshotResponse"
  | "readIndex" // local, or a follower forwarding a read to its leader
  | "readIndexResponse"
  | "transferLeader" // local, or a follower forwarding the request to its leader
  | "timeoutNow";

/** One flat message shape (as in etcd): fields a type does not use keep their zero values. */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** The term of the entry at `index` (append: the previous entry; vote: the last entry). */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** On a rejected append: the index the follower suggests probing from. */
  readonly rejectHint: number;
  /** ReadIndex request id; on vote requests, "transfer" marks a leadership transfer. */
  readonly context: Uint8Array | null;
  readonly snapshot: SnapshotChunk | null;
}

export type MessageSizeClass = "small" | "bulk";

/** What the caller must do, in this order: persist snapshot, entries and hard state (fsync when
 * mustSync), send messages, apply committedEntries, serve readStates, then advance(). */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

/** Bugs that the simulator's test plants to prove its checkers fail. Never set in production. */
export interface TestingBugs {
  /** Commit an entry of an older term by counting replicas (the paper's Figure 8). */
  readonly commitOlderTermByCount?: boolean;
  /** Grant a vote even when this term's vote already went to another candidate. */
  readonly grantTwoVotesInTerm?: boolean;
  /** Grant a vote without checking that the candidate's log is at least as up-to-date (§5.4.1). */
  readonly voteWithoutLogCheck?: boolean;
  /** Hand persisted but uncommitted entries to the application. */
  readonly applyBeforeCommit?: boolean;
  /** Answer ReadIndex at once, without confirming leadership with a quorum. */
  readonly readWithoutQuorum?: boolean;
}

export function emptyHardState(): HardState {
  return { term: 0, vote: null, commit: 0 };
}

export function isHardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

const noBytes = new Uint8Array(0);

/** A message with every unused field at its zero value. */
export function message(fields: Partial<Message> & Pick<Message, "type" | "from" | "to">): Message {
  // Field by field rather than by spreading: this runs for every message, and a literal of one
  // fixed shape is several times faster to build than a spread.
  return {
    type: fields.type,
    from: fields.from,
    to: fields.to,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? noEntries,
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    context: fields.context ?? null,
    snapshot: fields.snapshot ?? null,
  };
}

const noEntries: readonly Entry[] = Object.freeze([]);

export function emptyBytes(): Uint8Array {
  return noBytes;
}
