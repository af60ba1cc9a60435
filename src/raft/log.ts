// The log as the core sees it: the stable part in Storage plus the unstable tail (entries and
// perhaps a snapshot) not yet handed to the caller to persist, and the commit and apply marks.
// Modelled on etcd's log.go and log_unstable.go.

import { assert } from "../lib/index.ts";
import type { Storage } from "./storage.ts";
import { limitBytes } from "./storage.ts";
import type { Entry, Snapshot } from "./types.ts";

export class RaftLog {
  readonly storage: Storage;
  /** Unstable entries start at this index. */
  private offset: number;
  private unstable: Entry[] = [];
  private unstableSnapshot: Snapshot | null = null;
  committed: number;
  applied: number;

  constructor(storage: Storage) {
    this.storage = storage;
    const first = storage.firstIndex();
    this.offset = storage.lastIndex() + 1;
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    if (this.unstableSnapshot !== null) return this.unstableSnapshot.metadata.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.offset + this.unstable.length - 1;
    if (this.unstableSnapshot !== null) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== null, "the last entry's term is known");
    return t;
  }

  /** The term of entry i, or null when it is compacted or beyond the log. */
  term(i: number): number | null {
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return null;
    if (i >= this.offset && this.unstable.length > 0) {
      const e = this.unstable[i - this.offset];
      if (e !== undefined) return e.term;
    }
    if (this.unstableSnapshot !== null && i === this.unstableSnapshot.metadata.index) {
      return this.unstableSnapshot.metadata.term;
    }
    if (this.unstableSnapshot !== null) return null;
    return this.storage.term(i);
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** Raft's "at least as up-to-date" (§5.4.1): a later last term wins, then a longer log. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The follower's append: if the entry before `entries` matches, write them (truncating a
   * conflicting suffix) and advance the commit; returns the last index now known to match. */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, entries: readonly Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with a committed entry (commit ${this.committed})`);
      this.append(entries.slice(conflict - prevIndex - 1));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries after the last index, or truncates the unstable tail and replaces it. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const first = (entries[0] as Entry).index;
    assert(first > this.committed, `append at ${first} would overwrite committed ${this.committed}`);
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    for (let i = 1; i < entries.length; i++) {
      assert((entries[i] as Entry).index === first + i, "appended entries are contiguous");
    }
    const end = this.offset + this.unstable.length;
    if (first === end) {
      for (const e of entries) this.unstable.push(e);
    } else if (first <= this.offset) {
      // Replaces the whole unstable tail; the stable entries after `first` are superseded and
      // the caller's storage truncates them when it appends these.
      this.offset = first;
      this.unstable = entries.slice();
    } else {
      this.unstable = this.unstable.slice(0, first - this.offset);
      for (const e of entries) this.unstable.push(e);
    }
    return this.lastIndex();
  }

  /** The index of the first entry that is new or conflicts by term, or 0 if all are present. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /** The largest index <= index whose term is <= term (for the fast back-off of §5.3). */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i >= 0; i--) {
      const t = this.term(i);
      if (t === null) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number, allowBeyondCommit = false): void {
    if (index === 0) return;
    assert(allowBeyondCommit || index <= this.committed, `applied ${index} beyond commit ${this.committed}`);
    assert(index >= this.applied, `applied goes back from ${this.applied} to ${index}`);
    this.applied = index;
  }

  hasUnstableEntries(): boolean {
    return this.unstable.length > 0;
  }

  unstableEntries(): Entry[] {
    return this.unstable.slice();
  }

  pendingSnapshot(): Snapshot | null {
    return this.unstableSnapshot;
  }

  /** The caller persisted entries up to (index, term): they leave the unstable tail. */
  stableTo(index: number, term: number): void {
    if (index < this.offset) return;
    const e = this.unstable[index - this.offset];
    if (e === undefined || e.term !== term) return; // superseded meanwhile
    this.unstable = this.unstable.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.unstableSnapshot !== null && this.unstableSnapshot.metadata.index === index) {
      this.unstableSnapshot = null;
    }
  }

  /** Entries the caller may apply: (applied, limit], at most maxBytes (at least one). */
  nextCommittedEntries(maxBytes: number, limit: number = this.committed): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (limit < lo) return [];
    return this.slice(lo, limit + 1, maxBytes);
  }

  hasNextCommittedEntries(limit: number = this.committed): boolean {
    return limit >= Math.max(this.applied + 1, this.firstIndex());
  }

  /** Entries [lo, hi) from storage and the unstable tail, at most maxBytes (at least one). */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo >= this.firstIndex(), `slice from ${lo} is compacted (first ${this.firstIndex()})`);
    assert(hi <= this.lastIndex() + 1, `slice to ${hi} beyond last ${this.lastIndex()}`);
    if (lo >= hi) return [];
    let out: Entry[] = [];
    if (lo < this.offset) {
      out = this.storage.entries(lo, Math.min(hi, this.offset), maxBytes);
      if (out.length < Math.min(hi, this.offset) - lo) return out; // byte limit reached
    }
    if (hi > this.offset) {
      const from = Math.max(lo, this.offset) - this.offset;
      const tail = this.unstable.slice(from, hi - this.offset);
      out = out.length === 0 ? tail : out.concat(tail);
    }
    return limitBytes(out, maxBytes);
  }

  /** Replaces the log with a snapshot (a follower far behind its leader). */
  restore(snapshot: Snapshot): void {
    const { index } = snapshot.metadata;
    assert(index > this.committed, "restore: the snapshot is newer than the commit");
    this.committed = index;
    this.applied = index;
    this.offset = index + 1;
    this.unstable = [];
    this.unstableSnapshot = snapshot;
  }

  /** The snapshot to send a follower: the caller's latest, or one being installed here. */
  snapshot(): Snapshot {
    return this.unstableSnapshot ?? this.storage.snapshot();
  }
}
