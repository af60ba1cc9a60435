// The wire's limits (owned by src/codec, src/transport, src/discovery). Units last in every name.
// Every queue, cache and frame of the wire has its bound here, so memory stays bounded when a
// peer is slow, gone or hostile.

const KiB = 1024;
const MiB = 1024 * KiB;

// ---- Frames (src/codec) ----
/** Node ids on the wire: UTF-8 bytes (a UUID is 36). */
export const nodeIdBytesMax = 64;
/** Cluster names: UTF-8 bytes. */
export const clusterNameBytesMax = 63;
/** Shared secrets: at least this many bytes (a short secret is refused at start). */
export const secretBytesMin = 16;
/** Shared secrets: at most this many bytes. */
export const secretBytesMax = 1024;
/**
 * One UDP datagram, whole frame included. Below the 1500-byte Ethernet MTU minus IPv6 and UDP
 * headers, so a frame is never fragmented (a lost fragment loses the whole datagram).
 */
export const udpFrameBytesMax = 1400;
/**
 * One TCP frame's body. Holds one whole append (appendBytesMax, 32 MiB) with room for the
 * message around it; raft sends larger things (snapshots) in chunks.
 */
export const tcpBodyBytesMax = 34 * MiB;
/**
 * Bulk frames are encoded into arenas of this size, one after another (no copy of the body). A
 * queued frame keeps its arena alive, so a peer's bulk queue pins at most this much per frame
 * (bulkQueueCountMax x 512 KiB = 32 MiB), about its queued bytes in practice.
 */
export const frameArenaBytes = 512 * KiB;
/** A fresh arena is started when less than this is left: a 64 KiB body never overflows one. */
export const frameArenaRefillBytes = 128 * KiB;
/** Nesting depth of a CBOR body; deeper bodies are malformed. */
export const cborDepthMax = 32;
/** UDP replay window: sequence numbers behind the highest seen that may still arrive once. */
export const replayWindowFrames = 1024;
/**
 * A UDP datagram from a sender the receiver has no replay window for is accepted only when its
 * sequence (which follows the sender's clock) is at most this old: the beacons' window, and the
 * same assumption that the nodes' clocks agree within it.
 */
export const udpSequenceAgeMsMax = 30_000;
/**
 * A sender lets its UDP sequence fall at most this far behind its clock, then jumps to it. Not at
 * every datagram: a jump moves the receiver's window past everything sent before it (reordered
 * datagrams across a jump are lost), so it happens at most once per this interval. The clocks
 * must then agree within udpSequenceAgeMsMax minus this (25 s).
 */
export const udpSequenceLagMsMax = 5_000;
/** Senders whose UDP replay state a receiver keeps; the least recently heard is forgotten. */
export const replaySendersMax = 1024;
/** Senders (node ids and source IPs) whose drop counters are kept; the least recently counted is forgotten. */
export const dropPeersTrackedMax = 1024;
/** Drop log lines per sender (node id if authenticated, else source IP): at most one per this interval. */
export const dropLogIntervalMs = 60_000;
/** Drop log lines of one counter, all senders together: at most this many per dropLogIntervalMs. */
export const dropLogLinesPerIntervalMax = 20;
/** A TCP handshake must finish within this time, or the connection is closed. */
export const handshakeTimeoutMs = 5_000;
/** The largest frame body accepted on a TCP connection before its handshake is done. */
export const handshakeBodyBytesMax = 1024;
/** Nonce bytes in handshakes and beacons. */
export const nonceBytes = 16;

// ---- Transport (src/transport) ----
/** Small (UDP) messages queued per peer; when full the oldest is dropped (raft resends). */
export const smallQueueCountMax = 256;
/** Bulk (TCP) frames queued per peer; when full `send` waits (back-pressure). */
export const bulkQueueCountMax = 64;
/** Bulk bytes queued per peer; when over, `send` waits (back-pressure). */
export const bulkQueueBytesMax = 64 * MiB;
/** Senders waiting for room in one peer's bulk queue; beyond this `send` fails fast. */
export const bulkWaitersMax = 1024;
/** Bytes one TCP connection may buffer for a frame it is still receiving. */
export const tcpReadBufferBytesMax = tcpBodyBytesMax + 4 * KiB;
/** Reconnect back-off: first delay, and the cap it doubles up to (full jitter in between). */
export const reconnectDelayMsMin = 100;
export const reconnectDelayMsMax = 10_000;
/** Peers one transport knows at most. */
export const transportPeersMax = 1024;

// ---- Discovery (src/discovery) ----
/** Beacons older or newer than this (by their signed time) are ignored. */
export const beaconWindowMsDefault = 30_000;
/** Beacon nonces remembered to refuse a replay; the oldest is forgotten first. */
export const beaconNoncesMax = 4096;
/** Peers in the discovery table at most. */
export const discoveryPeersMax = 1024;
/** Addresses one beacon may carry. */
export const beaconAddressesMax = 8;
/** Default re-announce interval (each one jittered by up to a fifth either way). */
export const announceIntervalMsDefault = 1_000;
/** A peer is down after this many missed announcement intervals. */
export const missedAnnouncementsDownDefault = 3;
/** Default period of DNS discovery's re-resolution. */
export const dnsRefreshIntervalMsDefault = 30_000;
/** Answers to queries: at most one per this interval (a query storm makes no answer storm). */
export const queryAnswerIntervalMsMin = 250;
/** Unicast answers (to probes and legacy queries) per second at most: a flood of spoofed
 * queries cannot turn a node into a reflector. */
export const unicastAnswersPerSecondMax = 64;
/** Unicast answers per second to one source (address and port): a peer probes once per announce
 * interval (1 s by default, 100 ms in tests), and one noisy source cannot use up the answers
 * the others need. */
export const unicastAnswersPerSourcePerSecondMax = 16;
/** Sources whose unicast answers are counted within one second (the map is cleared each second). */
export const unicastSourcesPerSecondMax = 1024;
/** Static and DNS targets probed at most. */
export const probeTargetsMax = 256;
