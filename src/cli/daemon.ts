// The CLI's way to a store: the running daemon over its unix socket when the config names a socket
// (the `socket` setting: the packaged /etc/edge-esdb/edge-esdb.toml does, or EDGE_ESDB_SOCKET) and
// a daemon answers /health on it; otherwise the data dir itself (read-only for inspection). One
// small interface, so a command does not care which it got. Backup, restore, verify and export
// work on the file itself in either case (they are file-level and consistent beside the daemon).

import { existsSync } from "node:fs";
import { StreamNotFoundError } from "../lib/index.ts";
import type { AppendResult, EventInput, ExpectedVersion, RecordedEvent } from "../events/index.ts";
import type { ReadAllOptions, ReadOptions, Snapshot, StreamsPage } from "../store/index.ts";
import { EdgeEsdbClient } from "../client/index.ts";
import type { Config } from "./config.ts";
import { openForReading, openForWriting } from "./context.ts";

export type SnapshotSummary = Omit<Snapshot, "data"> & { sizeBytes: number };

/** What inspection needs; the EventStore and the daemon's client both provide it. */
export interface StoreReader {
  /** "daemon" when the requests go over the socket. */
  readonly via: "daemon" | "data dir";
  read(streamId: string, options?: ReadOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  streams(options?: { after?: string; limit?: number }): Promise<StreamsPage>;
  version(streamId: string): Promise<number>;
  loadSnapshot(streamId: string, version?: number): Promise<Snapshot>;
  listSnapshots(streamId: string): Promise<SnapshotSummary[]>;
  /**
   * Every event after `cursor` (a version for a stream, a position for "$all"), as it is written,
   * until `signal` aborts: the daemon's live read (SSE), or polling the data dir every `pollMs`.
   */
  follow(stream: string, cursor: number, options: { signal: AbortSignal; pollMs: number }): AsyncIterable<RecordedEvent>;
  close(): Promise<void>;
}

export interface StoreWriter extends StoreReader {
  append(streamId: string, expectedVersion: ExpectedVersion, events: readonly EventInput[]): Promise<AppendResult>;
  /** For import: on the data dir, system streams ($conflicts, ...) too; the daemon takes user streams only. */
  appendImported(streamId: string, events: readonly EventInput[]): Promise<AppendResult>;
  /** The position the next event will get. */
  headPosition(): Promise<number>;
}

/** The daemon's client when one answers on the configured socket, else null. */
export async function connectDaemon(config: Config): Promise<EdgeEsdbClient | null> {
  if (config.socket === "" || !existsSync(config.socket)) return null;
  const client = new EdgeEsdbClient({ socketPath: config.socket });
  try {
    if (await client.health()) return client;
  } catch {
    // A socket file with nobody behind it (a daemon that was killed): use the data dir.
  }
  client.close();
  return null;
}

function overDaemon(client: EdgeEsdbClient): StoreWriter {
  return {
    via: "daemon",
    append: (streamId, expectedVersion, events) => client.append(streamId, expectedVersion, events),
    appendImported: (streamId, events) => client.append(streamId, "any", events),
    headPosition: async () => (await client.info()).headPosition,
    read: (streamId, options) => client.read(streamId, options),
    readAll: (options) => client.readAll(options),
    streams: (options) => client.streams(options),
    version: (streamId) => client.version(streamId),
    loadSnapshot: (streamId, version) => client.snapshots.load(streamId, version),
    listSnapshots: (streamId) => client.snapshots.list(streamId),
    follow: (stream, cursor, { signal }) => (stream === "$all" ? client.liveAll({ from: cursor + 1, signal }) : client.live(stream, { from: cursor + 1, signal })),
    close: async () => client.close(),
  };
}

function overStore(store: ReturnType<typeof openForReading>): StoreWriter {
  return {
    via: "data dir",
    append: (streamId, expectedVersion, events) => store.append(streamId, expectedVersion, events),
    appendImported: (streamId, events) => store.appendSystem(streamId, "any", events),
    headPosition: async () => store.headPosition,
    read: (streamId, options) => store.read(streamId, options),
    readAll: (options) => store.readAll(options),
    streams: (options) => store.streams(options),
    version: (streamId) => store.version(streamId),
    loadSnapshot: (streamId, version) => store.snapshots.load(streamId, version),
    listSnapshots: (streamId) => store.snapshots.list(streamId),
    follow: (stream, cursor, options) => poll(store, stream, cursor, options),
    close: () => store.close(),
  };
}

const pollPageCount = 500;

/** Polls a store for what came after `cursor`; a stream that does not exist yet is waited for. */
async function* poll(store: ReturnType<typeof openForReading>, stream: string, cursor: number, options: { signal: AbortSignal; pollMs: number }): AsyncGenerator<RecordedEvent> {
  let after = cursor;
  while (!options.signal.aborted) {
    let page: RecordedEvent[];
    try {
      page = stream === "$all" ? await store.readAll({ fromPosition: after + 1, limit: pollPageCount }) : await store.read(stream, { from: after + 1, limit: pollPageCount });
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
      page = [];
    }
    for (const event of page) {
      yield event;
      after = stream === "$all" ? event.position : event.version;
    }
    if (page.length < pollPageCount) await sleepUnlessAborted(options.pollMs, options.signal);
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** For inspection: the daemon if one answers, else the data dir read-only. */
export async function openReader(config: Config): Promise<StoreReader> {
  const client = await connectDaemon(config);
  return client === null ? overStore(openForReading(config)) : overDaemon(client);
}

/** For writes: the daemon if one answers, else the data dir (fails with store_locked if a writer has it). */
export async function openWriter(config: Config): Promise<StoreWriter> {
  const client = await connectDaemon(config);
  return client === null ? overStore(openForWriting(config)) : overDaemon(client);
}
