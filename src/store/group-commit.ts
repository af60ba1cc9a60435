// Group commit: writes that arrive together share one transaction and one fsync. Each write runs
// inside its own savepoint, so it keeps its own atomicity and its own outcome (one append's
// wrong expected version does not fail its neighbours). If the commit itself fails (full disk,
// I/O error), every write of the group fails with that error and nothing of the group is kept.

import type { Database, Statement } from "bun:sqlite";
import { EdgeEsdbError, StorageFullError, StoreClosedError, assert, limits } from "../lib/index.ts";

/**
 * One write: runs inside the group's transaction; throws a typed error to fail alone. It may
 * throw `retryWrite` on its first attempt: what it wrote is rolled back and it runs once more
 * with attempt 1 (the append path guesses optimistically, then looks things up).
 */
export type WriteOperation<T> = (attempt: number) => T;

export const retryWrite = Symbol("retry this write");

interface Pending {
  operation: WriteOperation<unknown>;
  bytes: number;
  /** A write of more than one statement runs in a savepoint, so a failure undoes it alone. */
  multiStatement: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitHooks {
  /** Called before a group starts, to remember state that a failed commit must restore. */
  beforeGroup(): void;
  /** Called after a failed commit, to restore that state. */
  afterRollback(): void;
  /** Called after a successful commit with the number of writes. */
  afterCommit?(writes: number): void;
}

/** How much the committer queues before callers wait, and how many may wait before appends fail. */
export interface QueueBounds {
  countMax: number;
  bytesMax: number;
  waitersMax: number;
}

const defaultBounds: QueueBounds = { countMax: limits.appendQueueCountMax, bytesMax: limits.appendQueueBytesMax, waitersMax: limits.appendWaitersMax };

export class GroupCommitter {
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  /** Callers waiting for room, in order, with the bytes each wants to queue. */
  private readonly waitingForRoom: Array<{ bytes: number; wake: () => void }> = [];
  private scheduled = false;
  private closed = false;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackToSavepoint: Statement;

  constructor(
    private readonly db: Database,
    private readonly hooks: GroupCommitHooks,
    private readonly bounds: QueueBounds = defaultBounds,
  ) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
    this.savepoint = db.prepare("SAVEPOINT write");
    this.release = db.prepare("RELEASE write");
    this.rollbackToSavepoint = db.prepare("ROLLBACK TO write");
  }

  /**
   * Queues a write; resolves after the transaction holding it is committed (and fsync'd). A full
   * queue (bounds.countMax writes or bounds.bytesMax bytes) makes callers wait for room, in
   * order; when bounds.waitersMax callers already wait, the write fails at once with
   * `unavailable` and nothing is written, so memory stays bounded however fast writes arrive.
   */
  async submit<T>(operation: WriteOperation<T>, options: { bytes?: number; multiStatement?: boolean } = {}): Promise<T> {
    const bytes = options.bytes ?? 0;
    // Behind callers that already wait, whether or not this write would fit now: first come, first queued.
    let behindOthers = this.waitingForRoom.length > 0;
    while (!this.closed && (behindOthers || this.isFull(bytes))) {
      behindOthers = false;
      if (this.waitingForRoom.length >= this.bounds.waitersMax) {
        throw new EdgeEsdbError(
          "unavailable",
          `the store's write queue is full (${this.queue.length} writes, ${this.queuedBytes} bytes queued, ${this.waitingForRoom.length} waiting): retry later`,
        );
      }
      await new Promise<void>((resolve) => this.waitingForRoom.push({ bytes, wake: resolve }));
    }
    if (this.closed) throw new StoreClosedError();
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ operation, bytes, multiStatement: options.multiStatement ?? true, resolve: resolve as (value: unknown) => void, reject });
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  /** Wakes waiters, oldest first, as long as the room left would take them. */
  private wakeThoseThatFit(): void {
    let count = this.queue.length;
    let bytes = this.queuedBytes;
    let woken = 0;
    for (const waiter of this.waitingForRoom) {
      if (count >= this.bounds.countMax || (count > 0 && bytes + waiter.bytes > this.bounds.bytesMax)) break;
      count++;
      bytes += waiter.bytes;
      woken++;
    }
    for (const waiter of this.waitingForRoom.splice(0, woken)) waiter.wake();
  }

  private isFull(bytes: number): boolean {
    if (this.queue.length >= this.bounds.countMax) return true;
    // One write larger than the byte bound still enters an empty queue.
    return this.queue.length > 0 && this.queuedBytes + bytes > this.bounds.bytesMax;
  }

  /** Callers waiting for room in the queue (for tests and health). */
  get waitingCount(): number {
    return this.waitingForRoom.length;
  }

  /** Runs every queued write now; used by close() and by tests. */
  flushNow(): void {
    while (this.queue.length > 0) this.runGroup();
  }

  close(): void {
    this.flushNow();
    this.closed = true;
    // Whoever still waits for room learns that the store closed.
    for (const waiter of this.waitingForRoom.splice(0)) waiter.wake();
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the current microtasks: every caller that was woken by the last
    // commit gets to queue its next write before this group starts.
    setImmediate(() => {
      this.scheduled = false;
      this.runGroup();
      if (this.queue.length > 0) this.schedule();
    });
  }

  private takeGroup(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < limits.groupCommitAppendsMax) {
      const next = this.queue[count] as Pending;
      if (count > 0 && bytes + next.bytes > limits.groupCommitBytesMax) break;
      bytes += next.bytes;
      count++;
    }
    const group = this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    this.wakeThoseThatFit();
    return group;
  }

  private runGroup(): void {
    const group = this.takeGroup();
    if (group.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    this.hooks.beforeGroup();
    try {
      this.begin.run();
      for (const pending of group) outcomes.push(this.runOne(pending));
      this.commit.run();
    } catch (error) {
      this.abortGroup(group, error);
      return;
    }
    assert(outcomes.length === group.length, "one outcome per write of the group");
    this.hooks.afterCommit?.(group.length);
    group.forEach((pending, i) => {
      const outcome = outcomes[i] as (typeof outcomes)[number];
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }

  private runOne(pending: Pending): { ok: true; value: unknown } | { ok: false; error: unknown } {
    // A write of one statement needs no savepoint: SQLite undoes a failed statement itself, and
    // such a write throws its typed errors before it writes. Savepoints cost two statements.
    const savepoint = pending.multiStatement;
    if (savepoint) this.savepoint.run();
    try {
      let value: unknown;
      try {
        value = pending.operation(0);
      } catch (error) {
        if (error !== retryWrite) throw error;
        if (savepoint) this.rollbackToSavepoint.run();
        value = pending.operation(1);
      }
      if (savepoint) this.release.run();
      return { ok: true, value };
    } catch (error) {
      assert(error !== retryWrite, "a write retries at most once");
      // Some errors (SQLITE_FULL, an I/O error) make SQLite roll back the whole transaction,
      // savepoint and all: then there is nothing to undo here, and the group fails with the
      // original error below, not with "no such savepoint".
      if (savepoint && this.db.inTransaction) {
        this.rollbackToSavepoint.run();
        this.release.run();
      }
      // A typed error fails this write alone. Anything else (I/O, full disk, a broken
      // invariant) fails the whole group: rethrow it.
      if (error instanceof EdgeEsdbError) return { ok: false, error };
      throw error;
    }
  }

  private abortGroup(group: Pending[], error: unknown): void {
    try {
      if (this.db.inTransaction) this.rollback.run();
    } catch {
      // The rollback of a failed transaction may itself fail (SQLite already rolled back).
    }
    this.hooks.afterRollback();
    const failure = translateStorageError(error);
    for (const pending of group) pending.reject(failure);
  }
}

/** Maps SQLite's errors to the store's typed errors where a caller can act on them. */
export function translateStorageError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "SQLITE_FULL") return new StorageFullError(error);
  return error;
}
