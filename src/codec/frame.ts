// The frame: one format for UDP datagrams and TCP streams. Big-endian layout:
//
//   0  magic "EESD"            4 bytes
//   4  protocol version        u8
//   5  flags                   u8 (0; any other value is malformed)
//   6  message type            u16
//   8  cluster id              8 bytes (hash of the cluster name)
//  16  sequence                u64, at most 2^53 - 1 (UDP: per sender, see replay-window.ts;
//                              TCP: per connection and direction, from 1)
//  24  body length             u32
//  28  sender node id length   u8
//  29  sender node id          UTF-8, 1..nodeIdBytesMax bytes
//   .  body                    CBOR, body length bytes
//   .  tag                     HMAC-SHA256 over every byte before it, 32 bytes; for UDP, over
//                              every byte before it and then the receiver binding (below)
//
// A UDP datagram is bound to its receiver: its tag also covers the receiver's node id (a length
// byte, then the UTF-8 id: receiverBinding), which is not sent; the receiver verifies with its own
// id. So a datagram sealed for node B does not verify at node C of the same cluster, and cannot be
// replayed there. TCP frames need no binding: their session keys already cover both node ids.
// Protocol version: the binding is part of version 1, which no release has shipped without it.
// Had one shipped, this would be version 2: the bytes on the wire are the same, but the tag is
// not, so a node would have to keep verifying unbound version-1 datagrams from peers that still
// send them during a rolling upgrade, and send bound ones only once every peer reads version 2.
//
// Lengths are checked before anything is decoded or any tag computed; the body is decoded only
// after its tag verified.

import { assert, limits } from "../lib/index.ts";
import { encodeCborInto } from "./cbor.ts";
import { clusterIdBytes, hmac, tagBytes, tagsEqual } from "./keys.ts";

const { frameArenaBytes, frameArenaRefillBytes, nodeIdBytesMax } = limits;

export const frameMagic = new Uint8Array([0x45, 0x45, 0x53, 0x44]); // "EESD"
/** The protocol version this node speaks (and sends). */
export const protocolVersion = 1;
/** Versions this node can read. A rolling upgrade adds the next one here before sending it. */
export const protocolVersionsSupported: readonly number[] = [1];
export const fixedHeaderBytes = 29;
/** Bytes a frame adds around its body, at most (header, longest node id, tag). */
export const frameOverheadBytesMax = fixedHeaderBytes + nodeIdBytesMax + tagBytes;

/** Why a frame or a discovery beacon was dropped. `stale`: a beacon's time outside its window,
 * or a UDP sequence older than a new sender's window allows. Stable names: counted and logged. */
export type DropReason =
  | "truncated"
  | "bad_magic"
  | "unsupported_version"
  | "bad_header"
  | "oversized"
  | "length_mismatch"
  | "wrong_cluster"
  | "bad_tag"
  | "replayed"
  | "unknown_type"
  | "malformed_body"
  | "invalid_body"
  | "wrong_sender"
  | "handshake_failed"
  | "stale";

export const dropReasons: readonly DropReason[] = [
  "truncated",
  "bad_magic",
  "unsupported_version",
  "bad_header",
  "oversized",
  "length_mismatch",
  "wrong_cluster",
  "bad_tag",
  "replayed",
  "unknown_type",
  "malformed_body",
  "invalid_body",
  "wrong_sender",
  "handshake_failed",
  "stale",
];

export interface FrameFields {
  /** UDP: the node the frame is for; covered by the tag, not sent (see receiverBinding). */
  readonly receiver?: string;
  readonly type: number;
  readonly clusterId: Uint8Array;
  readonly sequence: number;
  readonly sender: string;
  readonly body: Uint8Array;
}

export interface FrameHeader {
  readonly version: number;
  readonly type: number;
  readonly clusterId: Uint8Array;
  readonly sequence: number;
  readonly bodyLength: number;
  readonly sender: string;
  /** Offset of the body in the frame. */
  readonly bodyOffset: number;
  /** Bytes of the whole frame, tag included. */
  readonly frameLength: number;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

export function nodeIdBytes(nodeId: string): Uint8Array {
  const bytes = textEncoder.encode(nodeId);
  assert(bytes.length >= 1 && bytes.length <= nodeIdBytesMax, `node id is 1..${nodeIdBytesMax} UTF-8 bytes`);
  return bytes;
}

export function isValidNodeId(nodeId: unknown): nodeId is string {
  if (typeof nodeId !== "string" || nodeId.length === 0) return false;
  const length = textEncoder.encode(nodeId).length;
  return length <= nodeIdBytesMax;
}

/** The bytes a UDP tag covers after the frame, for this receiver: its node id's length, then the id. */
export function receiverBinding(receiver: string): Uint8Array {
  const id = nodeIdBytes(receiver);
  const binding = new Uint8Array(1 + id.length);
  binding[0] = id.length;
  binding.set(id, 1);
  return binding;
}

/** Builds a frame and tags it with the key (and the receiver, when there is one: UDP). */
export function sealFrame(fields: FrameFields, key: Uint8Array, senderBytes = nodeIdBytes(fields.sender)): Uint8Array {
  const frame = prepareFrame(fields.type, fields.clusterId, fields.sender, fields.body, senderBytes);
  finishFrame(frame, fields.sequence, key, fields.receiver === undefined ? null : receiverBinding(fields.receiver));
  return frame;
}

/**
 * Bytes for a frame; a large one not zeroed (zeroing 64 KiB costs about as much as copying it),
 * so the caller writes every byte before the buffer is read or sent. A plain Uint8Array (not a
 * Buffer, whose slice() would not copy) with its own ArrayBuffer. Small frames (datagrams) take a
 * plain zeroed array: under Bun that is ten times cheaper than a Buffer for a few hundred bytes.
 */
export function allocFrameBytes(length: number): Uint8Array {
  if (length <= unzeroedBytesMin) return new Uint8Array(length);
  const bytes = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, length);
}
const unzeroedBytesMin = 8 * 1024;

/** What every frame builder checks of its caller's header fields. */
function assertFrameArgs(type: number, clusterId: Uint8Array): void {
  assert(clusterId.length === clusterIdBytes, "cluster id is 8 bytes");
  assert(Number.isInteger(type) && type >= 0 && type <= 0xffff, "type is a u16");
}

/**
 * Builds a frame without its sequence and tag (both zero), so it can wait in a queue and be
 * numbered and tagged when it is written (finishFrame), with no second copy of the body.
 */
export function prepareFrame(
  type: number,
  clusterId: Uint8Array,
  sender: string,
  body: Uint8Array,
  senderBytes = nodeIdBytes(sender),
): Uint8Array {
  assertFrameArgs(type, clusterId);
  const bodyOffset = fixedHeaderBytes + senderBytes.length;
  const frame = allocFrameBytes(bodyOffset + body.length + tagBytes);
  writeHeader(frame, type, clusterId, senderBytes, body.length);
  frame.set(body, bodyOffset);
  frame.fill(0, bodyOffset + body.length);
  return frame;
}

// Frames built by prepareFrameOf are carved one after another from an arena, each a view of it.
let arena = Buffer.allocUnsafeSlow(frameArenaBytes);
let arenaUsed = 0;

/**
 * Like prepareFrame, but encodes the body (CBOR) straight into the frame: a bulk body is written
 * once, not encoded and then copied. The frame is a view of a shared arena (frameArenaBytes)
 * and keeps it alive while it lives; a body larger than what is left of the arena is copied
 * into a frame of its own.
 */
export function prepareFrameOf(
  type: number,
  clusterId: Uint8Array,
  sender: string,
  value: unknown,
  senderBytes = nodeIdBytes(sender),
): Uint8Array {
  assertFrameArgs(type, clusterId);
  if (arena.length - arenaUsed < frameArenaRefillBytes) {
    arena = Buffer.allocUnsafeSlow(frameArenaBytes);
    arenaUsed = 0;
  }
  const start = arenaUsed;
  const bodyOffset = fixedHeaderBytes + senderBytes.length;
  const room = arena.subarray(start + bodyOffset, arena.length - tagBytes);
  const body = encodeCborInto(value, room);
  if (body.buffer !== room.buffer || body.byteOffset !== room.byteOffset) {
    return prepareFrame(type, clusterId, sender, body, senderBytes);
  }
  const frameLength = bodyOffset + body.length + tagBytes;
  const frame = new Uint8Array(arena.buffer, arena.byteOffset + start, frameLength);
  arenaUsed = Math.min(arena.length, (start + frameLength + 7) & ~7);
  writeHeader(frame, type, clusterId, senderBytes, body.length);
  frame.fill(0, bodyOffset + body.length);
  return frame;
}

/** Writes every header byte of a frame (the sequence as zero) into the start of `frame`. */
function writeHeader(frame: Uint8Array, type: number, clusterId: Uint8Array, senderBytes: Uint8Array, bodyLength: number): void {
  const view = new DataView(frame.buffer, frame.byteOffset, fixedHeaderBytes);
  frame.set(frameMagic, 0);
  view.setUint8(4, protocolVersion);
  view.setUint8(5, 0);
  view.setUint16(6, type);
  frame.set(clusterId, 8);
  view.setUint32(16, 0);
  view.setUint32(20, 0);
  view.setUint32(24, bodyLength);
  view.setUint8(28, senderBytes.length);
  frame.set(senderBytes, fixedHeaderBytes);
}

/** Writes a prepared frame's sequence, then its tag over everything before the tag (and the
 * receiver binding, for UDP). */
export function finishFrame(frame: Uint8Array, sequence: number, key: Uint8Array, binding: Uint8Array | null = null): void {
  assert(Number.isSafeInteger(sequence) && sequence >= 0, "sequence is a u53");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  view.setUint32(16, Math.floor(sequence / 0x1_0000_0000));
  view.setUint32(20, sequence >>> 0);
  const tagOffset = frame.length - tagBytes;
  const signed = frame.subarray(0, tagOffset);
  frame.set(binding === null ? hmac(key, signed) : hmac(key, signed, binding), tagOffset);
}

export type HeaderResult =
  | { readonly ok: true; readonly header: FrameHeader }
  | { readonly ok: false; readonly reason: DropReason; readonly sender?: string; readonly version?: number };

/**
 * Reads and checks a frame's header from the first bytes of `bytes` (which may hold less than
 * the whole frame on a stream: frameLength says how much to wait for). Checks magic, version,
 * flags, the node id and the body length against bodyBytesMax; decodes nothing else.
 */
export function readHeader(bytes: Uint8Array, bodyBytesMax: number): HeaderResult {
  if (bytes.length < fixedHeaderBytes) return { ok: false, reason: "truncated" };
  for (let i = 0; i < frameMagic.length; i++) {
    if (bytes[i] !== frameMagic[i]) return { ok: false, reason: "bad_magic" };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint8(4);
  const senderLength = view.getUint8(28);
  const senderEnd = fixedHeaderBytes + senderLength;
  const sender = senderLength >= 1 && senderLength <= nodeIdBytesMax && bytes.length >= senderEnd
    ? decodeNodeId(bytes.subarray(fixedHeaderBytes, senderEnd))
    : null;
  if (!protocolVersionsSupported.includes(version)) {
    return sender === null ? { ok: false, reason: "unsupported_version", version } : { ok: false, reason: "unsupported_version", version, sender };
  }
  if (view.getUint8(5) !== 0 || senderLength < 1 || senderLength > nodeIdBytesMax) return { ok: false, reason: "bad_header" };
  if (bytes.length < senderEnd) return { ok: false, reason: "truncated" };
  if (sender === null) return { ok: false, reason: "bad_header" };
  const sequenceHigh = view.getUint32(16);
  if (sequenceHigh > 0x1f_ffff) return { ok: false, reason: "bad_header", sender };
  const bodyLength = view.getUint32(24);
  if (bodyLength > bodyBytesMax) return { ok: false, reason: "oversized", sender };
  return {
    ok: true,
    header: {
      version,
      type: view.getUint16(6),
      clusterId: bytes.subarray(8, 16),
      sequence: sequenceHigh * 0x1_0000_0000 + view.getUint32(20),
      bodyLength,
      sender,
      bodyOffset: senderEnd,
      frameLength: senderEnd + bodyLength + tagBytes,
    },
  };
}

function decodeNodeId(bytes: Uint8Array): string | null {
  try {
    return textDecoder.decode(bytes);
  } catch {
    return null;
  }
}

export function sameClusterId(header: FrameHeader, clusterId: Uint8Array): boolean {
  for (let i = 0; i < clusterIdBytes; i++) if (header.clusterId[i] !== clusterId[i]) return false;
  return true;
}

/** True when the frame's tag verifies with one of the keys (bound to this receiver, for UDP).
 * `frame` is exactly one frame. */
export function verifyFrameTag(frame: Uint8Array, header: FrameHeader, keys: readonly Uint8Array[], binding: Uint8Array | null = null): boolean {
  assert(frame.length === header.frameLength, "verify one whole frame");
  const tagOffset = header.frameLength - tagBytes;
  const signed = frame.subarray(0, tagOffset);
  const tag = frame.subarray(tagOffset);
  for (const key of keys) {
    if (tagsEqual(binding === null ? hmac(key, signed) : hmac(key, signed, binding), tag)) return true;
  }
  return false;
}

export function frameBody(frame: Uint8Array, header: FrameHeader): Uint8Array {
  return frame.subarray(header.bodyOffset, header.bodyOffset + header.bodyLength);
}
