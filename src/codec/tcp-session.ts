// The TCP side of the codec, without sockets: a session is fed the bytes a connection receives
// and says what to write, what arrived and when the peer is authenticated. It starts with a
// challenge-response handshake, then carries sequenced frames:
//
//   dialer -> listener   hello     {n: dialer nonce, to: listener id, s: dialer's next UDP sequence,
//                                   r: the dialer's UDP run id (random per process; absent from
//                                   builds before it, which is accepted as "run unknown")}
//                                  tagged with the dialer's current TCP key
//   listener -> dialer   challenge {n: dialer nonce, m: listener nonce, to: dialer id, s: ..., r: ...}
//                                  tagged with the listener's current TCP key
//   dialer -> listener   confirm   {m: listener nonce}, tagged with the dialer-to-listener key
//
// Both session keys (one per direction) are HMACs, under the TCP key the hello was tagged with,
// of both node ids, the cluster id and both nonces: a frame of one connection never verifies in
// another, and a recorded handshake cannot be replayed (the other side's nonce is fresh).
// After the handshake, each direction numbers its frames from 1 and the receiver demands exactly
// the next number. A frame with a bad header, tag or sequence closes the connection (the stream
// cannot be trusted after it); a verified frame with an unknown type or a bad body is dropped
// and counted, and the connection stays.

import { randomBytes } from "node:crypto";
import { assert, limits } from "../lib/index.ts";
import { decodeCbor, encodeCbor } from "./cbor.ts";
import { decodeMessage } from "./datagram.ts";
import type { DropCounter } from "./drops.ts";
import type { DropReason, FrameHeader } from "./frame.ts";
import { finishFrame, frameBody, isValidNodeId, nodeIdBytes, prepareFrame, sameClusterId, sealFrame, verifyFrameTag } from "./frame.ts";
import { hmac, verifyingKeys, type ClusterKeys } from "./keys.ts";
import type { Message, MessageRegistry } from "./registry.ts";
import { isBytes, isRecord, isUint } from "./registry.ts";
import { StreamReader } from "./stream-reader.ts";

const { handshakeBodyBytesMax, nonceBytes, tcpBodyBytesMax } = limits;

export const handshakeTypes = { hello: 1, challenge: 2, confirm: 3 } as const;

export type SessionRole = "dialer" | "listener";

export interface TcpSessionOptions {
  role: SessionRole;
  nodeId: string;
  keys: ClusterKeys;
  registry: MessageRegistry;
  drops: DropCounter;
  /** The dialer's intended peer; a challenge from anyone else fails the handshake. */
  peer?: string;
  /**
   * This node's next UDP sequence, told to the peer so it can resync its replay window; a function
   * is asked when the hello or challenge is written.
   */
  udpSequence: number | (() => number);
  /** This node's UDP run id (random per process): a peer moves its window back only for a new run. */
  udpRun?: number;
  /** The peer's address, for drop logs. */
  address?: string;
  /** Random bytes (tests inject a deterministic source). */
  random?: (bytes: number) => Uint8Array;
}

export interface SessionOutput {
  /** Frames to write to the connection, in order. */
  readonly writes: Uint8Array[];
  /** Messages received, in order. */
  readonly messages: Message[];
  /** Set once, when the handshake completes. */
  /** peerUdpRun is undefined when the peer sent none (an older build). */
  established: { readonly peer: string; readonly peerUdpSequence: number; readonly peerUdpRun: number | undefined } | null;
  /** Set when the connection must be closed; the drop was counted. */
  failed: DropReason | null;
}

type State = "start" | "hello_sent" | "await_hello" | "challenge_sent" | "open" | "failed";

interface Hello { n: Uint8Array; to: string; s: number; r?: number }
interface Challenge { n: Uint8Array; m: Uint8Array; to: string; s: number; r?: number }
interface Confirm { m: Uint8Array }

const isNonce = (v: unknown): v is Uint8Array => isBytes(v, nonceBytes) && (v as Uint8Array).length === nonceBytes;
// `r` is optional: builds before it send none, and both must keep talking (protocol version 1).
const isRun = (r: unknown): boolean => r === undefined || (isUint(r) && (r as number) > 0);
const isHello = (v: unknown): v is Hello => isRecord(v) && isNonce(v.n) && isValidNodeId(v.to) && isUint(v.s) && isRun(v.r);
const isChallenge = (v: unknown): v is Challenge =>
  isRecord(v) && isNonce(v.n) && isNonce(v.m) && isValidNodeId(v.to) && isUint(v.s) && isRun(v.r);
const isConfirm = (v: unknown): v is Confirm => isRecord(v) && isNonce(v.m);

export class TcpSession {
  private state: State;
  private readonly options: TcpSessionOptions;
  private readonly random: (bytes: number) => Uint8Array;
  private readonly senderBytes: Uint8Array;
  private ownNonce: Uint8Array | null = null;
  private peerId: string | null = null;
  private sendKey: Uint8Array | null = null;
  private receiveKey: Uint8Array | null = null;
  private sendSequence = 1;
  private receiveSequence = 1;

  constructor(options: TcpSessionOptions) {
    assert(options.role === "listener" || options.peer !== undefined, "a dialer knows its peer");
    this.options = options;
    this.random = options.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.senderBytes = nodeIdBytes(options.nodeId);
    this.state = options.role === "dialer" ? "start" : "await_hello";
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  get peer(): string | null {
    return this.peerId;
  }

  /** The dialer's first frame (the hello). */
  start(): Uint8Array {
    assert(this.options.role === "dialer" && this.state === "start", "start a dialer once");
    this.ownNonce = this.random(nonceBytes);
    this.state = "hello_sent";
    const hello: Hello = { n: this.ownNonce, to: this.options.peer as string, s: this.ownUdpSequence(), ...this.ownRun() };
    return this.sealWith(handshakeTypes.hello, encodeCbor(hello), 0, this.options.keys.current.tcp);
  }

  /** Seals a message on the open session. */
  seal(message: Message, encodedBody: Uint8Array = encodeCbor(message.body)): Uint8Array {
    return this.sealPrepared(this.prepare(message, encodedBody));
  }

  /** A frame for the message, still without sequence and tag: it may wait in a queue (sealPrepared). */
  prepare(message: Message, encodedBody: Uint8Array): Uint8Array {
    assert(this.options.registry.isValid(message), `message of type ${message.type} is registered and valid`);
    assert(encodedBody.length <= tcpBodyBytesMax, "body within tcpBodyBytesMax");
    return prepareFrame(message.type, this.options.keys.clusterId, this.options.nodeId, encodedBody, this.senderBytes);
  }

  /** Numbers and tags a prepared frame on the open session, in place; returns it. */
  sealPrepared(frame: Uint8Array): Uint8Array {
    assert(this.state === "open" && this.sendKey !== null, "seal on an open session");
    finishFrame(frame, this.sendSequence, this.sendKey);
    this.sendSequence += 1;
    return frame;
  }

  /** Handles one whole frame cut from the stream (see StreamReader). */
  receive(frame: Uint8Array, header: FrameHeader, out: SessionOutput): void {
    if (this.state === "failed") return;
    if (!sameClusterId(header, this.options.keys.clusterId)) return this.fail(out, "wrong_cluster", header.sender);
    if (this.state === "open") return this.receiveData(frame, header, out);
    if (this.peerId !== null && header.sender !== this.peerId) return this.fail(out, "wrong_sender", header.sender);
    switch (this.state) {
      case "await_hello":
        return this.receiveHello(frame, header, out);
      case "hello_sent":
        return this.receiveChallenge(frame, header, out);
      case "challenge_sent":
        return this.receiveConfirm(frame, header, out);
      default:
        return this.fail(out, "handshake_failed", header.sender);
    }
  }

  /**
   * Marks the session failed for a reason found outside (a bad header in the stream, a timeout)
   * or inside. Once the handshake is done the connection is the peer's (it proved its key), so a
   * drop is counted under the peer's id; before, under the address (a claimed id proves nothing).
   */
  fail(out: SessionOutput, reason: DropReason, sender?: string, version?: number): void {
    const authenticated = this.state === "open";
    this.state = "failed";
    out.failed = reason;
    this.options.drops.drop({
      peer: authenticated ? (this.peerId as string) : sender ?? this.options.peer ?? this.options.address ?? "unknown",
      reason,
      authenticated,
      ...(version === undefined ? {} : { version }),
      ...(this.options.address === undefined ? {} : { address: this.options.address }),
    });
  }

  private receiveHello(frame: Uint8Array, header: FrameHeader, out: SessionOutput): void {
    if (header.type !== handshakeTypes.hello || header.sequence !== 0) return this.fail(out, "handshake_failed", header.sender);
    const baseKey = this.verifyWithAny(frame, header);
    if (baseKey === null) return this.fail(out, "bad_tag", header.sender);
    const hello = decodeCbor(frameBody(frame, header));
    if (hello === null || !isHello(hello.value)) return this.fail(out, "invalid_body", header.sender);
    if (hello.value.to !== this.options.nodeId || header.sender === this.options.nodeId) {
      return this.fail(out, "handshake_failed", header.sender);
    }
    this.peerId = header.sender;
    this.ownNonce = this.random(nonceBytes);
    this.deriveSessionKeys(baseKey, header.sender, this.options.nodeId, hello.value.n, this.ownNonce);
    this.peerUdpSequence = hello.value.s;
    this.peerUdpRun = hello.value.r;
    const challenge: Challenge = { n: hello.value.n, m: this.ownNonce, to: header.sender, s: this.ownUdpSequence(), ...this.ownRun() };
    out.writes.push(this.sealWith(handshakeTypes.challenge, encodeCbor(challenge), 0, this.options.keys.current.tcp));
    this.state = "challenge_sent";
  }

  private peerUdpSequence = 0;
  private peerUdpRun: number | undefined;

  private ownRun(): { r?: number } {
    return this.options.udpRun === undefined ? {} : { r: this.options.udpRun };
  }

  private ownUdpSequence(): number {
    const s = this.options.udpSequence;
    return typeof s === "number" ? s : s();
  }

  private receiveChallenge(frame: Uint8Array, header: FrameHeader, out: SessionOutput): void {
    if (header.type !== handshakeTypes.challenge || header.sequence !== 0) return this.fail(out, "handshake_failed", header.sender);
    if (header.sender !== this.options.peer) return this.fail(out, "wrong_sender", header.sender);
    if (this.verifyWithAny(frame, header) === null) return this.fail(out, "bad_tag", header.sender);
    const challenge = decodeCbor(frameBody(frame, header));
    if (challenge === null || !isChallenge(challenge.value)) return this.fail(out, "invalid_body", header.sender);
    const own = this.ownNonce as Uint8Array;
    if (challenge.value.to !== this.options.nodeId || !bytesEqual(challenge.value.n, own)) {
      return this.fail(out, "handshake_failed", header.sender);
    }
    this.peerId = header.sender;
    this.deriveSessionKeys(this.options.keys.current.tcp, this.options.nodeId, header.sender, own, challenge.value.m);
    const confirm: Confirm = { m: challenge.value.m };
    out.writes.push(this.sealWith(handshakeTypes.confirm, encodeCbor(confirm), 0, this.sendKey as Uint8Array));
    this.state = "open";
    out.established = { peer: header.sender, peerUdpSequence: challenge.value.s, peerUdpRun: challenge.value.r };
  }

  private receiveConfirm(frame: Uint8Array, header: FrameHeader, out: SessionOutput): void {
    if (header.type !== handshakeTypes.confirm || header.sequence !== 0) return this.fail(out, "handshake_failed", header.sender);
    if (!verifyFrameTag(frame, header, [this.receiveKey as Uint8Array])) return this.fail(out, "bad_tag", header.sender);
    const confirm = decodeCbor(frameBody(frame, header));
    if (confirm === null || !isConfirm(confirm.value)) return this.fail(out, "invalid_body", header.sender);
    if (!bytesEqual(confirm.value.m, this.ownNonce as Uint8Array)) return this.fail(out, "handshake_failed", header.sender);
    this.state = "open";
    out.established = { peer: header.sender, peerUdpSequence: this.peerUdpSequence, peerUdpRun: this.peerUdpRun };
  }

  private receiveData(frame: Uint8Array, header: FrameHeader, out: SessionOutput): void {
    if (header.sender !== this.peerId) return this.fail(out, "wrong_sender", header.sender);
    if (!verifyFrameTag(frame, header, [this.receiveKey as Uint8Array])) return this.fail(out, "bad_tag", header.sender);
    if (header.sequence !== this.receiveSequence) return this.fail(out, "replayed", header.sender);
    this.receiveSequence += 1;
    const opened = decodeMessage(this.options.registry, header.type, frameBody(frame, header), header.sender);
    if (opened.ok) {
      out.messages.push(opened.message);
    } else {
      this.options.drops.drop({
        peer: header.sender,
        reason: opened.reason,
        authenticated: true,
        ...(this.options.address === undefined ? {} : { address: this.options.address }),
      });
    }
  }

  private verifyWithAny(frame: Uint8Array, header: FrameHeader): Uint8Array | null {
    for (const key of verifyingKeys(this.options.keys, "tcp")) {
      if (verifyFrameTag(frame, header, [key])) return key;
    }
    return null;
  }

  private deriveSessionKeys(base: Uint8Array, dialer: string, listener: string, dialerNonce: Uint8Array, listenerNonce: Uint8Array): void {
    const transcript = encodeCbor(["edge-esdb tcp session v1", this.options.keys.clusterId, dialer, listener, dialerNonce, listenerNonce]);
    const toListener = hmac(base, transcript, new TextEncoder().encode("dialer->listener"));
    const toDialer = hmac(base, transcript, new TextEncoder().encode("listener->dialer"));
    const isDialer = this.options.role === "dialer";
    this.sendKey = isDialer ? toListener : toDialer;
    this.receiveKey = isDialer ? toDialer : toListener;
  }

  private sealWith(type: number, body: Uint8Array, sequence: number, key: Uint8Array): Uint8Array {
    return sealFrame(
      { type, clusterId: this.options.keys.clusterId, sequence, sender: this.options.nodeId, body },
      key,
      this.senderBytes,
    );
  }
}

export function emptyOutput(): SessionOutput {
  return { writes: [], messages: [], established: null, failed: null };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A session and the stream reader in front of it: what one TCP connection needs. */
export class TcpChannel {
  readonly session: TcpSession;
  // Until the handshake is done the peer is unknown: it may send only handshake-sized frames, so
  // an unauthenticated connection cannot make us buffer (and HMAC) a 34 MiB body.
  private readonly reader = new StreamReader(handshakeBodyBytesMax);

  constructor(options: TcpSessionOptions) {
    this.session = new TcpSession(options);
  }

  start(): Uint8Array {
    return this.session.start();
  }

  seal(message: Message, encodedBody?: Uint8Array): Uint8Array {
    return this.session.seal(message, encodedBody);
  }

  /** Feeds received bytes; handles every whole frame in them. Stop using the channel once failed. */
  receiveBytes(chunk: Uint8Array): SessionOutput {
    const out = emptyOutput();
    this.reader.push(chunk);
    for (;;) {
      const next = this.reader.next();
      if (next.kind === "need_more") break;
      if (next.kind === "error") {
        this.session.fail(out, next.reason, next.sender, next.version);
        break;
      }
      this.session.receive(next.frame, next.header, out);
      if (out.failed !== null) break;
      if (out.established !== null) this.reader.setBodyBytesMax(tcpBodyBytesMax);
    }
    return out;
  }
}
