// UDP replay protection. Each sender numbers its datagrams with one sequence that only grows: it
// starts a run at (milliseconds since 2020) * 4096 (udpSequenceStart) and counts up, so a
// restarted sender starts above everything it sent before, as long as its clock did not go back
// and it sent fewer than 4096 frames per millisecond on average. A receiver keeps per sender the
// highest sequence seen and a sliding window of replayWindowFrames behind it (a bitmap, as IPsec
// does, RFC 4303 3.4.3): behind the window or already seen is a replay; inside the window and
// new is accepted once (UDP may reorder).

import { assert, limits } from "../lib/index.ts";

const { replaySendersMax, replayWindowFrames } = limits;

const epoch2020Ms = 1_577_836_800_000;

/** The first UDP sequence of a run started at this wall-clock time. */
export function udpSequenceStart(nowMs: number): number {
  return Math.max(0, Math.floor(nowMs - epoch2020Ms)) * 4096;
}

class SenderWindow {
  highest: number;
  private readonly floor: number;
  private readonly seen = new Uint32Array(replayWindowFrames / 32);

  /** A window where nothing below `first` is acceptable and nothing from `first` on was seen. */
  constructor(first: number) {
    this.highest = first - 1;
    this.floor = first;
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

  /** True when this sequence from this sender is new. It records nothing (see accept). */
  check(sender: string, sequence: number): boolean {
    const window = this.senders.get(sender);
    return window === undefined || window.check(sequence);
  }

  /** Records the sequence as seen. Only for a frame whose tag verified and that passed check. */
  accept(sender: string, sequence: number): void {
    assert(this.check(sender, sequence), "accept only what check allowed");
    let window = this.senders.get(sender);
    if (window === undefined) {
      window = new SenderWindow(0);
    } else {
      this.senders.delete(sender);
    }
    this.senders.set(sender, window);
    window.mark(sequence);
    this.evict();
  }

  /**
   * Moves a sender's window to start at `next`, learnt from an authenticated, fresh source (a TCP
   * handshake), when it is below what was seen: a sender whose clock went back at restart is
   * heard again. Only a window a whole window width ahead is moved: frames in flight while the
   * handshake ran (a little ahead of `next`) stay refused if replayed.
   */
  resync(sender: string, next: number): void {
    const window = this.senders.get(sender);
    if (window === undefined || window.highest - next < replayWindowFrames) return;
    this.senders.delete(sender);
    this.senders.set(sender, new SenderWindow(next));
    this.evict();
  }

  highestOf(sender: string): number | undefined {
    return this.senders.get(sender)?.highest;
  }

  private evict(): void {
    if (this.senders.size > replaySendersMax) this.senders.delete(this.senders.keys().next().value as string);
  }
}
