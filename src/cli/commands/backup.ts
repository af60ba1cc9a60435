// `edge-esdb backup FILE` and `edge-esdb restore FILE`.
//
// Backup is online and consistent while the daemon writes: SQLite's `VACUUM INTO` on a read-only
// connection copies one read snapshot of the store (WAL readers never block the writer, nor it
// them) into a temporary file beside FILE, which is fsync'd, verified, then renamed over FILE.
// A backup is a complete store file: it can be opened, verified and restored as it is.
//
// Restore refuses while a daemon (or any writer) holds the data dir's lock, verifies the file
// first, and replaces the store atomically: the old store's WAL is checkpointed into it and
// removed, the backup is copied into the data dir and fsync'd, then renamed over store.db. A crash
// at any point leaves either the old store or the new one. A store that holds events is replaced
// only with --force.

import { Database } from "bun:sqlite";
import type { Command } from "commander";
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { CorruptError, EdgeEsdbError, InvalidArgumentError, NotFoundError } from "../../lib/index.ts";
import { storeFileName } from "../../store/index.ts";
import { configFor, holdDataDirLock, wantsJson } from "../context.ts";
import { formatBytes, printJson } from "../output.ts";
import { verifyDatabase, verifyStoreFile, type VerifyReport } from "./verify.ts";

export interface BackupResult {
  file: string;
  bytes: number;
  events: number;
  streams: number;
  headPosition: number;
}

function fsyncPath(file: string): void {
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function temporaryBeside(file: string, tag: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${tag}-${process.pid}`);
}

function problemSummary(report: VerifyReport): string {
  return report.problems
    .slice(0, 3)
    .map((p) => `${p.check}: ${p.message}`)
    .join("; ");
}

/** Copies a consistent snapshot of the store at `storeFile` to `outFile`, verified, atomically. */
export function backupStore(storeFile: string, outFile: string): BackupResult {
  if (!existsSync(storeFile)) throw new NotFoundError(`no store at '${storeFile}'`);
  const target = path.resolve(outFile);
  if (target === path.resolve(storeFile)) throw new InvalidArgumentError("the backup file cannot be the store itself");
  const temporary = temporaryBeside(target, "backup");
  rmSync(temporary, { force: true });
  const source = new Database(storeFile, { readonly: true });
  let headPosition: number;
  try {
    source.run("PRAGMA busy_timeout = 5000");
    // VACUUM INTO reads in one transaction: the copy is one snapshot of the store.
    source.run("VACUUM INTO ?", [temporary]);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    source.close();
  }
  try {
    // SQLite does not fsync what VACUUM INTO writes; a backup that is not on disk is not one.
    fsyncPath(temporary);
    const copy = new Database(temporary, { readonly: true });
    let report: VerifyReport;
    try {
      report = verifyDatabase(copy, target);
      headPosition = ((copy.query("SELECT max(position) AS p FROM events").get() as { p: number | null }).p ?? -1) + 1;
    } finally {
      copy.close();
    }
    if (!report.ok) throw new CorruptError(`the backup did not verify (${problemSummary(report)}); the store may be damaged: run edge-esdb verify`);
    renameSync(temporary, target);
    fsyncPath(path.dirname(target));
    return { file: target, bytes: statSync(target).size, events: report.events, streams: report.streams, headPosition };
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export interface RestoreResult {
  dataDir: string;
  from: string;
  events: number;
  streams: number;
  replaced: boolean;
}

/**
 * Folds the old store's WAL into its file, so removing the WAL loses nothing of it, and refuses
 * to replace a store that holds events unless forced. A store too damaged to open is replaced
 * only when forced (that is when a restore is most needed).
 */
function checkpointBeforeReplace(dataDir: string, storeFile: string, force: boolean, readerWaitMs: number): void {
  let current: Database | null = null;
  try {
    current = new Database(storeFile);
    current.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(readerWaitMs))}`);
    const hasEvents = (current.query("SELECT count(*) AS n FROM sqlite_master WHERE name = 'events'").get() as { n: number }).n === 1;
    const events = hasEvents ? (current.query("SELECT count(*) AS n FROM events").get() as { n: number }).n : 0;
    if (events > 0 && !force) throw new InvalidArgumentError(`the store in '${dataDir}' holds ${events} events; restoring replaces them: pass --force (and take a backup first)`);
    // A reader (an inspection, a backup) that holds an old snapshot keeps the checkpoint from
    // reaching the end of the WAL, even after busy_timeout. Removing that WAL would lose part of
    // the old store if the restore then crashed before its rename: refuse instead.
    const checkpoint = current.query("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number; log: number; checkpointed: number } | null;
    if (checkpoint !== null && (checkpoint.busy !== 0 || checkpoint.log !== checkpoint.checkpointed)) {
      throw new EdgeEsdbError("store_locked", `another process is reading the store in '${dataDir}' (its write-ahead log could not be checkpointed); nothing restored: stop it and try again`);
    }
  } catch (error) {
    if (error instanceof EdgeEsdbError) throw error;
    if (!force) throw new CorruptError(`the store in '${dataDir}' cannot be read (${(error as Error).message}); pass --force to replace it`);
    // Forced over a damaged store: its WAL goes with it.
  } finally {
    current?.close();
  }
}

/** Replaces the data dir's store with `backupFile`. Refuses while a writer holds the lock. */
export function restoreStore(dataDir: string, backupFile: string, options: { force?: boolean; readerWaitMs?: number } = {}): RestoreResult {
  const from = path.resolve(backupFile);
  if (!existsSync(from)) throw new NotFoundError(`no backup at '${from}'`);
  const report = verifyStoreFile(from);
  if (!report.ok) throw new CorruptError(`'${from}' does not verify, nothing restored: ${problemSummary(report)}`);
  using _lock = holdDataDirLock(dataDir);
  const storeFile = path.join(dataDir, storeFileName);
  const replaced = existsSync(storeFile);
  if (replaced) checkpointBeforeReplace(dataDir, storeFile, options.force === true, options.readerWaitMs ?? 5_000);
  const temporary = temporaryBeside(storeFile, "restore");
  copyFileSync(from, temporary);
  fsyncPath(temporary);
  // A WAL or shared-memory file left from the old store must never be applied to the new one.
  for (const suffix of ["-wal", "-shm", "-journal"]) rmSync(`${storeFile}${suffix}`, { force: true });
  renameSync(temporary, storeFile);
  fsyncPath(dataDir);
  return { dataDir: path.resolve(dataDir), from, events: report.events, streams: report.streams, replaced };
}

export function registerBackup(program: Command): void {
  program
    .command("backup")
    .description("write a consistent copy of the store to FILE (online: safe while the daemon writes)")
    .argument("<file>", "the backup file to write (replaced atomically if it exists)")
    .action(async (file: string, _options: unknown, command: Command) => {
      const config = await configFor(command);
      const result = backupStore(path.join(config.dataDir, storeFileName), file);
      if (wantsJson(command)) printJson(result);
      else console.log(`backup written: ${result.file} (${formatBytes(result.bytes)}, ${result.events} events in ${result.streams} streams, head position ${result.headPosition}), verified`);
    });

  program
    .command("restore")
    .description("replace the data dir's store with a backup FILE (the daemon must be stopped)")
    .argument("<file>", "a backup written by edge-esdb backup")
    .option("--force", "replace a store that holds events")
    .action(async (file: string, options: { force?: boolean }, command: Command) => {
      const config = await configFor(command);
      const result = restoreStore(config.dataDir, file, options);
      if (wantsJson(command)) printJson(result);
      else console.log(`restored ${result.from} into ${result.dataDir}: ${result.events} events in ${result.streams} streams${result.replaced ? " (the previous store was replaced)" : ""}`);
    });
}
