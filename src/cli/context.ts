// What every command needs: the resolved config and a way to open the store for inspection
// (read-only) or for writing.

import { Database } from "bun:sqlite";
import type { Command } from "commander";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { StoreLockedError } from "../lib/index.ts";
import { EventStore, lockFileName } from "../store/index.ts";
import { loadConfig, type Config } from "./config.ts";

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  durability?: string;
  json?: boolean;
}

export async function configFor(command: Command, flags: Partial<Record<keyof Config, unknown>> = {}): Promise<Config> {
  const options = command.optsWithGlobals() as GlobalOptions;
  return loadConfig({
    ...(options.config === undefined ? {} : { file: options.config }),
    flags: { dataDir: options.dataDir, durability: options.durability, ...flags },
  });
}

export function wantsJson(command: Command): boolean {
  return (command.optsWithGlobals() as GlobalOptions).json === true;
}

/** Inspection opens the data dir read-only: it works beside a running daemon and changes nothing. */
export function openForReading(config: Config): EventStore {
  return EventStore.open({ dataDir: config.dataDir, readOnly: true });
}

export function openForWriting(config: Config): EventStore {
  return EventStore.open({ dataDir: config.dataDir, durability: config.durability });
}

/**
 * Whether a writer (the daemon, or another CLI write) holds the data dir's lock. The lock is an
 * exclusive SQLite transaction on store.lock (src/store/lock.ts); a plain read of that file is
 * refused with SQLITE_BUSY while a writer holds it, and takes no lock worth speaking of otherwise.
 */
export function dataDirLockHeld(dataDir: string): boolean | "unknown" {
  const file = path.join(dataDir, lockFileName);
  if (!existsSync(file)) return false;
  let db: Database | null = null;
  try {
    db = new Database(file, { readonly: true });
    db.run("PRAGMA busy_timeout = 0");
    db.query("SELECT count(*) FROM sqlite_master").get();
    return false;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" ? true : "unknown";
  } finally {
    db?.close();
  }
}

/**
 * Takes the data dir's writer lock for a CLI operation that replaces the store's file (restore):
 * the same protocol as src/store/lock.ts (an exclusive transaction on store.lock, released by the
 * kernel if we die), so neither a daemon nor a store can open the data dir meanwhile.
 */
export function holdDataDirLock(dataDir: string): Disposable {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, lockFileName), { create: true });
  try {
    db.run("PRAGMA busy_timeout = 0");
    db.run("PRAGMA locking_mode = EXCLUSIVE");
    db.run("BEGIN EXCLUSIVE");
    db.run("CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since INTEGER)");
    db.run("DELETE FROM holder");
    db.run("INSERT INTO holder VALUES (?, ?)", [process.pid, Date.now()]);
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") throw new StoreLockedError(dataDir, "a running edge-esdb daemon or another writer holds its lock: stop it first");
    throw error;
  }
  return {
    [Symbol.dispose]() {
      try {
        db.run("ROLLBACK");
      } finally {
        db.close();
      }
    },
  };
}
