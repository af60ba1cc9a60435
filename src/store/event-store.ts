// The single-node event store on bun:sqlite: the library's whole API over one SQLite file.
// Writes go through the group committer (one transaction and one fsync per group); each write
// is decided by the pure functions of src/events, so a replicated log can later feed the same
// decisions. Reads run directly on the connection: bun:sqlite is synchronous and JavaScript is
// single-threaded, so a read never sees half a group.

import { Database, type Statement } from "bun:sqlite";
import { mkdirSync, existsSync, statSync } from "node:fs";
import path from "node:path";
import {
  InvalidArgumentError,
  NotFoundError,
  ReadOnlyError,
  StoreClosedError,
  StreamDeletedError,
  StreamNotFoundError,
  TooLargeError,
  assert,
  limits,
  uuidV7,
} from "../lib/index.ts";
import {
  decideAppend,
  decideDelete,
  firstVisibleVersion,
  oldestVisibleCreatedAtMs,
  matchesPayload,
  prepareEvents,
  streamIsVisible,
  emptyStreamState,
  validateExpectedVersion,
  validateFilter,
  validateJson,
  validateStreamId,
  validateStreamMetadata,
  utf8Bytes,
  type AppendCommand,
  type AppendResult,
  type DeleteCommand,
  type Direction,
  type EventFilter,
  type EventInput,
  type ExpectedVersion,
  type JsonValue,
  type PreparedEvent,
  type RecordedEvent,
  type StoredEventRef,
  type StreamMetadata,
  type StreamState,
} from "../events/index.ts";
import { GroupCommitter, retryWrite } from "./group-commit.ts";
import { DataDirLock } from "./lock.ts";
import { eventColumns, jsonContentType, decodeData, encodedShape, encodedSizeBytes, recordedShape, streamColumns, toStreamMetadata, toStreamState, deletionCode, type EncodedEvent, type ReadShape, type StoredParts, type StreamRow } from "./rows.ts";
import { migrate, schemaVersion, storeFileName, userVersion } from "./schema.ts";
import { payloadPrefilter, type PayloadPrefilter } from "./payload-prefilter.ts";

export type Durability = "full" | "normal";

export interface StoreOptions {
  /** Directory of the store; created when missing (unless read-only). */
  dataDir: string;
  /** "full" (default): an acknowledged write survives power loss. "normal": it survives a crash of the process, not of the machine. */
  durability?: Durability;
  /** Open for inspection: no lock, no writes, no migrations. */
  readOnly?: boolean;
  /** Milliseconds since the epoch; for tests of time-based retention. */
  clock?: () => number;
  /** SQLite page cache in KiB (default 16 MiB: a Pi Zero 2 W has 512 MiB in all). */
  cacheSizeKiB?: number;
  /** Told about every append, read and snapshot (telemetry connects here; see StoreObserver). */
  observer?: StoreObserver;
}

/**
 * Hooks on the write and read paths, for telemetry. The store defines them so that it imports
 * no telemetry; openStore() connects them. They run inline: they must be cheap and never throw.
 * Durations are milliseconds (fractional).
 */
export interface StoreObserver {
  appendStarted(streamId: string, eventCount: number): void;
  appendStopped(streamId: string, eventCount: number, bytes: number, durationMs: number, result: AppendResult): void;
  appendFailed(streamId: string, eventCount: number, durationMs: number, error: unknown): void;
  /** streamId is "$all" for readAll. */
  readStarted(streamId: string): void;
  readStopped(streamId: string, eventCount: number, durationMs: number): void;
  snapshotSaved(streamId: string, version: number, sizeBytes: number, durationMs: number): void;
}

export interface ReadOptions {
  /** First version to read, inclusive (default: the start, or the end when backward). */
  from?: number;
  limit?: number;
  direction?: Direction;
  /**
   * Stop after the event that brings the page's data and metadata (as stored) to this many bytes:
   * a page of large events stays bounded in memory. At least one event is returned.
   */
  maxBytes?: number;
}

export interface ReadAllOptions {
  /** First position to read, inclusive (default: the start, or the end when backward). */
  fromPosition?: number;
  limit?: number;
  direction?: Direction;
  filter?: EventFilter;
  /** As in ReadOptions. */
  maxBytes?: number;
}

export interface StreamSummary {
  streamId: string;
  /** The stream's last version. */
  version: number;
  /**
   * Events a reader can see: versions from the first that deletes and retention leave visible,
   * and for a stream with maxAgeMs, those young enough (counted, so it costs a scan of them).
   */
  eventCount: number;
}

export interface StreamsPage {
  streams: StreamSummary[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

export interface Snapshot {
  streamId: string;
  version: number;
  data: JsonValue | Uint8Array;
  metadata: JsonValue;
  contentType: string;
  createdAt: Date;
}

export interface FoldResult<S> {
  state: S;
  /** The version of the last event folded in (or of the snapshot), -1 for no stream. */
  version: number;
  streamExists: boolean;
}

export interface ScavengeResult {
  eventsRemoved: number;
  snapshotsRemoved: number;
  fileBytesBefore: number;
  fileBytesAfter: number;
}

export interface StoreInfo {
  dataDir: string;
  file: string;
  schemaVersion: number;
  storeId: string;
  /** The writer's setting; null for a read-only store, which cannot know it (it is not in the file). */
  durability: Durability | null;
  readOnly: boolean;
  /** The next global position (= events ever written). */
  headPosition: number;
  streamCount: number;
  eventRows: number;
  fileBytes: number;
  walBytes: number;
}

/** What a committed group appended, for subscriptions and telemetry. */
export interface CommittedAppend {
  streamId: string;
  firstPosition: number;
  lastPosition: number;
  eventCount: number;
  /** The version of the first event; the others follow it. */
  firstVersion: number;
  /** The events as written (JSON as text), so live subscribers need not read them back. */
  events: readonly PreparedEvent[];
}

export type CommitListener = (appends: readonly CommittedAppend[], headPosition: number) => void;

export type { EncodedEvent };

/**
 * Positions scavenge examines per step (one group commit): a step's scan is bounded, so appends
 * wait behind it for milliseconds, and the whole pass reads the log once.
 */
const scavengePositionsPerStep = 5_000;
/** Streams whose state the store keeps between appends (a few hundred bytes each). */
const knownStreamsMax = 4096;
/** Rows an $all read fetches at least, after its first chunk came short of the page. */
const readAllChunkMin = 256;
/** Rows an $all read skips (hidden, or refused by a payload filter) before it takes the join. */
const readAllSkippedRowsBeforeJoin = 256;
/** $all statements kept prepared, one per filter shape. */
const readAllStatementsMax = 256;
/** How long close() waits for readers so its checkpoint can truncate the WAL. */
const closeCheckpointWaitMs = 500;
const noLookups = (count: number): null[] => new Array<null>(count).fill(null);

export class EventStore {
  readonly dataDir: string;
  readonly file: string;
  readonly readOnly: boolean;
  readonly durability: Durability;
  private readonly db: Database;
  private readonly lock: DataDirLock | null;
  private readonly committer: GroupCommitter | null;
  private readonly clock: () => number;
  private nextPosition: number;
  private nextPositionBeforeGroup = 0;
  private groupAppends: CommittedAppend[] = [];
  private readonly commitListeners = new Set<CommitListener>();
  private readonly closeListeners = new Set<() => Promise<void> | void>();
  /** @internal for the snapshot store */
  readonly observer: StoreObserver | null;
  private closed = false;
  private readonly randomPool = new Uint8Array(4096);
  private randomOffset = this.randomPool.length;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly readAllStatements = new Map<string, Statement>();
  private readonly streamReadStatements = new Map<string, ReadStatements>();
  /**
   * The state of recently appended streams, as the last committed or current group's writes
   * left it: the next append to the same stream skips the lookup (a 2.4 µs SELECT). This store
   * is the data dir's only writer (the lock), so only its own writes change a stream. Only
   * successful appends set an entry, as their last step; saveStreamState drops one; a
   * rolled-back group empties it. At most knownStreamsMax entries, the oldest dropped first.
   */
  private readonly knownStreams = new Map<string, StreamState>();
  /** insertStatements[n] inserts n events (see insertEvents). */
  private readonly insertStatements: Array<Statement | undefined> = [];
  readonly snapshots: SnapshotStore;

  private constructor(options: StoreOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.file = path.join(this.dataDir, storeFileName);
    this.readOnly = options.readOnly ?? false;
    this.durability = options.durability ?? "full";
    if (this.durability !== "full" && this.durability !== "normal") {
      throw new InvalidArgumentError(`durability must be "full" or "normal", got ${JSON.stringify(this.durability)}`);
    }
    this.clock = options.clock ?? Date.now;
    this.observer = options.observer ?? null;
    if (this.readOnly) {
      if (!existsSync(this.file)) throw new NotFoundError(`no store at '${this.file}'`);
      this.lock = null;
      this.db = new Database(this.file, { readonly: true, strict: false });
      this.db.run("PRAGMA busy_timeout = 5000");
      const version = userVersion(this.db);
      if (version !== schemaVersion) {
        this.db.close();
        throw new InvalidArgumentError(`store '${this.file}' has schema version ${version}, this build reads ${schemaVersion}: open it once for writing to migrate`);
      }
    } else {
      mkdirSync(this.dataDir, { recursive: true });
      this.lock = DataDirLock.acquire(this.dataDir);
      try {
        this.db = new Database(this.file, { create: true, strict: false });
        this.configureWritable(options.cacheSizeKiB ?? 16 * 1024);
        migrate(this.db);
      } catch (error) {
        this.lock.release();
        throw error;
      }
    }
    this.statements = prepareStatements(this.db);
    if (!this.readOnly) this.ensureStoreId();
    const head = this.statements.maxPosition.get() as { p: number | null } | null;
    this.nextPosition = (head?.p ?? -1) + 1;
    this.committer = this.readOnly
      ? null
      : new GroupCommitter(this.db, {
          beforeGroup: () => {
            this.nextPositionBeforeGroup = this.nextPosition;
            this.groupAppends = [];
          },
          afterRollback: () => {
            this.nextPosition = this.nextPositionBeforeGroup;
            this.groupAppends = [];
            this.knownStreams.clear();
          },
          afterCommit: () => this.notifyCommitted(),
        });
    this.snapshots = new SnapshotStore(this);
  }

  /** Opens (and creates or migrates) a store. Throws StoreLockedError if another writer has it. */
  static open(options: StoreOptions): EventStore {
    return new EventStore(options);
  }

  private configureWritable(cacheSizeKiB: number): void {
    this.db.run("PRAGMA busy_timeout = 5000");
    // auto_vacuum must be chosen before the first table exists; incremental lets scavenge give
    // space back to the file system without a full VACUUM.
    if (userVersion(this.db) === 0) this.db.run("PRAGMA auto_vacuum = INCREMENTAL");
    const mode = this.db.query("PRAGMA journal_mode = WAL").get() as { journal_mode: string } | null;
    assert(mode?.journal_mode === "wal", "the store runs in WAL mode");
    this.db.run(`PRAGMA synchronous = ${this.durability === "full" ? "FULL" : "NORMAL"}`);
    this.db.run(`PRAGMA cache_size = -${Math.max(1024, Math.floor(cacheSizeKiB))}`);
    this.db.run(`PRAGMA wal_autocheckpoint = ${limits.walAutocheckpointPages}`);
    this.db.run(`PRAGMA journal_size_limit = ${limits.walFileBytesMax}`);
    this.db.run("PRAGMA foreign_keys = OFF");
    // Savepoints keep their undo data in a statement journal: in memory, not a temp file.
    this.db.run("PRAGMA temp_store = MEMORY");
  }

  private ensureStoreId(): void {
    const row = this.db.query("SELECT value FROM store_meta WHERE key = 'store_id'").get() as { value: string } | null;
    if (row === null) this.db.run("INSERT INTO store_meta (key, value) VALUES ('store_id', ?)", [this.newEventId()]);
  }

  // ---------------------------------------------------------------------------------- writes

  /**
   * Appends events atomically. Resolves with the version and position of the last event once
   * they are committed (fsync'd with durability "full").
   */
  async append(streamId: string, expectedVersion: ExpectedVersion, events: readonly EventInput[]): Promise<AppendResult> {
    return this.appendInternal(streamId, expectedVersion, events, false);
  }

  /** For system writers ($parked-*, $conflicts): reserved names allowed. */
  async appendSystem(streamId: string, expectedVersion: ExpectedVersion, events: readonly EventInput[]): Promise<AppendResult> {
    return this.appendInternal(streamId, expectedVersion, events, true);
  }

  private async appendInternal(streamId: string, expectedVersion: ExpectedVersion, events: readonly EventInput[], system: boolean): Promise<AppendResult> {
    const observer = this.observer;
    if (observer === null) return this.appendUnobserved(streamId, expectedVersion, events, system, null);
    const eventCount = Array.isArray(events) ? events.length : 0;
    const startedMs = performance.now();
    observer.appendStarted(streamId, eventCount);
    try {
      const bytes = { value: 0 };
      const result = await this.appendUnobserved(streamId, expectedVersion, events, system, bytes);
      observer.appendStopped(streamId, eventCount, bytes.value, performance.now() - startedMs, result);
      return result;
    } catch (error) {
      observer.appendFailed(streamId, eventCount, performance.now() - startedMs, error);
      throw error;
    }
  }

  private appendUnobserved(streamId: string, expectedVersion: ExpectedVersion, events: readonly EventInput[], system: boolean, bytesOut: { value: number } | null): Promise<AppendResult> {
    const committer = this.writable("append");
    const command: AppendCommand = {
      kind: "append",
      streamId: validateStreamId(streamId, system),
      expected: validateExpectedVersion(expectedVersion),
      events: prepareEvents(events, { nowMs: this.clock(), newId: () => this.newEventId(), system }),
    };
    let bytes = 0;
    for (const event of command.events) bytes += event.sizeBytes;
    if (bytesOut !== null) bytesOut.value = bytes;
    // One event is one INSERT that either lands or not, then the stream's row: no savepoint.
    // The stream row is written only after every insert succeeded.
    return committer.submit((attempt) => this.appendOperation(command, attempt), { bytes, multiStatement: command.events.length > 1 });
  }

  /** Runs inside the group's transaction. Attempt 0 guesses that no id is stored yet. */
  private appendOperation(command: AppendCommand, attempt: number): AppendResult {
    const stream = this.knownStreams.get(command.streamId) ?? this.loadStreamState(command.streamId);
    const lookups = attempt === 0 ? noLookups(command.events.length) : this.lookupEventIds(command);
    const decision = decideAppend(command, stream, lookups, this.nextPosition);
    switch (decision.kind) {
      case "rejected":
        // The guess may be what made it fail (a retry whose expected version is stale now).
        if (attempt === 0) throw retryWrite;
        throw decision.error;
      case "already_written":
        return decision.result;
      case "write": {
        try {
          this.insertEvents(command, decision.firstPosition, decision.firstVersion);
        } catch (error) {
          if (attempt === 0 && isEventIdConflict(error)) throw retryWrite;
          throw error;
        }
        const position = decision.firstPosition + command.events.length;
        if (streamRowChanges(stream, decision.stream)) this.saveStreamState(decision.stream);
        this.rememberStream(decision.stream);
        this.nextPosition = position;
        this.groupAppends.push({
          streamId: command.streamId,
          firstPosition: decision.firstPosition,
          lastPosition: position - 1,
          eventCount: command.events.length,
          firstVersion: decision.firstVersion,
          events: command.events,
        });
        return decision.result;
      }
    }
  }

  /**
   * Inserts an append's events from firstPosition and firstVersion on. Up to insertRowsMax rows
   * go in one INSERT: a batch of 1000 events is 32 statements instead of 1000, and each call
   * into SQLite costs more than a row (a third more events per second at batch 1000 in
   * bench/store.ts). A failing statement changes nothing; the caller's savepoint covers the rest.
   */
  private insertEvents(command: AppendCommand, firstPosition: number, firstVersion: number): void {
    const events = command.events;
    for (let start = 0; start < events.length; start += insertRowsMax) {
      const rows = Math.min(insertRowsMax, events.length - start);
      const params = new Array<string | number | Uint8Array | null>(rows * eventColumnCount);
      let p = 0;
      for (let i = start; i < start + rows; i++) {
        const event = events[i] as PreparedEvent;
        params[p++] = firstPosition + i;
        params[p++] = command.streamId;
        params[p++] = firstVersion + i;
        params[p++] = event.id;
        params[p++] = event.type;
        params[p++] = event.data;
        params[p++] = event.metadata;
        params[p++] = event.contentType;
        params[p++] = event.createdAtMs;
      }
      this.insertStatement(rows).run(...params);
    }
  }

  /** The INSERT of `rows` events, prepared on first use (at most insertRowsMax of them). */
  private insertStatement(rows: number): Statement {
    let statement = this.insertStatements[rows];
    if (statement === undefined) {
      statement = this.db.prepare(`INSERT INTO events (${eventColumns}) VALUES ${new Array(rows).fill(eventPlaceholders).join(", ")}`);
      this.insertStatements[rows] = statement;
    }
    return statement;
  }

  /**
   * Deletes a stream. Soft (default): hidden, and a later append continues its numbering.
   * Hard: a tombstone; every later read or write of the stream fails with stream_deleted.
   */
  async delete(streamId: string, expectedVersion: ExpectedVersion = "any", options: { hard?: boolean } = {}): Promise<void> {
    return this.deleteInternal(streamId, expectedVersion, options, false);
  }

  /** For system writers: deletes a reserved stream ($parked-* when its subscription goes). */
  async deleteSystem(streamId: string, expectedVersion: ExpectedVersion = "any", options: { hard?: boolean } = {}): Promise<void> {
    return this.deleteInternal(streamId, expectedVersion, options, true);
  }

  private async deleteInternal(streamId: string, expectedVersion: ExpectedVersion, options: { hard?: boolean }, system: boolean): Promise<void> {
    const committer = this.writable("delete");
    const command: DeleteCommand = {
      kind: "delete",
      streamId: validateStreamId(streamId, system),
      expected: validateExpectedVersion(expectedVersion),
      hard: options.hard === true,
    };
    await committer.submit(() => {
      const decision = decideDelete(command, this.loadStreamState(command.streamId));
      if (decision.kind === "rejected") throw decision.error;
      this.saveStreamState(decision.stream);
    }, { multiStatement: false });
  }

  /** Sets a stream's retention (maxCount, maxAgeMs, truncateBefore); omitted fields are cleared. */
  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    const committer = this.writable("setStreamMetadata");
    validateStreamId(streamId);
    const valid = validateStreamMetadata(metadata);
    await committer.submit(() => {
      const stream = this.loadStreamState(streamId);
      if (stream.deletion === "hard") throw new StreamDeletedError(streamId);
      this.saveStreamState(stream);
      this.statements.setMetadata.run(valid.maxCount ?? null, valid.maxAgeMs ?? null, valid.truncateBefore ?? null, streamId);
    });
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    this.open();
    const row = this.statements.selectStream.values(validateStreamId(streamId, true))[0] as StreamRow | undefined;
    if (row === undefined) return {};
    if (row[4] === 2) throw new StreamDeletedError(streamId);
    return toStreamMetadata(row);
  }

  // ----------------------------------------------------------------------------------- reads

  /** Reads a stream. Throws stream_not_found for a stream never written or soft-deleted. */
  async read(streamId: string, options: ReadOptions = {}): Promise<RecordedEvent[]> {
    const observer = this.observer;
    if (observer === null) return this.readRows(streamId, options, recordedShape);
    const startedMs = performance.now();
    observer.readStarted(streamId);
    const events = this.readRows(streamId, options, recordedShape);
    observer.readStopped(streamId, events.length, performance.now() - startedMs);
    return events;
  }

  /**
   * read(), with JSON data and metadata left as the text the store holds (EncodedEvent): for
   * readers that look at the stored form first, such as a subscription's catch-up, which
   * counts bytes before it decodes. Same errors and visibility as read().
   */
  async readEncoded(streamId: string, options: ReadOptions = {}): Promise<EncodedEvent[]> {
    const observer = this.observer;
    const startedMs = observer === null ? 0 : performance.now();
    observer?.readStarted(streamId);
    const events = this.readRows(streamId, options, encodedShape);
    observer?.readStopped(streamId, events.length, performance.now() - startedMs);
    return events;
  }

  private readRows<Row extends StoredParts, Result>(streamId: string, options: ReadOptions, shape: ReadShape<Row, Result>): Result[] {
    this.open();
    validateStreamId(streamId, true);
    const direction = validateDirection(options.direction);
    const limit = validateLimit(options.limit);
    const row = this.statements.selectStream.values(streamId)[0] as StreamRow | undefined;
    if (row === undefined) throw new StreamNotFoundError(streamId);
    const stream = toStreamState(row);
    if (stream.deletion === "hard") throw new StreamDeletedError(streamId);
    if (!streamIsVisible(stream)) throw new StreamNotFoundError(streamId);
    const metadata = toStreamMetadata(row);
    const firstVisible = firstVisibleVersion(stream, metadata);
    const maxBytes = validateMaxBytes(options.maxBytes);
    const s = this.readStatements(shape);
    // Without maxAgeMs no event is hidden by its age: the statements without that condition skip
    // a column comparison per row.
    const byAge = metadata.maxAgeMs !== undefined;
    const oldest = Math.max(Number.MIN_SAFE_INTEGER, oldestVisibleCreatedAtMs(metadata, this.clock()));
    if (direction === "forward") {
      const from = Math.max(validateVersionArgument(options.from ?? 0, "from"), firstVisible);
      return byAge ? selectRows(s.forwardByAge, [streamId, from, oldest, limit], maxBytes, shape, streamId) : selectRows(s.forward, [streamId, from, limit], maxBytes, shape, streamId);
    }
    const from = options.from === undefined || options.from === -1 ? stream.lastVersion : validateVersionArgument(options.from, "from");
    return byAge ? selectRows(s.backwardByAge, [streamId, from, firstVisible, oldest, limit], maxBytes, shape, streamId) : selectRows(s.backward, [streamId, from, firstVisible, limit], maxBytes, shape, streamId);
  }

  /** Reads the global order, filtered server-side. Hidden (deleted, retained-out) events are skipped. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const observer = this.observer;
    if (observer === null) return this.readAllRows(options, recordedShape);
    const startedMs = performance.now();
    observer.readStarted("$all");
    const events = this.readAllRows(options, recordedShape);
    observer.readStopped("$all", events.length, performance.now() - startedMs);
    return events;
  }

  /** readAll(), with JSON left as stored text (see readEncoded). */
  async readAllEncoded(options: ReadAllOptions = {}): Promise<EncodedEvent[]> {
    const observer = this.observer;
    const startedMs = observer === null ? 0 : performance.now();
    observer?.readStarted("$all");
    const events = this.readAllRows(options, encodedShape);
    observer?.readStopped("$all", events.length, performance.now() - startedMs);
    return events;
  }

  private readAllRows<Row extends StoredParts, Result>(options: ReadAllOptions, shape: ReadShape<Row, Result>): Result[] {
    // A page may take more than one statement. The writer's reads cannot meet a commit between
    // them (both are synchronous, on one connection); a read-only store beside a writer in
    // another process reads the page in one transaction, so that it is one snapshot.
    if (this.readOnly && !this.db.inTransaction) return this.db.transaction(() => this.readAllPage(options, shape))();
    return this.readAllPage(options, shape);
  }

  private readAllPage<Row extends StoredParts, Result>(options: ReadAllOptions, shape: ReadShape<Row, Result>): Result[] {
    this.open();
    const direction = validateDirection(options.direction);
    const limit = validateLimit(options.limit);
    const filter = validateFilter(options.filter);
    let from: number;
    if (options.fromPosition === undefined || (direction === "backward" && options.fromPosition === -1)) {
      from = direction === "forward" ? 0 : this.headPosition - 1;
    } else {
      from = validateVersionArgument(options.fromPosition, "fromPosition");
    }
    const prefilter = filter.payload === undefined ? null : payloadPrefilter(filter.payload);
    const params: Array<string | number> = [];
    if (filter.eventTypes !== undefined) params.push(...filter.eventTypes);
    if (filter.streamPrefix !== undefined) params.push(globEscape(filter.streamPrefix) + "*");
    if (filter.streamPattern !== undefined) params.push(patternToGlob(filter.streamPattern));
    if (prefilter !== null) params.push(...prefilter.params);
    const now = this.clock();
    const maxBytes = validateMaxBytes(options.maxBytes);
    // Most logs hide little, so a read starts with a statement that selects events alone and
    // decides per stream, in JavaScript, what deletes and retention hide (a join with streams
    // for every row costs SQLite a fifth of its rate). A read that skips many rows (deleted
    // streams not yet scavenged, or a payload filter only JavaScript can check) goes on with the
    // join, which skips hidden events inside SQLite and needs no lookups: its stream lookups
    // stay within a page's events plus readAllSkippedRowsBeforeJoin.
    let visibility: StreamVisibility | null = new StreamVisibility(this.statements.selectStream, now);
    let skipped = 0;
    // matchesPayload decides what passes the SQL payload prefilter, so a page may need more
    // than one chunk: fetch until the page is full or the log ends.
    const result: Result[] = [];
    let chunk = limit;
    let bytes = 0;
    for (;;) {
      const statement = this.readAllStatement(direction, filter, shape, prefilter, visibility === null);
      const args = visibility === null ? [from, ...params, now, chunk] : [from, ...params, chunk];
      let seen = 0;
      let lastPosition = -1;
      let joinNow = false;
      for (const row of statement.iterate(...args) as IterableIterator<Row & SelectedAllRow>) {
        seen++;
        lastPosition = row.position;
        let event: Result | null = null;
        let size = 0;
        if (visibility === null || visibility.visible(row.streamId, row.version, shape.createdAtMs(row))) {
          size = maxBytes === undefined ? 0 : encodedSizeBytes(row);
          // $all rows select their stream id: no stream for finish() to fill in.
          event = shape.finish(row, "");
          if (filter.payload !== undefined && !matchesPayload(filter.payload, shape.payload(event))) event = null;
        }
        if (event === null) {
          // Skipped: hidden, or refused by the payload filter.
          if (visibility !== null && ++skipped > readAllSkippedRowsBeforeJoin) {
            joinNow = true;
            break;
          }
          continue;
        }
        result.push(event);
        bytes += size;
        if (result.length === limit || (maxBytes !== undefined && bytes >= maxBytes)) return result;
      }
      if (joinNow) visibility = null;
      else if (seen < chunk) return result;
      from = direction === "forward" ? lastPosition + 1 : lastPosition - 1;
      if (from < 0) return result;
      chunk = Math.max(limit - result.length, readAllChunkMin);
    }
  }

  /** The stream-read statements that select a shape's columns, prepared on first use. */
  private readStatements(shape: ReadShape<never, unknown>): ReadStatements {
    let statements = this.streamReadStatements.get(shape.key);
    if (statements === undefined) {
      statements = prepareReadStatements(this.db, shape.streamColumns);
      this.streamReadStatements.set(shape.key, statements);
    }
    return statements;
  }

  /**
   * The $all statement for a filter's shape. With `join`, it shows only visible events (the
   * retention SQL over a join with streams; its last two ? are now in ms and the limit);
   * without, every event not scavenged, for StreamVisibility to judge (its last ? is the limit).
   */
  private readAllStatement(direction: Direction, filter: EventFilter, shape: ReadShape<never, unknown>, prefilter: PayloadPrefilter | null, join: boolean): Statement {
    const typeCount = filter.eventTypes?.length ?? 0;
    const key = `${shape.key}:${direction}:${join}:${typeCount}:${filter.streamPrefix !== undefined}:${filter.streamPattern !== undefined}:${prefilter?.key ?? ""}`;
    let statement = this.readAllStatements.get(key);
    if (statement === undefined) {
      const conditions = [direction === "forward" ? "e.position >= ?" : "e.position <= ?"];
      if (typeCount > 0) conditions.push(`e.type IN (${new Array(typeCount).fill("?").join(", ")})`);
      if (filter.streamPrefix !== undefined) conditions.push("e.stream_id GLOB ?");
      if (filter.streamPattern !== undefined) conditions.push("e.stream_id GLOB ?");
      if (prefilter !== null && prefilter.sql !== null) conditions.push(`(${prefilter.sql})`);
      // Every filter shape (type count, payload fields) prepares its own statement: a bound keeps
      // clients that vary their filters from growing the cache without end.
      if (this.readAllStatements.size >= readAllStatementsMax) {
        for (const cached of this.readAllStatements.values()) cached.finalize();
        this.readAllStatements.clear();
      }
      const sql = `SELECT ${shape.allColumns}
        FROM events e${join ? " JOIN streams s ON s.stream_id = e.stream_id" : ""}
        WHERE ${conditions.join(" AND ")} AND ${join ? visibleCondition : "e.data IS NOT NULL"}
        ORDER BY e.position ${direction === "forward" ? "ASC" : "DESC"} LIMIT ?`;
      statement = this.db.prepare(sql);
      this.readAllStatements.set(key, statement);
    }
    return statement;
  }

  /** True when the stream has visible events (not never-written, not deleted). */
  async exists(streamId: string): Promise<boolean> {
    this.open();
    return streamIsVisible(this.loadStreamState(validateStreamId(streamId, true)));
  }

  /**
   * The stream's last version: what an exact expected version must name. -1 for a stream never
   * written. A soft-deleted stream keeps its last version (its numbering continues).
   */
  async version(streamId: string): Promise<number> {
    this.open();
    const stream = this.loadStreamState(validateStreamId(streamId, true));
    if (stream.deletion === "hard") throw new StreamDeletedError(streamId);
    return stream.lastVersion;
  }

  /** Lists visible streams in stream-id order, a page at a time. */
  async streams(options: { after?: string; limit?: number } = {}): Promise<StreamsPage> {
    this.open();
    const limit = options.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > limits.streamsPageCountMax) {
      throw new InvalidArgumentError(`limit must be an integer from 1 to ${limits.streamsPageCountMax} (streamsPageCountMax), got ${String(limit)}`);
    }
    if (options.after !== undefined && typeof options.after !== "string") throw new InvalidArgumentError("after must be a stream id");
    const rows = this.statements.listStreams.values(options.after ?? "", limit + 1) as StreamRow[];
    const now = this.clock();
    const page = rows.slice(0, limit).map((row) => {
      const stream = toStreamState(row);
      return { streamId: stream.streamId, version: stream.lastVersion, eventCount: this.visibleEventCount(stream, toStreamMetadata(row), now) };
    });
    const last = page[page.length - 1];
    return { streams: page, next: rows.length > limit && last !== undefined ? last.streamId : null };
  }

  /** How many of a stream's events a reader sees now (for streams()). */
  private visibleEventCount(stream: StreamState, metadata: StreamMetadata, nowMs: number): number {
    const first = firstVisibleVersion(stream, metadata);
    // maxAgeMs hides events by their time, not their version: those are counted.
    if (metadata.maxAgeMs !== undefined) {
      return (this.statements.countYoungEvents.values(stream.streamId, first, oldestVisibleCreatedAtMs(metadata, nowMs))[0]?.[0] as number | undefined) ?? 0;
    }
    // Versions from `first` on, less those a scavenge emptied under a retention since lifted
    // (a scavenge empties a stream's oldest versions): one index seek to the first stored one.
    const stored = this.statements.firstStoredVersion.values(stream.streamId, first)[0]?.[0] as number | undefined;
    return stored === undefined ? 0 : stream.lastVersion + 1 - stored;
  }

  /** Folds a stream's events into a state, from the start. */
  async fold<S>(streamId: string, reducer: (state: S, event: RecordedEvent) => S, initial: S): Promise<FoldResult<S>> {
    return this.foldFrom(streamId, reducer, initial, 0, -1);
  }

  /**
   * Folds from the latest snapshot (its data is the starting state) plus the events after it;
   * from `initial` and the start when there is no snapshot.
   */
  async foldFromSnapshot<S>(streamId: string, reducer: (state: S, event: RecordedEvent) => S, initial: S): Promise<FoldResult<S>> {
    const snapshot = await this.snapshots.load(streamId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
    if (snapshot === null) return this.fold(streamId, reducer, initial);
    return this.foldFrom(streamId, reducer, snapshot.data as S, snapshot.version + 1, snapshot.version);
  }

  private async foldFrom<S>(streamId: string, reducer: (state: S, event: RecordedEvent) => S, initial: S, from: number, version: number): Promise<FoldResult<S>> {
    let state = initial;
    let next = from;
    let last = version;
    for (;;) {
      let page: RecordedEvent[];
      try {
        page = await this.read(streamId, { from: next, limit: limits.readCountMax });
      } catch (error) {
        if (error instanceof StreamNotFoundError && last === -1) return { state, version: -1, streamExists: false };
        throw error;
      }
      for (const event of page) {
        state = reducer(state, event);
        last = event.version;
      }
      if (page.length < limits.readCountMax) return { state, version: last, streamExists: true };
      next = last + 1;
    }
  }

  // -------------------------------------------------------------------------------- scavenge

  /**
   * Reclaims the space of events that deletes and retention hid: their data and metadata are
   * dropped (the row stays, so the event id stays taken), snapshots of hard-deleted streams and
   * of soft-deleted versions go, and the file gives the pages back.
   */
  async scavenge(): Promise<ScavengeResult> {
    const committer = this.writable("scavenge");
    const fileBytesBefore = this.fileBytes();
    let eventsRemoved = 0;
    // Events appended after this started are left for the next scavenge.
    const end = this.nextPosition;
    for (let from = 0; from < end; from += scavengePositionsPerStep) {
      // What is hidden is decided and husked in one write, so a metadata change that makes an
      // event visible again cannot fall between the two.
      eventsRemoved += await committer.submit(() => {
        const positions = this.statements.hiddenEvents.values(from, Math.min(end, from + scavengePositionsPerStep), this.clock()) as Array<[number]>;
        for (const [position] of positions) this.statements.huskEvent.run(position);
        return positions.length;
      });
    }
    const snapshotsRemoved = await committer.submit(() => this.statements.deleteDeadSnapshots.run().changes);
    // Between groups no transaction is open (groups run synchronously), so these run alone.
    this.db.run("PRAGMA incremental_vacuum");
    this.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    return { eventsRemoved, snapshotsRemoved, fileBytesBefore, fileBytesAfter: this.fileBytes() };
  }

  // ---------------------------------------------------------------------- info and lifecycle

  async info(): Promise<StoreInfo> {
    this.open();
    const counts = this.db.query("SELECT (SELECT count(*) FROM streams s WHERE s.deletion = 0 AND EXISTS (SELECT 1 FROM events WHERE stream_id = s.stream_id)) AS streams, (SELECT count(*) FROM events) AS events").get() as { streams: number; events: number };
    const storeId = this.db.query("SELECT value FROM store_meta WHERE key = 'store_id'").get() as { value: string } | null;
    return {
      dataDir: this.dataDir,
      file: this.file,
      schemaVersion,
      storeId: storeId?.value ?? "",
      durability: this.readOnly ? null : this.durability,
      readOnly: this.readOnly,
      headPosition: this.readOnly ? this.readHeadPosition() : this.nextPosition,
      streamCount: counts.streams,
      eventRows: counts.events,
      fileBytes: fileSize(this.file),
      walBytes: fileSize(`${this.file}-wal`),
    };
  }

  /** The store's id (a UUID fixed when the store was created); "" on a read-only store of an old build. */
  get storeId(): string {
    const row = this.db.query("SELECT value FROM store_meta WHERE key = 'store_id'").get() as { value: string } | null;
    return row?.value ?? "";
  }

  /** The position the next event will get. */
  get headPosition(): number {
    return this.readOnly ? this.readHeadPosition() : this.nextPosition;
  }

  private readHeadPosition(): number {
    const head = this.statements.maxPosition.get() as { p: number | null } | null;
    return (head?.p ?? -1) + 1;
  }

  /** Called after every committed group that appended events. Returns a function that detaches it. */
  onCommitted(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  private notifyCommitted(): void {
    if (this.groupAppends.length === 0) return;
    const appends = this.groupAppends;
    this.groupAppends = [];
    for (const listener of this.commitListeners) {
      try {
        listener(appends, this.nextPosition);
      } catch (error) {
        // A listener's bug must not undo or hide a commit that already happened.
        console.error("edge-esdb: a commit listener threw:", error);
      }
    }
  }

  /**
   * Called at the start of close(), before queued writes are flushed (subscriptions stop there
   * and save their checkpoints). Returns a function that detaches it.
   */
  onClose(listener: () => Promise<void> | void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Writes out what is queued, checkpoints the WAL into the file, and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const listener of [...this.closeListeners]) {
      this.closeListeners.delete(listener);
      try {
        await listener();
      } catch (error) {
        console.error("edge-esdb: a close listener threw:", error);
      }
    }
    if (this.closed) return;
    this.committer?.close();
    this.closed = true;
    try {
      if (!this.readOnly) {
        this.db.run("PRAGMA optimize");
        // A reader holding an old snapshot (an inspection, a backup) keeps the checkpoint from
        // truncating the WAL; wait for it briefly, not the writers' 5 s, so a shutdown stays
        // quick. What is left in the WAL is committed and is read or folded in at the next open.
        this.db.run(`PRAGMA busy_timeout = ${closeCheckpointWaitMs}`);
        this.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } finally {
      this.db.close();
      this.lock?.release();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // -------------------------------------------------------------------------------- internal

  /** @internal for the snapshot store */
  writable(what: string): GroupCommitter {
    this.open();
    if (this.committer === null) throw new ReadOnlyError(what);
    return this.committer;
  }

  /** @internal */
  open(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** @internal */
  get database(): Database {
    return this.db;
  }

  /** @internal */
  now(): number {
    return this.clock();
  }

  /** @internal */
  loadStreamState(streamId: string): StreamState {
    const row = this.statements.selectStream.values(streamId)[0] as StreamRow | undefined;
    return row === undefined ? emptyStreamState(streamId) : toStreamState(row);
  }

  private rememberStream(stream: StreamState): void {
    if (!this.knownStreams.has(stream.streamId) && this.knownStreams.size >= knownStreamsMax) {
      const oldest = this.knownStreams.keys().next();
      if (oldest.done !== true) this.knownStreams.delete(oldest.value);
    }
    this.knownStreams.set(stream.streamId, stream);
  }

  private saveStreamState(stream: StreamState): void {
    this.knownStreams.delete(stream.streamId);
    this.statements.upsertStream.run(stream.streamId, stream.truncateBefore, deletionCode(stream.deletion), this.clock());
  }

  private lookupEventIds(command: AppendCommand): Array<StoredEventRef | null> {
    return command.events.map((event) => {
      const row = this.statements.selectEventById.values(event.id)[0] as [number, string, number] | undefined;
      return row === undefined ? null : { id: event.id, streamId: row[1], version: row[2], position: row[0] };
    });
  }

  private newEventId(): string {
    if (this.randomOffset + 10 > this.randomPool.length) {
      crypto.getRandomValues(this.randomPool);
      this.randomOffset = 0;
    }
    const offset = this.randomOffset;
    this.randomOffset += 10;
    return uuidV7(this.clock(), this.randomPool, offset);
  }

  private fileBytes(): number {
    return fileSize(this.file) + fileSize(`${this.file}-wal`);
  }
}

/** Snapshots of a stream's state at a version: save, load (latest or a version), list, delete. */
export class SnapshotStore {
  constructor(private readonly store: EventStore) {}

  /** The lowest version of a snapshot that is not of a deleted life; stream_deleted after a hard delete. */
  private firstSnapshotVersion(streamId: string): number {
    const stream = this.store.loadStreamState(streamId);
    if (stream.deletion === "hard") throw new StreamDeletedError(streamId);
    return stream.truncateBefore;
  }

  async save(streamId: string, version: number, data: JsonValue | Uint8Array, metadata: JsonValue = null): Promise<Snapshot> {
    const committer = this.store.writable("snapshots.save");
    validateStreamId(streamId);
    validateVersionArgument(version, "version");
    let encoded: string | Uint8Array;
    let contentType: string;
    if (data instanceof Uint8Array) {
      encoded = data.slice();
      contentType = "application/octet-stream";
    } else {
      if (data === undefined) throw new InvalidArgumentError("snapshot data is missing");
      encoded = JSON.stringify(validateJson(data, "snapshot data"));
      contentType = jsonContentType;
    }
    const encodedMetadata = metadata === null || metadata === undefined ? null : JSON.stringify(validateJson(metadata, "snapshot metadata"));
    const sizeBytes = (typeof encoded === "string" ? utf8Bytes(encoded) : encoded.byteLength) + (encodedMetadata === null ? 0 : utf8Bytes(encodedMetadata));
    if (sizeBytes > limits.snapshotSizeBytesMax) throw new TooLargeError("snapshot (data + metadata) in bytes", "snapshotSizeBytesMax", limits.snapshotSizeBytesMax, sizeBytes);
    const createdAtMs = this.store.now();
    const startedMs = performance.now();
    await committer.submit(() => {
      const stream = this.store.loadStreamState(streamId);
      if (stream.deletion === "hard") throw new StreamDeletedError(streamId);
      if (!streamIsVisible(stream)) throw new StreamNotFoundError(streamId);
      if (version > stream.lastVersion) {
        throw new InvalidArgumentError(`snapshot of '${streamId}' at version ${version}: the stream's last version is ${stream.lastVersion}`);
      }
      if (version < stream.truncateBefore) {
        throw new InvalidArgumentError(`snapshot of '${streamId}' at version ${version}: versions before ${stream.truncateBefore} were deleted`);
      }
      this.store.database.run(
        "INSERT OR REPLACE INTO snapshots (stream_id, version, data, metadata, content_type, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [streamId, version, encoded, encodedMetadata, contentType, createdAtMs],
      );
    }, { bytes: sizeBytes, multiStatement: false });
    this.store.observer?.snapshotSaved(streamId, version, sizeBytes, performance.now() - startedMs);
    return { streamId, version, data, metadata: metadata ?? null, contentType, createdAt: new Date(createdAtMs) };
  }

  /**
   * The latest snapshot, or the one at `version`. Throws not_found when there is none. A
   * snapshot of versions that a soft delete removed (below where the stream was written again)
   * belongs to the stream's deleted life: it is not found, and scavenge removes it.
   */
  async load(streamId: string, version?: number): Promise<Snapshot> {
    this.store.open();
    validateStreamId(streamId, true);
    const first = this.firstSnapshotVersion(streamId);
    const row =
      version === undefined
        ? (this.store.database.query(`SELECT ${snapshotColumns} FROM snapshots WHERE stream_id = ? AND version >= ? ORDER BY version DESC LIMIT 1`).values(streamId, first)[0] as SnapshotRow | undefined)
        : (this.store.database.query(`SELECT ${snapshotColumns} FROM snapshots WHERE stream_id = ? AND version = ? AND version >= ?`).values(streamId, validateVersionArgument(version, "version"), first)[0] as SnapshotRow | undefined);
    if (row === undefined) throw new NotFoundError(version === undefined ? `no snapshot of '${streamId}'` : `no snapshot of '${streamId}' at version ${version}`);
    return toSnapshot(row);
  }

  /** Every snapshot of a stream, newest version first, without data. */
  async list(streamId: string): Promise<Array<Omit<Snapshot, "data"> & { sizeBytes: number }>> {
    this.store.open();
    validateStreamId(streamId, true);
    const first = this.firstSnapshotVersion(streamId);
    const rows = this.store.database
      .query("SELECT stream_id, version, metadata, content_type, created_at, length(data) FROM snapshots WHERE stream_id = ? AND version >= ? ORDER BY version DESC")
      .values(streamId, first) as Array<[string, number, string | null, string, number, number]>;
    return rows.map((r) => ({ streamId: r[0], version: r[1], metadata: r[2] === null ? null : (JSON.parse(r[2]) as JsonValue), contentType: r[3], createdAt: new Date(r[4]), sizeBytes: r[5] }));
  }

  /** Deletes the snapshot at `version`. Throws not_found when there is none. */
  async delete(streamId: string, version: number): Promise<void> {
    const committer = this.store.writable("snapshots.delete");
    validateStreamId(streamId);
    validateVersionArgument(version, "version");
    await committer.submit(() => {
      const first = this.firstSnapshotVersion(streamId);
      const changes = this.store.database.run("DELETE FROM snapshots WHERE stream_id = ? AND version = ? AND version >= ?", [streamId, version, first]).changes;
      if (changes === 0) throw new NotFoundError(`no snapshot of '${streamId}' at version ${version}`);
    });
  }
}

type SnapshotRow = [string, number, string | Uint8Array, string | null, string, number];

const snapshotColumns = "stream_id, version, data, metadata, content_type, created_at";

function toSnapshot(row: SnapshotRow): Snapshot {
  return {
    streamId: row[0],
    version: row[1],
    data: decodeData(row[2], row[4]),
    metadata: row[3] === null ? null : (JSON.parse(row[3]) as JsonValue),
    contentType: row[4],
    createdAt: new Date(row[5]),
  };
}

/**
 * True when an append must write the stream's row: a new stream, or one whose deletion state
 * or truncation changes (written again after a soft delete). A plain append writes no row.
 */
function streamRowChanges(before: StreamState, after: StreamState): boolean {
  return before.lastVersion < 0 && before.deletion === "none" ? true : before.deletion !== after.deletion || before.truncateBefore !== after.truncateBefore;
}

/** Events that deletes and retention leave visible, for a join of events e with streams s; the one ? is now in ms. */
const retainedCondition = `e.version >= s.truncate_before
  AND (s.meta_truncate_before IS NULL OR e.version >= s.meta_truncate_before)
  AND (s.max_count IS NULL OR e.version > (SELECT max(version) FROM events WHERE stream_id = s.stream_id) - s.max_count)
  AND (s.max_age_ms IS NULL OR e.created_at >= ? - s.max_age_ms)`;

/** Events a reader may see: retained and not scavenged. */
const visibleCondition = `e.data IS NOT NULL AND ${retainedCondition}`;

/** The columns of an $all row that decide whether a reader may see it. */
interface SelectedAllRow {
  position: number;
  streamId: string;
  version: number;
}

/**
 * Whether an $all read may show an event, by its stream's state and retention, each stream
 * looked up once per read. The same rule as retainedCondition (firstVisibleVersion and
 * oldestVisibleCreatedAtMs): a delete hides every version before its truncation point, and an
 * event whose stream has no row is not shown. A read switches to the join after
 * readAllSkippedRowsBeforeJoin skipped rows, so this holds at most a page's streams and those.
 */
class StreamVisibility {
  private readonly streams = new Map<string, { first: number; oldestMs: number }>();

  constructor(
    private readonly selectStream: Statement,
    private readonly nowMs: number,
  ) {}

  visible(streamId: string, version: number, createdAtMs: number): boolean {
    let bounds = this.streams.get(streamId);
    if (bounds === undefined) {
      const row = this.selectStream.values(streamId)[0] as StreamRow | undefined;
      if (row === undefined) {
        bounds = { first: Number.POSITIVE_INFINITY, oldestMs: Number.POSITIVE_INFINITY };
      } else {
        const metadata = toStreamMetadata(row);
        bounds = { first: firstVisibleVersion(toStreamState(row), metadata), oldestMs: oldestVisibleCreatedAtMs(metadata, this.nowMs) };
      }
      this.streams.set(streamId, bounds);
    }
    return version >= bounds.first && createdAtMs >= bounds.oldestMs;
  }
}

function prepareStatements(db: Database) {
  return {
    maxPosition: db.prepare("SELECT max(position) AS p FROM events"),
    selectStream: db.prepare(`SELECT ${streamColumns} FROM streams s WHERE s.stream_id = ?`),
    listStreams: db.prepare(
      `SELECT ${streamColumns} FROM streams s WHERE s.stream_id > ? AND s.deletion = 0
         AND EXISTS (SELECT 1 FROM events WHERE stream_id = s.stream_id) ORDER BY s.stream_id LIMIT ?`,
    ),
    selectEventById: db.prepare("SELECT position, stream_id, version FROM events WHERE event_id = ?"),
    upsertStream: db.prepare(
      `INSERT INTO streams (stream_id, truncate_before, deletion, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET truncate_before = excluded.truncate_before, deletion = excluded.deletion, updated_at = excluded.updated_at`,
    ),
    setMetadata: db.prepare("UPDATE streams SET max_count = ?, max_age_ms = ?, meta_truncate_before = ? WHERE stream_id = ?"),
    /** Hidden events not yet husked, at positions [?, ?); the third ? is now in ms. */
    hiddenEvents: db.prepare(
      `SELECT e.position FROM events e JOIN streams s ON s.stream_id = e.stream_id
       WHERE e.position >= ? AND e.position < ? AND e.data IS NOT NULL AND NOT (s.deletion < 2 AND ${retainedCondition})`,
    ),
    /** A stream's visible events from a version on, counted for a stream with maxAgeMs; the last ? is now minus maxAgeMs. */
    /** A stream's first version from ? on that a scavenge has not emptied. */
    firstStoredVersion: db.prepare("SELECT version FROM events WHERE stream_id = ? AND version >= ? AND data IS NOT NULL ORDER BY version LIMIT 1"),
    countYoungEvents: db.prepare("SELECT count(*) FROM events WHERE stream_id = ? AND version >= ? AND data IS NOT NULL AND created_at >= ?"),
    huskEvent: db.prepare("UPDATE events SET data = NULL, metadata = NULL WHERE position = ?"),
    /** Snapshots of hard-deleted streams, and of versions a soft delete removed. */
    deleteDeadSnapshots: db.prepare(
      `DELETE FROM snapshots WHERE EXISTS (SELECT 1 FROM streams s WHERE s.stream_id = snapshots.stream_id
         AND (s.deletion = 2 OR snapshots.version < s.truncate_before))`,
    ),
  };
}

/** A stream's reads forward and backward, with and without the maxAgeMs condition, selecting `columns`. */
function prepareReadStatements(db: Database, columns: string) {
  return {
    forward: db.prepare(`SELECT ${columns} FROM events WHERE stream_id = ? AND version >= ? AND data IS NOT NULL ORDER BY version ASC LIMIT ?`),
    backward: db.prepare(`SELECT ${columns} FROM events WHERE stream_id = ? AND version <= ? AND version >= ? AND data IS NOT NULL ORDER BY version DESC LIMIT ?`),
    forwardByAge: db.prepare(`SELECT ${columns} FROM events WHERE stream_id = ? AND version >= ? AND data IS NOT NULL AND created_at >= ? ORDER BY version ASC LIMIT ?`),
    backwardByAge: db.prepare(`SELECT ${columns} FROM events WHERE stream_id = ? AND version <= ? AND version >= ? AND data IS NOT NULL AND created_at >= ? ORDER BY version DESC LIMIT ?`),
  };
}

type ReadStatements = ReturnType<typeof prepareReadStatements>;

/** Rows per INSERT statement: 32 rows bind 288 parameters, well under SQLite's 32766. */
const insertRowsMax = 32;
const eventColumnCount = eventColumns.split(", ").length;
const eventPlaceholders = `(${new Array(eventColumnCount).fill("?").join(", ")})`;

function isEventIdConflict(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return typeof e?.code === "string" && e.code.startsWith("SQLITE_CONSTRAINT") && typeof e.message === "string" && e.message.includes("events.event_id");
}

function validateDirection(direction: unknown): Direction {
  if (direction === undefined) return "forward";
  if (direction === "forward" || direction === "backward") return direction;
  throw new InvalidArgumentError(`direction must be "forward" or "backward", got ${JSON.stringify(direction)}`);
}

function validateMaxBytes(maxBytes: unknown): number | undefined {
  if (maxBytes === undefined) return undefined;
  if (typeof maxBytes !== "number" || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new InvalidArgumentError(`maxBytes must be a positive integer, got ${String(maxBytes)}`);
  }
  return maxBytes;
}


/**
 * Runs a read statement that selects the shape's columns and finishes each row (a stream read's
 * rows with the `streamId` it named). Without maxBytes, all rows; with it, stopping after the
 * row that brings the bytes (data and metadata as stored, so a reader can tell a page cut at
 * maxBytes from the log's end) to maxBytes: rows past the bound are never built.
 */
function selectRows<Row extends StoredParts, Result>(statement: Statement, params: Array<string | number>, maxBytes: number | undefined, shape: ReadShape<Row, Result>, streamId: string): Result[] {
  const events: Result[] = [];
  if (maxBytes === undefined) {
    for (const row of statement.iterate(...params) as IterableIterator<Row>) events.push(shape.finish(row, streamId));
    return events;
  }
  let bytes = 0;
  for (const row of statement.iterate(...params) as IterableIterator<Row>) {
    bytes += encodedSizeBytes(row);
    events.push(shape.finish(row, streamId));
    if (bytes >= maxBytes) break;
  }
  return events;
}

function validateLimit(limit: unknown): number {
  if (limit === undefined) return limits.readCountDefault;
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1 || limit > limits.readCountMax) {
    throw new InvalidArgumentError(`limit must be an integer from 1 to ${limits.readCountMax} (readCountMax), got ${String(limit)}`);
  }
  return limit;
}

function validateVersionArgument(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be an integer >= 0, got ${String(value)}`);
  }
  return value;
}

function globEscape(text: string): string {
  return text.replace(/[[*?]/g, (c) => `[${c}]`);
}

/** Our patterns (`*`, `?`) in SQLite GLOB syntax, with GLOB's other specials escaped. */
function patternToGlob(pattern: string): string {
  return pattern.replace(/\[/g, "[[]");
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
