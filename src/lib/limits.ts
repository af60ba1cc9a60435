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
/** Bytes of appends waiting for the group committer at most (one larger append may still enter an empty queue). */
export const appendQueueBytesMax = 128 * MiB;
/** Callers waiting for room in a full queue at most; beyond this an append fails at once with `unavailable`. */
export const appendWaitersMax = 65_536;
/**
 * WAL pages after which a commit checkpoints them into the database file: SQLite's default,
 * about 4 MiB. Measured against 10,000: a longer WAL gave 7-10% more single appends per second
 * at `normal` and 20% more for 64 appenders to 64 streams, but at `full` the WAL file grew for
 * longer after every start (an fsync that extends a file costs more: batch-1 appends fell from
 * 0.93-0.95 to 0.79-0.83 of raw), recent reads went through a larger WAL index, and the file
 * took up to 40 MiB. Not worth it for a device that restarts; revisit with the node layer.
 */
export const walAutocheckpointPages = 1000;
/** After a checkpoint resets the WAL, a WAL file larger than this is truncated to it (one big transaction can grow it). */
export const walFileBytesMax = 8 * MiB;
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
/** An idle kept-alive HTTP connection closes after this by default (SSE live reads are exempt). */
export const httpIdleTimeoutSecondsDefault = 60;
/**
 * After answering a client that sent its request within this many µs of the previous answer, the
 * gateway keeps polling its sockets this long before it may sleep (src/api/busy-poll.ts): the
 * `busyPollUs` setting's default; 0 turns it off.
 */
export const httpBusyPollUsDefault = 100;
/** The `busyPollUs` setting at most: a poll holds a core, and a client that sends more often than this would keep one busy all the time. */
export const httpBusyPollUsMax = 1_000;
/** Shutdown waits this long for in-flight requests before closing connections. */
export const httpShutdownMsMax = 3_000;
/**
 * Open persistent-subscription deliveries the gateway remembers for ack/nack by id, over all its
 * consumers. Beyond it the oldest id is forgotten (an ack of it reports it missed; the event was
 * most likely taken back by its ack timeout long before).
 */
export const httpDeliveriesOpenMax = 65_536;
/** Unix socket paths, in bytes (sun_path is 108 bytes on Linux, with its NUL). */
export const unixSocketPathBytesMax = 107;

// --------------------------------------------------- subscriptions and telemetry (src/subscriptions, src/telemetry)

/** Events one subscriber buffers for its consumer by default; past this it falls back to catch-up reads. */
export const liveBufferCountDefault = 1024;
/** The live buffer setting at most. */
export const liveBufferCountMax = 65_536;
/** Events the live fan-out reads from the store and hands out in one turn of the event loop. */
export const fanOutEventsPerTurnMax = 1024;
/** Events one catch-up read of a subscriber asks for at most (also bounded by its free buffer). */
export const catchUpPageCountMax = 512;
/**
 * Bytes of events (data and metadata as stored: JSON text length, bytes' length) one subscriber
 * buffers at most, beside the count bound: past it the subscriber falls back to catch-up reads,
 * which also size their pages to it. A budget on stored size, not a measure of heap (parsed
 * objects take a small factor more). An event larger than the bound is still buffered alone.
 */
export const feedBufferBytesMax = 8 * MiB;
/** What one buffered event costs beside its data and metadata (ids, type, the object), for that bound. */
export const feedEventOverheadBytes = 256;
/** Parked events one read brings back for replay; at most four reads' worth are held at once. */
export const parkedReplayPageCountMax = 256;
/** Catch-up subscriptions open on one store at most (each holds a bounded buffer). */
export const catchUpSubscriptionsMax = 4096;
/** Persistent subscriptions kept by one store at most. */
export const persistentSubscriptionsMax = 1024;
/** Consumers joined to one persistent subscription at most. */
export const consumersPerSubscriptionMax = 256;
/** Unacknowledged events per consumer by default (the in-flight limit). */
export const inFlightPerConsumerDefault = 64;
/** The in-flight setting at most. */
export const inFlightPerConsumerMax = 10_000;
/** Events a persistent subscription holds outstanding (in flight or waiting to retry) at most. */
export const outstandingPerSubscriptionMax = 20_000;
/** An event not acknowledged within this time is taken back and redelivered. */
export const ackTimeoutMsDefault = 30_000;
/** Deliveries of one event after its first (nack retry or ack timeout) before it is parked. */
export const retryCountMaxDefault = 5;
/** The retry count setting at most. */
export const retryCountMax = 1000;
/** Back-off before a retried event is delivered again: the first delay, doubling up to the cap. */
export const retryBackoffMsMinDefault = 100;
export const retryBackoffMsMaxDefault = 10_000;
/** A subscription with work that makes no progress for this long is reported stalled. */
export const stalledAfterMsDefault = 30_000;
/** Acknowledged progress is written to the store at most this often (and on close). */
export const checkpointIntervalMsDefault = 1_000;
/** Any millisecond setting of a subscription at most (a day). */
export const subscriptionSettingMsMax = 86_400_000;
/** Telemetry handlers attached at most. */
export const telemetryHandlersMax = 256;
