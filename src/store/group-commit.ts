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

export class GroupCommitter {
  private readonly queue: Pending[] = [];
  private readonly waitingForRoom: Array<() => void> = [];
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
  ) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
    this.savepoint = db.prepare("SAVEPOINT write");
    this.release = db.prepare("RELEASE write");
    this.rollbackToSavepoint = db.prepare("ROLLBACK TO write");
  }

  /** Queues a write; resolves after the transaction holding it is committed (and fsync'd). */
  async submit<T>(operation: WriteOperation<T>, options: { bytes?: number; multiStatement?: boolean } = {}): Promise<T> {
    while (this.queue.length >= limits.appendQueueCountMax) {
      await new Promise<void>((resolve) => this.waitingForRoom.push(resolve));
    }
    if (this.closed) throw new StoreClosedError();
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ operation, bytes: options.bytes ?? 0, multiStatement: options.multiStatement ?? true, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Runs every queued write now; used by close() and by tests. */
  flushNow(): void {
    while (this.queue.length > 0) this.runGroup();
  }

  close(): void {
    this.flushNow();
    this.closed = true;
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
    for (const wake of this.waitingForRoom.splice(0, count)) wake();
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
      if (savepoint) {
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
