// The store's SQLite schema as numbered migrations (PRAGMA user_version). A migration is never
// edited once shipped; a change is a new migration. The tables are meant to be read with plain
// sqlite3: JSON stays JSON text, times are milliseconds since the epoch.

import type { Database } from "bun:sqlite";
import { CorruptError } from "../lib/index.ts";

export const storeFileName = "store.db";
export const lockFileName = "store.lock";

/** Numbered migrations; index i migrates from user_version i to i + 1. */
export const migrations: readonly string[] = [
  `
  -- Every event in global order. position is the $all order and only grows; (stream_id, version)
  -- is gapless from 0 per stream. A scavenged event keeps its row with data NULL, so its id stays
  -- taken for ever (idempotent retries and unique ids across the store's whole life).
  CREATE TABLE events (
    position      INTEGER PRIMARY KEY,
    stream_id     TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    event_id      TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    data          BLOB,
    metadata      TEXT,
    content_type  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX events_by_stream ON events (stream_id, version);
  CREATE UNIQUE INDEX events_by_id ON events (event_id);

  -- One row per stream ever written or tombstoned. A stream's last version and position are
  -- not kept here but read from events_by_stream (one index seek), so a plain append writes
  -- no streams page: fewer pages per commit, less wear on an SD card. This row changes only
  -- when a stream is created, deleted, written again after a soft delete, or gets retention.
  -- deletion: 0 none, 1 soft, 2 hard. truncate_before hides lower versions (deletes set it);
  -- max_count, max_age_ms and meta_truncate_before are the stream's retention metadata.
  CREATE TABLE streams (
    stream_id             TEXT PRIMARY KEY,
    truncate_before       INTEGER NOT NULL DEFAULT 0,
    deletion              INTEGER NOT NULL DEFAULT 0,
    max_count             INTEGER,
    max_age_ms            INTEGER,
    meta_truncate_before  INTEGER,
    updated_at            INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE snapshots (
    stream_id     TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    data          BLOB    NOT NULL,
    metadata      TEXT,
    content_type  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (stream_id, version)
  ) WITHOUT ROWID;

  -- Store-wide values: store_id, next_position (positions never go back, even after scavenge).
  CREATE TABLE store_meta (
    key    TEXT PRIMARY KEY,
    value  ANY NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Persistent subscriptions (src/subscriptions): one row each, kept across restarts.
  -- selector and settings are JSON. checkpoint is the last position whose event, and every
  -- matching event before it, is resolved (acknowledged, skipped or parked); a restart resumes
  -- at checkpoint + 1. parked_replayed_before: versions of $parked-<name> below it were replayed.
  -- health is the last health the daemon recorded (JSON), for inspection beside it.
  CREATE TABLE subscriptions (
    name                    TEXT PRIMARY KEY,
    selector                TEXT    NOT NULL,
    settings                TEXT    NOT NULL,
    start_position          INTEGER NOT NULL,
    checkpoint              INTEGER NOT NULL,
    acked_at                INTEGER,
    parked_replayed_before  INTEGER NOT NULL DEFAULT 0,
    health                  TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
];

export const schemaVersion = migrations.length;

/** Brings a writable database up to the latest schema, each migration in its own transaction. */
export function migrate(db: Database): void {
  const current = userVersion(db);
  if (current > schemaVersion) {
    throw new CorruptError(`store schema version ${current} is newer than this build knows (${schemaVersion}): upgrade edge-esdb`);
  }
  for (let version = current; version < schemaVersion; version++) {
    db.transaction(() => {
      db.run(migrations[version] as string);
      db.run(`PRAGMA user_version = ${version + 1}`);
    })();
  }
}

export function userVersion(db: Database): number {
  const row = db.query("PRAGMA user_version").get() as { user_version: number } | null;
  return row?.user_version ?? 0;
}
