// Raft's limits (owned by src/raft). Units last in every name. Every queue, loop and message of
// the consensus core is bounded by one of these, so a slow or lost peer never grows memory
// without bound and every message fits the channel its size class picks.

const KiB = 1024;
const MiB = 1024 * KiB;

/** Ticks a follower waits without hearing from a leader before it (pre-)campaigns; the actual
 * timeout is drawn from [electionTimeoutTicks, 2 * electionTimeoutTicks) per term. */
export const electionTimeoutTicksDefault = 10;
/** Ticks between a leader's heartbeats. Must be well below the election timeout. */
export const heartbeatIntervalTicksDefault = 1;
/** Entries one append message carries at most. */
export const entriesPerMessageMax = 256;
/** Entry bytes one append message carries at most (soft: a single larger entry still goes alone). */
export const entriesPerMessageBytesMax = 1 * MiB;
/** Append messages in flight to one follower at most (flow control). */
export const inflightMessagesMax = 64;
/** Entry bytes in flight to one follower at most (flow control). */
export const inflightBytesMax = 8 * MiB;
/** One snapshot chunk's data bytes at most. */
export const snapshotChunkBytesMax = 256 * KiB;
/** A whole snapshot's data bytes at most. */
export const snapshotBytesMax = 1024 * MiB;
/**
 * One entry's data bytes at most: an append of appendBytesMax (32 MiB) plus its encoding fits,
 * and a message carrying one such entry still fits one TCP frame (tcpBodyBytesMax, 34 MiB).
 */
export const entryDataBytesMax = 33 * MiB;
/** Bytes of proposed-but-uncommitted entries a leader holds at most; beyond, proposals are refused. */
export const uncommittedBytesMax = 64 * MiB;
/** Entry bytes handed to the application to apply in one Ready at most (soft: at least one). */
export const committedEntriesPerReadyBytesMax = 4 * MiB;
/** A small message (vote, heartbeat, reply) travels by UDP: it must fit one datagram with room
 * for the frame header and HMAC tag. */
export const smallMessageBytesMax = 1200;
/** A bulk message (entries, snapshot chunk) travels by TCP in one frame: at most tcpBodyBytesMax. */
export const bulkMessageBytesMax = 34 * MiB;
/** A ReadIndex request context (the caller's request id) in bytes at most. */
export const readContextBytesMax = 64;
/** ReadIndex requests a leader holds unanswered at most; beyond, requests are refused. */
export const pendingReadsMax = 4096;
/** Node ids: UTF-8 bytes at most (each message names two). */
export const nodeIdBytesMax = 64;
/** Voters plus learners in one cluster at most. */
export const clusterNodesMax = 16;
