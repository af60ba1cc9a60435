// The read-only view of the persisted log that the core reads from, and MemoryStorage, an
// in-memory implementation that ships for tests, the simulator and the benchmark (as etcd's
// storage.go). The caller writes to its storage when it handles a Ready; the core only reads.

import { assert } from "../lib/index.ts";
import type { ConfState, Entry, HardState, Snapshot } from "./types.ts";
import { emptyHardState } from "./types.ts";

export interface InitialState {
  readonly hardState: HardState;
}

export interface Storage {
  initialState(): InitialState;
  /** Entries [lo, hi), at most maxBytes of data (at least one entry). lo >= firstIndex(), hi <= lastIndex()+1. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The term of entry i, for firstIndex()-1 <= i <= lastIndex(); null outside that range. */
  term(i: number): number | null;
  /** The first index still held as an entry (the snapshot's index plus one). */
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (its data may be empty for the bootstrap snapshot). */
  snapshot(): Snapshot;
}

export class MemoryStorage implements Storage {
  private hard: HardState = emptyHardState();
  private snap: Snapshot;
  /** ents[0] is a dummy holding the snapshot's index and term. */
  private ents: Entry[];

  constructor(snapshot?: Snapshot) {
    this.snap = snapshot ?? { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) };
    this.ents = [dummy(this.snap.metadata.index, this.snap.metadata.term)];
    if (snapshot !== undefined) this.hard = { term: snapshot.metadata.term, vote: null, commit: snapshot.metadata.index };
  }

  /** A fresh storage of a founding member: the configuration as a snapshot at index 1, term 1,
   * so that every later member receives it by snapshot and no entry ever needs it. */
  static bootstrap(confState: ConfState, data: Uint8Array = new Uint8Array(0)): MemoryStorage {
    return new MemoryStorage({ metadata: { index: 1, term: 1, confState }, data });
  }

  initialState(): InitialState {
    return { hardState: this.hard };
  }

  hardState(): HardState {
    return this.hard;
  }

  setHardState(hardState: HardState): void {
    this.hard = hardState;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    assert(lo > offset, `storage.entries: ${lo} is compacted (first ${offset + 1})`);
    assert(hi <= this.lastIndex() + 1, `storage.entries: ${hi} beyond last ${this.lastIndex()}`);
    assert(lo <= hi, "storage.entries: lo <= hi");
    return limitBytes(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: number): number | null {
    const offset = this.offset();
    if (i < offset || i > this.lastIndex()) return null;
    return (this.ents[i - offset] as Entry).term;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the storage's contents with an installed snapshot (from a Ready). */
  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (index <= this.snap.metadata.index) return;
    this.snap = snapshot;
    this.ents = [dummy(index, term)];
  }

  /** Records the application's state at `index` as the latest snapshot (the log is unchanged). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assert(index > this.snap.metadata.index, "createSnapshot: newer than the current snapshot");
    assert(index <= this.lastIndex(), "createSnapshot: index within the log");
    const term = this.term(index);
    assert(term !== null, "createSnapshot: the entry at index is held");
    this.snap = { metadata: { index, term, confState }, data };
    return this.snap;
  }

  /** Drops the entries before `compactIndex` (the snapshot must cover them). */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) return;
    assert(compactIndex <= this.lastIndex(), "compact: index within the log");
    assert(compactIndex <= this.snap.metadata.index, "compact: a snapshot covers the dropped entries");
    const kept = this.ents.slice(compactIndex - offset);
    const first = kept[0] as Entry;
    kept[0] = dummy(first.index, first.term);
    this.ents = kept;
  }

  /** Appends entries from a Ready; entries at and after the first one's index are replaced. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0] as Entry;
    const offset = this.offset();
    assert(first.index <= this.lastIndex() + 1, `storage.append: gap before ${first.index}`);
    // Entries at or before the snapshot are already covered by it: skip them.
    const fresh = first.index <= offset ? entries.slice(offset + 1 - first.index) : entries;
    if (fresh.length === 0) return;
    const start = (fresh[0] as Entry).index - offset;
    this.ents.length = start;
    for (const e of fresh) this.ents.push(e);
  }

  /** A deep enough copy for the simulator's crash model (entries are immutable). */
  clone(): MemoryStorage {
    const copy = new MemoryStorage(this.snap);
    copy.ents = this.ents.slice();
    copy.hard = this.hard;
    return copy;
  }

  private offset(): number {
    return (this.ents[0] as Entry).index;
  }
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: "empty", data: new Uint8Array(0) };
}

/** The longest prefix within maxBytes of data, but never less than one entry. */
export function limitBytes(entries: Entry[], maxBytes: number): Entry[] {
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    bytes += (entries[i] as Entry).data.length;
    if (i > 0 && bytes > maxBytes) return entries.slice(0, i);
  }
  return entries;
}
