// Every limit of the event store, as a named constant with its unit last. A limit that is hit
// gives a TooLargeError or InvalidArgumentError naming the constant, never a silent truncation.
// Raft's limits live in limits-raft.ts, the wire's in limits-wire.ts; all are re-exported here.

export * from "./limits-raft.ts";
export * from "./limits-wire.ts";

/**
 * Node ids (UTF-8 bytes): shared by raft and the wire. Declared here so that the copies in
 * limits-raft.ts and limits-wire.ts cannot disagree through this module (a local export wins
 * over `export *`).
 */
export const nodeIdBytesMax = 64;

const KiB = 1024;
const MiB = 1024 * KiB;

/** Stream ids: UTF-8 bytes. */
export const streamIdBytesMax = 512;
/** Event types: UTF-8 bytes. */
export const eventTypeBytesMax = 256;
/** One event: data plus metadata, encoded, in bytes. */
export const eventSizeBytesMax = 1 * MiB;
/** Events in one append. */
export const eventsPerAppendMax = 10_000;
/** All events of one append together, in bytes. */
export const appendBytesMax = 32 * MiB;
/** Events one read returns at most (callers page with from / fromPosition). */
export const readCountMax = 10_000;
/** Default page size of a read without a limit. */
export const readCountDefault = 4096;
/** Streams one streams() page returns at most. */
export const streamsPageCountMax = 10_000;
/** One snapshot's data plus metadata, in bytes. */
export const snapshotSizeBytesMax = 16 * MiB;
/** Content type strings, in bytes. */
export const contentTypeBytesMax = 128;
/** Appends the group committer folds into one transaction at most. */
export const groupCommitAppendsMax = 1024;
/** Bytes the group committer folds into one transaction at most. */
export const groupCommitBytesMax = 64 * MiB;
/** Appends waiting for the group committer at most; beyond this, callers wait (back-pressure). */
export const appendQueueCountMax = 65_536;
/** Subscription names: UTF-8 bytes. */
export const subscriptionNameBytesMax = 200;

// --------------------------------------------------------------- HTTP gateway (src/api)

/** A request body, in bytes, by default (the `bodyBytesMax` setting); checked before parsing. */
export const httpBodyBytesDefault = 8 * MiB;
/** The `bodyBytesMax` setting at most: an append's events plus JSON and base64 overhead. */
export const httpBodyBytesMax = 64 * MiB;
/** A comment line on an idle SSE stream this often by default, so proxies keep it open. */
export const sseHeartbeatIntervalMsDefault = 15_000;
/** Events one SSE catch-up step reads at a time (the stream waits for the client between steps). */
export const sseBatchCountMax = 512;
/** Open SSE streams at most; beyond this, a live read gets 503 unavailable. */
export const sseConnectionsMax = 1024;
/** Shutdown waits this long for in-flight requests before closing connections. */
export const httpShutdownMsMax = 3_000;
/** Unix socket paths, in bytes (sun_path is 108 bytes on Linux, with its NUL). */
export const unixSocketPathBytesMax = 107;
