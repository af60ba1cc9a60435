// The UDP side of the codec: seals messages into single-datagram frames (tagged with the UDP key
// and bound to their receiver, numbered with the sender's growing, clock-following sequence) and
// opens received datagrams, checking in order: header and lengths, cluster id, tag (current or
// previous secret, bound to this node), replay window, message type, CBOR well-formedness, the
// type's validator. A dropped datagram is counted with its reason.

import { assert, limits } from "../lib/index.ts";
import { decodeCbor, encodeCbor } from "./cbor.ts";
import type { Clock, DropCounter } from "./drops.ts";
import type { DropReason } from "./frame.ts";
import { finishFrame, frameBody, nodeIdBytes, prepareFrame, readHeader, receiverBinding, sameClusterId, verifyFrameTag } from "./frame.ts";
import { verifyingKeys, type ClusterKeys } from "./keys.ts";
import type { Message, MessageRegistry } from "./registry.ts";
import { ReplayWindows, udpSequenceStart } from "./replay-window.ts";

const { replaySendersMax, udpFrameBytesMax, udpSequenceLagMsMax } = limits;

export interface CodecOptions {
  nodeId: string;
  keys: ClusterKeys;
  registry: MessageRegistry;
  drops: DropCounter;
  /** Wall clock (ms): UDP sequences follow it, and a new sender's replay window starts from it. */
  now?: Clock;
}

/** The reasons open() finds only after the tag verified: the sender is who it says. */
const afterTag: ReadonlySet<DropReason> = new Set<DropReason>(["replayed", "stale", "unknown_type", "malformed_body", "invalid_body"]);

export type OpenResult =
  | { readonly ok: true; readonly sender: string; readonly message: Message }
  | { readonly ok: false; readonly reason: DropReason; readonly sender?: string; readonly version?: number };

function newRunId(): number {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  let id = 0;
  for (const byte of bytes) id = id * 256 + byte;
  return id === 0 ? 1 : id;
}

export class DatagramCodec {
  readonly nodeId: string;
  readonly replay: ReplayWindows;
  private readonly keys: ClusterKeys;
  private readonly registry: MessageRegistry;
  private readonly drops: DropCounter;
  private readonly senderBytes: Uint8Array;
  private readonly ownBinding: Uint8Array;
  private readonly bindings = new Map<string, Uint8Array>();
  private readonly now: Clock;
  private nextSequence: number;

  constructor(options: CodecOptions) {
    this.nodeId = options.nodeId;
    this.keys = options.keys;
    this.registry = options.registry;
    this.drops = options.drops;
    this.now = options.now ?? Date.now;
    this.replay = new ReplayWindows(this.now);
    this.senderBytes = nodeIdBytes(options.nodeId);
    this.ownBinding = receiverBinding(options.nodeId);
    this.nextSequence = udpSequenceStart(this.now());
    this.run = newRunId();
  }

  /**
   * This run's id, told to peers in TCP handshakes: random (48 bits, never 0), so that a restart
   * is told from a reconnect even when the clock is wrong (a board without a real-time clock
   * boots in 1970, and every run would then start at sequence 0).
   */
  readonly run: number;

  /**
   * The sequence the next sealed datagram gets (told to peers in TCP handshakes): one more than
   * the last, unless that fell more than udpSequenceLagMsMax behind the clock; then it jumps to
   * the clock itself, and counts up by one from there for the next udpSequenceLagMsMax, so
   * datagrams sent together stay within one replay window (replay-window.ts).
   */
  get sequence(): number {
    const now = this.now();
    if (this.nextSequence < udpSequenceStart(now - udpSequenceLagMsMax)) this.nextSequence = udpSequenceStart(now);
    return this.nextSequence;
  }

  /**
   * The datagram for a message to `receiver`, or null when its frame would exceed
   * udpFrameBytesMax (send it over TCP instead). The message must be registered and valid:
   * anything else is a bug here.
   */
  sealTo(receiver: string, message: Message, encodedBody: Uint8Array = encodeCbor(message.body)): Uint8Array | null {
    assert(this.registry.isValid(message), `message of type ${message.type} is registered and valid`);
    // The sequence keeps up with the clock, so a receiver that has no window for us yet (it
    // restarted) and puts its floor near its clock still hears us (replay-window.ts).
    const sequence = this.sequence;
    const frame = prepareFrame(message.type, this.keys.clusterId, this.nodeId, encodedBody, this.senderBytes);
    if (frame.length > udpFrameBytesMax) return null;
    finishFrame(frame, sequence, this.keys.current.udp, this.bindingOf(receiver));
    this.nextSequence = sequence + 1;
    return frame;
  }

  /** The receiver binding of a peer, kept for the peers this node sends to (bounded). */
  private bindingOf(receiver: string): Uint8Array {
    let binding = this.bindings.get(receiver);
    if (binding === undefined) {
      if (this.bindings.size >= replaySendersMax) this.bindings.clear();
      binding = receiverBinding(receiver);
      this.bindings.set(receiver, binding);
    }
    return binding;
  }

  /**
   * Opens a datagram; a drop is counted and returned. A drop after the tag verified is counted
   * under the sender's node id, any other under the source address (the id is only a claim).
   */
  open(datagram: Uint8Array, address?: string): OpenResult {
    const result = this.check(datagram);
    if (!result.ok) {
      this.drops.drop({
        peer: result.sender ?? address ?? "unknown",
        reason: result.reason,
        authenticated: afterTag.has(result.reason),
        ...(result.version === undefined ? {} : { version: result.version }),
        ...(address === undefined ? {} : { address }),
      });
      return result.sender === undefined ? { ok: false, reason: result.reason } : { ok: false, reason: result.reason, sender: result.sender };
    }
    return result;
  }

  private check(datagram: Uint8Array): OpenResult {
    const read = readHeader(datagram, udpFrameBytesMax);
    if (!read.ok) return read;
    const header = read.header;
    const sender = header.sender;
    if (datagram.length < header.frameLength) return { ok: false, reason: "truncated", sender };
    if (datagram.length > header.frameLength) return { ok: false, reason: "length_mismatch", sender };
    if (!sameClusterId(header, this.keys.clusterId)) return { ok: false, reason: "wrong_cluster", sender };
    if (!verifyFrameTag(datagram, header, verifyingKeys(this.keys, "udp"), this.ownBinding)) return { ok: false, reason: "bad_tag", sender };
    const replay = this.replay.check(sender, header.sequence);
    if (replay !== null) return { ok: false, reason: replay, sender };
    this.replay.accept(sender, header.sequence);
    return decodeMessage(this.registry, header.type, frameBody(datagram, header), sender);
  }
}

/** The message in a verified frame's body: its type must be registered and its body valid. */
export function decodeMessage(registry: MessageRegistry, type: number, body: Uint8Array, sender: string): OpenResult {
  const messageType = registry.get(type);
  if (messageType === undefined) return { ok: false, reason: "unknown_type", sender };
  const decoded = decodeCbor(body);
  if (decoded === null) return { ok: false, reason: "malformed_body", sender };
  if (!messageType.validate(decoded.value)) return { ok: false, reason: "invalid_body", sender };
  return { ok: true, sender, message: { type, body: decoded.value } };
}
