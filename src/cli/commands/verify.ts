// `edge-esdb verify [--file FILE]`: SQLite's integrity check plus the store's own invariants, on
// the data dir's store (read-only, safe beside the daemon) or on a backup file. Each problem is
// named on its own line and the exit code is 1 when there is any. The invariants are what
// DESIGN.md promises: stream versions gapless from 0, event ids unique, positions growing with
// versions, the streams table consistent with the events, JSON stored as valid JSON.

import { Database } from "bun:sqlite";
import type { Command } from "commander";
import { existsSync } from "node:fs";
import path from "node:path";
import { NotFoundError } from "../../lib/index.ts";
import { schemaVersion, storeFileName } from "../../store/index.ts";
import { configFor, wantsJson } from "../context.ts";
import { ExitStatus, printJson } from "../output.ts";

export interface Problem {
  check: string;
  message: string;
}

export interface VerifyReport {
  file: string;
  ok: boolean;
  events: number;
  streams: number;
  problems: Problem[];
}

/** Problems of one kind are reported up to this many, then counted. */
const problemsPerCheckMax = 20;

type Check = { name: string; sql: string; describe: (row: Record<string, unknown>) => string };

/**
 * The store's invariants as queries: each returns one row per violation. `NOT INDEXED` makes the
 * checks read the table itself, not an index that might disagree with it.
 */
const checks: readonly Check[] = [
  {
    name: "gapless_versions",
    sql: `SELECT stream_id, min(version) AS lo, max(version) AS hi, count(*) AS n, count(DISTINCT version) AS distinct_n
          FROM events NOT INDEXED GROUP BY stream_id
          HAVING lo != 0 OR hi != n - 1 OR distinct_n != n`,
    describe: (r) => `stream '${r.stream_id}': versions ${r.lo}..${r.hi} in ${r.n} events (${r.distinct_n} distinct): not gapless from 0`,
  },
  {
    name: "unique_event_ids",
    sql: "SELECT event_id, count(*) AS n FROM events NOT INDEXED GROUP BY event_id HAVING n > 1",
    describe: (r) => `event id ${r.event_id} is stored ${r.n} times`,
  },
  {
    name: "positions_in_order",
    sql: `SELECT a.stream_id, a.version, a.position AS p, b.position AS next_p
          FROM events a JOIN events b ON b.stream_id = a.stream_id AND b.version = a.version + 1
          WHERE b.position <= a.position`,
    describe: (r) => `stream '${r.stream_id}': version ${r.version} is at position ${r.p} but version ${Number(r.version) + 1} at ${r.next_p}: positions must grow with versions`,
  },
  {
    name: "positions_in_order",
    sql: "SELECT position FROM events NOT INDEXED WHERE position < 0",
    describe: (r) => `negative position ${r.position}`,
  },
  {
    name: "streams_consistent",
    sql: "SELECT DISTINCT e.stream_id FROM events e NOT INDEXED WHERE NOT EXISTS (SELECT 1 FROM streams s WHERE s.stream_id = e.stream_id)",
    describe: (r) => `stream '${r.stream_id}' has events but no row in the streams table`,
  },
  {
    name: "streams_consistent",
    sql: `SELECT s.stream_id, s.deletion, s.truncate_before,
            coalesce((SELECT max(version) FROM events WHERE stream_id = s.stream_id), -1) AS last_version
          FROM streams s
          WHERE s.deletion NOT IN (0, 1, 2) OR s.truncate_before < 0 OR s.truncate_before > last_version + 1`,
    describe: (r) => `stream '${r.stream_id}': deletion ${r.deletion}, truncate_before ${r.truncate_before} with last version ${r.last_version}: inconsistent`,
  },
  {
    name: "valid_json",
    sql: "SELECT position FROM events NOT INDEXED WHERE data IS NOT NULL AND content_type = 'application/json' AND NOT json_valid(data)",
    describe: (r) => `event at position ${r.position}: data is not valid JSON`,
  },
  {
    name: "valid_json",
    sql: "SELECT position FROM events NOT INDEXED WHERE metadata IS NOT NULL AND NOT json_valid(metadata)",
    describe: (r) => `event at position ${r.position}: metadata is not valid JSON`,
  },
  {
    name: "snapshots_consistent",
    sql: `SELECT sn.stream_id, sn.version FROM snapshots sn
          WHERE sn.version > coalesce((SELECT max(version) FROM events WHERE stream_id = sn.stream_id), -1)`,
    describe: (r) => `snapshot of '${r.stream_id}' at version ${r.version} is past the stream's last event`,
  },
];

/** Verifies a store file, opened read-only. Throws not_found when there is no file. */
export function verifyStoreFile(file: string): VerifyReport {
  if (!existsSync(file)) throw new NotFoundError(`no store at '${file}'`);
  let db: Database;
  try {
    db = new Database(file, { readonly: true });
  } catch (error) {
    return { file, ok: false, events: 0, streams: 0, problems: [{ check: "readable", message: (error as Error).message }] };
  }
  try {
    db.run("PRAGMA busy_timeout = 5000");
    return verifyDatabase(db, file);
  } finally {
    db.close();
  }
}

export function verifyDatabase(db: Database, file: string): VerifyReport {
  const problems: Problem[] = [];
  try {
    // One read transaction: every check sees the same snapshot, even while the daemon writes.
    db.run("BEGIN");
    const integrity = db.query("PRAGMA integrity_check(100)").all() as Array<{ integrity_check: string }>;
    for (const row of integrity) if (row.integrity_check !== "ok") problems.push({ check: "integrity_check", message: row.integrity_check });
    const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (version !== schemaVersion) problems.push({ check: "schema_version", message: `schema version ${version}, this build knows ${schemaVersion}` });
    const tables = new Set((db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
    const missing = ["events", "streams", "snapshots", "store_meta"].filter((t) => !tables.has(t));
    if (missing.length > 0) {
      problems.push({ check: "schema", message: `missing tables: ${missing.join(", ")}` });
      return { file, ok: false, events: 0, streams: 0, problems };
    }
    for (const check of checks) runCheck(db, check, problems);
    const storeId = db.query("SELECT value FROM store_meta WHERE key = 'store_id'").get();
    if (storeId === null) problems.push({ check: "store_meta", message: "no store_id in store_meta" });
    const counts = db.query("SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM streams) AS streams").get() as { events: number; streams: number };
    return { file, ok: problems.length === 0, events: counts.events, streams: counts.streams, problems };
  } catch (error) {
    // A file too damaged to query is a problem to report, not a crash.
    problems.push({ check: "readable", message: (error as Error).message });
    return { file, ok: false, events: 0, streams: 0, problems };
  } finally {
    // A read transaction has nothing to commit; ending it cannot lose anything, even if it fails.
    if (db.inTransaction) {
      try {
        db.run("ROLLBACK");
      } catch {
        // The connection is closed next anyway.
      }
    }
  }
}

function runCheck(db: Database, check: Check, problems: Problem[]): void {
  const rows = db.query(`${check.sql} LIMIT ${problemsPerCheckMax + 1}`).all() as Array<Record<string, unknown>>;
  for (const row of rows.slice(0, problemsPerCheckMax)) problems.push({ check: check.name, message: check.describe(row) });
  if (rows.length > problemsPerCheckMax) problems.push({ check: check.name, message: `more than ${problemsPerCheckMax} problems of this kind; the first ${problemsPerCheckMax} are listed` });
}

export function printVerifyReport(report: VerifyReport, json: boolean): void {
  if (json) {
    printJson(report);
    return;
  }
  if (report.ok) {
    console.log(`ok: ${report.file}: ${report.events} events in ${report.streams} streams, integrity and invariants hold`);
    return;
  }
  console.log(`FAILED: ${report.file}: ${report.problems.length} problem(s)`);
  for (const p of report.problems) console.log(`  ${p.check}: ${p.message}`);
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("check the store (or a backup file): SQLite integrity and the store's invariants; exit 1 naming each problem")
    .option("-f, --file <file>", "verify this store file (a backup) instead of the data dir's store")
    .action(async (options: { file?: string }, command: Command) => {
      const file = options.file ?? path.join((await configFor(command)).dataDir, storeFileName);
      const report = verifyStoreFile(file);
      printVerifyReport(report, wantsJson(command));
      if (!report.ok) throw new ExitStatus(1);
    });
}
