// The rows of persistent subscriptions (migration 2): their definition, checkpoint and last
// recorded health. Writes go through the store's group committer, so a checkpoint shares its
// fsync with the appends around it; reads are plain queries and also work on a read-only store.
// src/subscriptions owns what the values mean; this file only keeps them.

import { AlreadyExistsError, NotFoundError } from "../lib/index.ts";
import type { JsonValue } from "../events/index.ts";
import type { EventStore } from "./event-store.ts";

export interface SubscriptionRecord {
  name: string;
  selector: JsonValue;
  settings: JsonValue;
  /** First position the subscription delivers. */
  startPosition: number;
  /** Last position resolved with everything before it; startPosition - 1 when none. */
  checkpoint: number;
  ackedAtMs: number | null;
  /** Versions of `$parked-<name>` below this were replayed into the subscription. */
  parkedReplayedBefore: number;
  health: JsonValue;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface SubscriptionProgress {
  checkpoint: number;
  ackedAtMs: number | null;
  parkedReplayedBefore: number;
  health: JsonValue;
}

type Row = [string, string, string, number, number, number | null, number, string | null, number, number];
const columns = "name, selector, settings, start_position, checkpoint, acked_at, parked_replayed_before, health, created_at, updated_at";

function toRecord(row: Row): SubscriptionRecord {
  return {
    name: row[0],
    selector: JSON.parse(row[1]) as JsonValue,
    settings: JSON.parse(row[2]) as JsonValue,
    startPosition: row[3],
    checkpoint: row[4],
    ackedAtMs: row[5],
    parkedReplayedBefore: row[6],
    health: row[7] === null ? null : (JSON.parse(row[7]) as JsonValue),
    createdAtMs: row[8],
    updatedAtMs: row[9],
  };
}

export class SubscriptionRecords {
  constructor(private readonly store: EventStore) {}

  /** Every record in name order. */
  list(): SubscriptionRecord[] {
    this.store.open();
    const rows = this.store.database.query(`SELECT ${columns} FROM subscriptions ORDER BY name`).values() as Row[];
    return rows.map(toRecord);
  }

  get(name: string): SubscriptionRecord | null {
    this.store.open();
    const row = this.store.database.query(`SELECT ${columns} FROM subscriptions WHERE name = ?`).values(name)[0] as Row | undefined;
    return row === undefined ? null : toRecord(row);
  }

  async create(record: Omit<SubscriptionRecord, "updatedAtMs">): Promise<void> {
    const committer = this.store.writable("subscriptions.create");
    await committer.submit(() => {
      const db = this.store.database;
      if (db.query("SELECT 1 FROM subscriptions WHERE name = ?").get(record.name) !== null) {
        throw new AlreadyExistsError(`subscription '${record.name}' already exists`);
      }
      db.run(`INSERT INTO subscriptions (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        record.name,
        JSON.stringify(record.selector),
        JSON.stringify(record.settings),
        record.startPosition,
        record.checkpoint,
        record.ackedAtMs,
        record.parkedReplayedBefore,
        record.health === null ? null : JSON.stringify(record.health),
        record.createdAtMs,
        record.createdAtMs,
      ]);
    }, { multiStatement: false });
  }

  /** Records progress; a record deleted meanwhile is left deleted. */
  async saveProgress(name: string, progress: SubscriptionProgress): Promise<void> {
    const committer = this.store.writable("subscriptions.saveProgress");
    const health = progress.health === null ? null : JSON.stringify(progress.health);
    const now = this.store.now();
    await committer.submit(() => {
      this.store.database.run(
        "UPDATE subscriptions SET checkpoint = ?, acked_at = ?, parked_replayed_before = ?, health = ?, updated_at = ? WHERE name = ?",
        [progress.checkpoint, progress.ackedAtMs, progress.parkedReplayedBefore, health, now, name],
      );
    }, { multiStatement: false });
  }

  /** Deletes a record; throws not_found when there is none. */
  async delete(name: string): Promise<void> {
    const committer = this.store.writable("subscriptions.delete");
    await committer.submit(() => {
      const changes = this.store.database.run("DELETE FROM subscriptions WHERE name = ?", [name]).changes;
      if (changes === 0) throw new NotFoundError(`no subscription '${name}'`);
    }, { multiStatement: false });
  }
}
