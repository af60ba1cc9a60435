// What a leader knows of each follower's log (etcd's tracker/progress.go): the match and next
// index, whether it probes, pipelines, or sends a snapshot, and the in-flight window that limits
// both the messages and the bytes sent but not yet acknowledged (flow control).

import { assert, limits } from "../lib/index.ts";

export type ProgressState = "probe" | "replicate" | "snapshot";

/** The appends sent to one follower and not yet acknowledged: a FIFO of (last index, bytes). */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    private readonly countMax: number = limits.inflightMessagesMax,
    private readonly bytesMax: number = limits.inflightBytesMax,
  ) {}

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), "inflights: add to a full window");
    const prev = this.indexes[this.indexes.length - 1];
    assert(prev === undefined || lastIndex >= prev, "inflights: indexes grow");
    this.indexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= index (the follower acknowledged them). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.indexes.length && (this.indexes[n] as number) <= index) {
      this.bytes -= this.sizes[n] as number;
      n++;
    }
    if (n > 0) {
      this.indexes.splice(0, n);
      this.sizes.splice(0, n);
    }
  }

  /** Frees the oldest message: a heartbeat answer shows the follower is alive, and if the
   * window's messages were all lost, only a new append (rejected, then probed) recovers. */
  freeFirstOne(): void {
    if (this.indexes.length === 0) return;
    this.freeLE(this.indexes[0] as number);
  }

  full(): boolean {
    return this.indexes.length >= this.countMax || this.bytes >= this.bytesMax;
  }

  count(): number {
    return this.indexes.length;
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = "probe";
  /** In probe state: one append is out, wait for its answer (or a heartbeat response). */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  isLearner: boolean;
  /** In snapshot state: the snapshot being sent and the next chunk's offset. */
  pendingSnapshotIndex = 0;
  pendingSnapshotTerm = 0;
  snapshotOffset = 0;
  snapshotChunkOut = false;
  /** Heartbeat answers seen while a chunk is out: after a few, the chunk is sent again. */
  snapshotStallHeartbeats = 0;
  readonly inflights = new Inflights();

  constructor(next: number, isLearner: boolean) {
    assert(next >= 1, "progress: next >= 1");
    this.next = next;
    this.isLearner = isLearner;
  }

  becomeProbe(): void {
    if (this.state === "snapshot") {
      this.next = Math.max(this.match + 1, this.pendingSnapshotIndex + 1);
    } else {
      this.next = this.match + 1;
    }
    this.state = "probe";
    this.probeSent = false;
    this.pendingSnapshotIndex = 0;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.probeSent = false;
    this.pendingSnapshotIndex = 0;
    this.next = this.match + 1;
    this.inflights.reset();
  }

  becomeSnapshot(index: number, term: number): void {
    this.state = "snapshot";
    this.probeSent = false;
    this.pendingSnapshotIndex = index;
    this.pendingSnapshotTerm = term;
    this.snapshotOffset = 0;
    this.snapshotChunkOut = false;
    this.inflights.reset();
  }

  /** An acknowledgement up to index: returns whether it told the leader anything new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** After sending entries up to lastIndex: the optimistic next in replicate state. */
  sentEntries(lastIndex: number, bytes: number): void {
    if (this.state === "replicate") {
      if (lastIndex >= this.next) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === "probe") {
      this.probeSent = true;
    } else {
      assert(false, "progress: sent entries while sending a snapshot");
    }
  }

  /** A rejected append of `rejected` with a hint to probe from: returns whether it applies. */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false; // stale
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false; // stale: not the probe we sent
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader should hold back appends to this follower now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }
}
