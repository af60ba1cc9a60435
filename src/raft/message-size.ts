// Each message type's size class (small: UDP, bulk: TCP) and the size of a message as a frame
// will carry it, so the transport can pick a channel and the core can assert every message fits.

import { limits, unreachable } from "../lib/index.ts";
import type { Message, MessageSizeClass, MessageType } from "./types.ts";

export function messageSizeClass(type: MessageType): MessageSizeClass {
  switch (type) {
    case "append":
    case "snapshot":
      return "bulk";
    case "appendResponse":
    case "heartbeat":
    case "heartbeatResponse":
    case "vote":
    case "voteResponse":
    case "preVote":
    case "preVoteResponse":
    case "snapshotResponse":
    case "readIndex":
    case "readIndexResponse":
    case "transferLeader":
    case "timeoutNow":
    case "hup":
    case "beat":
    case "checkQuorum":
    case "propose":
      return "small";
    default:
      return unreachable(type, "message type");
  }
}

export function messageSizeBytesMax(type: MessageType): number {
  return messageSizeClass(type) === "small" ? limits.smallMessageBytesMax : limits.bulkMessageBytesMax;
}

/** Fixed fields: type, five integers as 8 bytes each, reject flag, field tags. */
const headerBytes = 64;
/** Per entry: term, index, type, length prefix. */
const entryHeaderBytes = 24;
/** Snapshot chunk: index, term, offset, total, done, plus the configuration's ids. */
const chunkHeaderBytes = 40;

/** An upper bound of the message's encoded size (node ids counted as UTF-16 code units * 3). */
export function messageSizeBytes(m: Message): number {
  let bytes = headerBytes + idBytes(m.from) + idBytes(m.to);
  for (const e of m.entries) bytes += entryHeaderBytes + e.data.length;
  if (m.context !== null) bytes += m.context.length;
  if (m.snapshot !== null) {
    bytes += chunkHeaderBytes + m.snapshot.data.length;
    const conf = m.snapshot.metadata.confState;
    for (const id of conf.voters) bytes += 2 + idBytes(id);
    for (const id of conf.learners) bytes += 2 + idBytes(id);
  }
  return bytes;
}

function idBytes(id: string): number {
  return 2 + id.length * 3;
}
