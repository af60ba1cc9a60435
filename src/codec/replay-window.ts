// UDP replay protection. Each sender numbers its datagrams with one sequence that only grows and
// keeps up with the wall clock: a run starts at (milliseconds since 2020) * 4096
// (udpSequenceStart) and counts up by one; when it fell more than udpSequenceLagMsMax behind the
// clock it jumps to the clock itself and counts by one from there. So a restarted sender starts above everything it sent before,
// as long as its clock did not go back and it sent fewer than 4096 frames per millisecond. A
// receiver keeps per sender the highest sequence seen and a sliding window of replayWindowFrames
// behind it (a bitmap, as IPsec does, RFC 4303 3.4.3): behind the window or already seen is a
// replay; inside the window and new is accepted once (UDP may reorder).
//
// A sender the receiver has no window for (the receiver just started, or forgot the sender) gets
// a window whose floor is the sequence of udpSequenceAgeMsMax ago: a datagram captured more than
// that long before is refused when replayed after the receiver restarts (a fresher one may be
// accepted once, as a fresh beacon may), and a live sender is heard at once. This assumes, as
// discovery beacons do (beaconWindowMsDefault), that the nodes' clocks agree within that window
// (less the sender's lag, udpSequenceLagMsMax). A sender whose clock is further behind is refused
// until a TCP handshake tells the receiver its next sequence and run (resync): authenticated and
// fresh, that creates the window, or moves it back for a run the window does not know yet.

import { assert, limits } from "../lib/index.ts";
import type { Clock } from "./drops.ts";

const { handshakeTimeoutMs, replaySendersMax, replayWindowFrames, udpSequenceAgeMsMax, udpSequenceLagMsMax } = limits;

/**
 * How far one run's sequence can get past the value its handshake announced: a jump to the clock
 * (udpSequenceLagMsMax) plus the handshake's time (handshakeTimeoutMs), in sequence units, with
 * a second's margin. Beyond it the sender must have restarted with its clock behind.
 */
const sameRunGapMax = (udpSequenceLagMsMax + handshakeTimeoutMs + 1_000) * 4096;

const epoch2020Ms = 1_577_836_800_000;

/** The first UDP sequence of a run started at this wall-clock time. */
export function udpSequenceStart(nowMs: number): number {
  return Math.max(0, Math.floor(nowMs - epoch2020Ms)) * 4096;
}

class SenderWindow {
  highest: number;
  /** The sender's run, once a handshake told it (undefined for a window made by datagrams alone). */
  run: number | undefined;
  private readonly floor: number;
  private readonly seen = new Uint32Array(replayWindowFrames / 32);

  /** A window where nothing below `first` is acceptable and nothing from `first` on was seen. */
  constructor(first: number, run?: number) {
    this.highest = first - 1;
    this.floor = first;
    this.run = run;
  }

  check(sequence: number): boolean {
    if (sequence < this.floor) return false;
    if (sequence > this.highest) return true;
    if (this.highest - sequence >= replayWindowFrames) return false;
    return !this.bit(sequence);
  }

  mark(sequence: number): void {
    if (sequence > this.highest) {
      if (sequence - this.highest >= replayWindowFrames) {
        this.seen.fill(0);
      } else {
        for (let s = this.highest + 1; s < sequence; s++) this.setBit(s, false);
      }
      this.highest = sequence;
    }
    this.setBit(sequence, true);
  }

  private bit(sequence: number): boolean {
    const index = sequence % replayWindowFrames;
    return ((this.seen[index >>> 5] as number) & (1 << (index & 31))) !== 0;
  }

  private setBit(sequence: number, value: boolean): void {
    const index = sequence % replayWindowFrames;
    const word = index >>> 5;
    const mask = 1 << (index & 31);
    this.seen[word] = value ? (this.seen[word] as number) | mask : (this.seen[word] as number) & ~mask;
  }
}

export class ReplayWindows {
  // Insertion order is recency order: a sender moves to the end when a frame of it is accepted.
  private readonly senders = new Map<string, SenderWindow>();

  /** `now` is the wall clock (ms): it sets the floor of a new sender's window. */
  constructor(private readonly now: Clock = Date.now) {}

  /** Null when this sequence from this sender is new, else why not (`stale`: older than a new
   * sender's floor; `replayed`: seen, or behind the window). It records nothing (see accept). */
  check(sender: string, sequence: number): "replayed" | "stale" | null {
    const window = this.senders.get(sender);
    if (window === undefined) return sequence >= this.freshFloor() ? null : "stale";
    return window.check(sequence) ? null : "replayed";
  }

  /** Records the sequence as seen. Only for a frame whose tag verified and that passed check. */
  accept(sender: string, sequence: number): void {
    assert(this.check(sender, sequence) === null, "accept only what check allowed");
    let window = this.senders.get(sender);
    if (window === undefined) {
      window = new SenderWindow(this.freshFloor());
    } else {
      this.senders.delete(sender);
    }
    this.senders.set(sender, window);
    window.mark(sequence);
    this.evict();
  }

  /**
   * Tells the windows a sender's next sequence and run, learnt from an authenticated, fresh
   * source (a TCP handshake). A sender without a window gets one from `next` (so a sender whose
   * clock is behind is heard, and nothing it sent before is). Otherwise the window is moved back
   * to `next` only for a sender that restarted with its clock behind:
   * - the same run as the window knows: never (within a run the sequence only grows; a handshake
   *   must not reopen datagrams already accepted to replay);
   * - another run, both known: when the window is a whole width ahead of `next`;
   * - a run unknown on either side (the window was made by datagrams alone, or an older peer
   *   sends no run): only when the window is further ahead than one run can be of its own
   *   handshake value (sameRunGapMax): the value is taken when the hello or challenge is written,
   *   the sequence may jump to the clock once (udpSequenceLagMsMax) and the handshake ends within
   *   handshakeTimeoutMs. A sender restarted less far behind is heard again once its sequence
   *   passes the window (within udpSequenceLagMsMax plus that gap).
   * A window moved back for a new run may accept once a datagram of the old run numbered above
   * `next`: sequences are per sender, not per run (the price of needing no stored state).
   */
  resync(sender: string, next: number, run?: number): void {
    const window = this.senders.get(sender);
    if (window === undefined) {
      this.senders.set(sender, new SenderWindow(next, run));
      this.evict();
      return;
    }
    if (run !== undefined && window.run === run) return;
    const ahead = window.highest - next;
    const bothKnown = run !== undefined && window.run !== undefined;
    if (bothKnown ? ahead >= replayWindowFrames : ahead > sameRunGapMax) {
      this.senders.delete(sender);
      this.senders.set(sender, new SenderWindow(next, run));
      this.evict();
    } else if (run !== undefined) {
      window.run = run;
    }
  }

  highestOf(sender: string): number | undefined {
    return this.senders.get(sender)?.highest;
  }

  /** The least sequence accepted from a sender without a window: its clock udpSequenceAgeMsMax ago. */
  private freshFloor(): number {
    return udpSequenceStart(this.now() - udpSequenceAgeMsMax);
  }

  private evict(): void {
    if (this.senders.size > replaySendersMax) this.senders.delete(this.senders.keys().next().value as string);
  }
}
