// One writer per data dir. The lock is an exclusive transaction held on a small SQLite file for
// the writer's whole life: SQLite's file locks are released by the kernel when a process dies
// (no stale lock after kill -9), and SQLite also refuses a second connection in the same process.

import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { StoreLockedError } from "../lib/index.ts";
import { lockFileName } from "./schema.ts";

export class DataDirLock {
  private db: Database | null;

  private constructor(db: Database) {
    this.db = db;
  }

  /** Takes the lock; `holder` says, in the error another process gets, who holds it. */
  static acquire(dataDir: string, holder = "another edge-esdb process or store holds its lock"): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, lockFileName);
    const db = new Database(file, { create: true });
    try {
      db.run("PRAGMA busy_timeout = 0");
      db.run("PRAGMA locking_mode = EXCLUSIVE");
      db.run("BEGIN EXCLUSIVE");
      // Write to the lock file to take SQLite's exclusive lock on it, not only a reserved one.
      db.run("CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since INTEGER)");
      db.run("DELETE FROM holder");
      db.run("INSERT INTO holder VALUES (?, ?)", [process.pid, Date.now()]);
    } catch (error) {
      db.close();
      if (isBusy(error)) throw new StoreLockedError(dataDir, holder);
      throw error;
    }
    return new DataDirLock(db);
  }

  /**
   * Whether a writer holds the lock: a plain read of the lock file is refused with SQLITE_BUSY
   * while one does. "unknown" when the file cannot be read for another reason.
   */
  static isHeld(dataDir: string): boolean | "unknown" {
    const file = path.join(dataDir, lockFileName);
    if (!existsSync(file)) return false;
    let db: Database | null = null;
    try {
      db = new Database(file, { readonly: true });
      db.run("PRAGMA busy_timeout = 0");
      db.query("SELECT count(*) FROM sqlite_master").get();
      return false;
    } catch (error) {
      return isBusy(error) ? true : "unknown";
    } finally {
      db?.close();
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }

  release(): void {
    if (this.db === null) return;
    try {
      this.db.run("ROLLBACK");
    } finally {
      this.db.close();
      this.db = null;
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}
