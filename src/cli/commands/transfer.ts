// `edge-esdb export` and `edge-esdb import`: the store's events as NDJSON, one event a line in
// global order, with their ids, so that importing the same file twice stores each event once (the
// store's idempotent append). Bytes travel as {"$bytes": base64}. A progress bar goes to stderr,
// and only when stderr is a terminal; stdout carries nothing but data or the summary.
//
// Import goes through the daemon when one answers on the configured socket (else it opens the
// data dir for writing), and appends with expected version "any" and the exported ids; it keeps stream ids, types,
// data, metadata and the order, not the positions (the target's log numbers them) nor createdAt
// (the store stamps appends with its own clock).

import type { Command } from "commander";
import { createWriteStream, statSync } from "node:fs";
import { InvalidArgumentError } from "../../lib/index.ts";
import type { EventInput, JsonValue, RecordedEvent } from "../../events/index.ts";
import type { EventStore } from "../../store/index.ts";
import { configFor, openForReading, wantsJson } from "../context.ts";
import { openWriter, type StoreWriter } from "../daemon.ts";
import { jsonReplacer, printJson } from "../output.ts";

/** Events read per page when exporting. */
const exportPageCount = 1_000;
/** Consecutive events of one stream appended together, at most. */
const importBatchCount = 100;
/** Appends in flight while importing, so the group committer shares fsyncs among them. */
const importInFlightMax = 32;
/** A line of NDJSON longer than this is refused (an event is at most a few MiB). */
const importLineBytesMax = 64 * 1024 * 1024;

export interface ExportedEvent {
  id: string;
  streamId: string;
  version: number;
  position: number;
  type: string;
  data: JsonValue | { $bytes: string };
  metadata: JsonValue;
  contentType: string;
  createdAt: string;
}

class Progress {
  private lastDrawMs = 0;
  private readonly enabled: boolean;
  constructor(
    private readonly label: string,
    private readonly total: number,
    enabled = process.stderr.isTTY === true,
  ) {
    this.enabled = enabled && total > 0;
  }

  update(done: number, force = false): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.lastDrawMs < 100) return;
    this.lastDrawMs = now;
    const fraction = Math.min(1, done / this.total);
    const width = 30;
    const filled = Math.round(fraction * width);
    process.stderr.write(`\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`);
  }

  finish(done: number): void {
    if (!this.enabled) return;
    this.update(done, true);
    process.stderr.write("\n");
  }
}

export function toExported(event: RecordedEvent): ExportedEvent {
  return {
    id: event.id,
    streamId: event.streamId,
    version: event.version,
    position: event.position,
    type: event.type,
    data: event.data instanceof Uint8Array ? { $bytes: Buffer.from(event.data).toString("base64") } : event.data,
    metadata: event.metadata,
    contentType: event.contentType,
    createdAt: event.createdAt.toISOString(),
  };
}

/**
 * Writes every visible event in global order; returns how many. System streams ($parked-*,
 * $conflicts) stay behind: they belong to this node's subscriptions, and a daemon refuses
 * appends to them, so an import through it would stop half-way.
 */
export async function exportEvents(store: EventStore, write: (line: string) => void | Promise<void>, onProgress: (position: number) => void = () => {}): Promise<number> {
  let from = 0;
  let count = 0;
  for (;;) {
    const page = await store.readAll({ fromPosition: from, limit: exportPageCount });
    for (const event of page) {
      if (event.streamId.startsWith("$")) continue;
      await write(`${JSON.stringify(toExported(event), jsonReplacer)}\n`);
      count++;
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < exportPageCount) return count;
    from = last.position + 1;
    onProgress(from);
  }
}

function parseLine(line: string, lineNumber: number): ExportedEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new InvalidArgumentError(`line ${lineNumber}: not JSON: ${(error as Error).message}`);
  }
  const e = value as Partial<ExportedEvent> | null;
  if (e === null || typeof e !== "object" || typeof e.id !== "string" || typeof e.streamId !== "string" || typeof e.type !== "string" || !("data" in e)) {
    throw new InvalidArgumentError(`line ${lineNumber}: an event needs id, streamId, type and data`);
  }
  return e as ExportedEvent;
}

function toInput(e: ExportedEvent): EventInput {
  const data = e.data;
  const bytes = data !== null && typeof data === "object" && !Array.isArray(data) && typeof (data as { $bytes?: unknown }).$bytes === "string" && Object.keys(data).length === 1;
  return {
    id: e.id,
    type: e.type,
    data: bytes ? new Uint8Array(Buffer.from((data as { $bytes: string }).$bytes, "base64")) : (data as JsonValue),
    ...(e.metadata === null || e.metadata === undefined ? {} : { metadata: e.metadata }),
    ...(bytes && typeof e.contentType === "string" ? { contentType: e.contentType } : {}),
  };
}

export interface ImportResult {
  lines: number;
  /** Events read from the input. */
  events: number;
  /** Of those, events the store did not hold yet. */
  added: number;
  batches: number;
}

/**
 * Appends the NDJSON events read from `lines` in order. Consecutive events of one stream go in
 * one append; a batch the store refuses (say, part of it was imported before with other batch
 * boundaries) is retried one event at a time, so re-running an import never duplicates.
 */
export async function importEvents(store: Pick<StoreWriter, "appendImported" | "headPosition">, lines: AsyncIterable<string>, onProgress: (events: number) => void = () => {}): Promise<ImportResult> {
  const inFlight = new Set<Promise<void>>();
  // Batches of one stream run one after another: a batch that falls back to one event at a time
  // must finish before the stream's next batch is submitted, or the versions come out reordered.
  const streamTails = new Map<string, Promise<void>>();
  let failure: unknown = null;
  let batch: ExportedEvent[] = [];
  let lineNumber = 0;
  let events = 0;
  let batches = 0;
  const headBefore = await store.headPosition();

  const appendBatch = async (events: ExportedEvent[]) => {
    const streamId = (events[0] as ExportedEvent).streamId;
    try {
      await store.appendImported(streamId, events.map(toInput));
    } catch (error) {
      if (events.length === 1) throw error;
      for (const e of events) await store.appendImported(streamId, [toInput(e)]);
    }
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    batches++;
    const streamId = (current[0] as ExportedEvent).streamId;
    const previous = streamTails.get(streamId) ?? Promise.resolve();
    const task = previous.then(() => (failure === null ? appendBatch(current) : undefined)).then(
      () => {
        events += current.length;
        onProgress(events);
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    const tracked: Promise<void> = task.finally(() => {
      inFlight.delete(tracked);
      if (streamTails.get(streamId) === tracked) streamTails.delete(streamId);
    });
    inFlight.add(tracked);
    streamTails.set(streamId, tracked);
    if (inFlight.size >= importInFlightMax) await Promise.race(inFlight);
    if (failure !== null) throw failure;
  };

  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    const event = parseLine(line, lineNumber);
    const first = batch[0];
    if (first !== undefined && (first.streamId !== event.streamId || batch.length >= importBatchCount)) await flush();
    batch.push(event);
  }
  await flush();
  await Promise.all(inFlight);
  if (failure !== null) throw failure;
  return { lines: lineNumber, events, added: (await store.headPosition()) - headBefore, batches };
}

/** Splits a byte stream into lines, with a bound on a line's length. */
export async function* linesOf(stream: ReadableStream<Uint8Array>, onBytes: (bytes: number) => void = () => {}): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    onBytes(chunk.byteLength);
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
    if (pending.length > importLineBytesMax) throw new InvalidArgumentError(`a line is longer than ${importLineBytesMax} bytes`);
  }
  pending += decoder.decode();
  if (pending !== "") yield pending;
}

export function registerTransfer(program: Command): void {
  program
    .command("export")
    .description("write every event as NDJSON (one event a line, with ids) to stdout or --output")
    .option("-o, --output <file>", "write to this file instead of stdout")
    .action(async (options: { output?: string }, command: Command) => {
      const config = await configFor(command);
      const store = openForReading(config);
      try {
        const progress = new Progress("export", store.headPosition, options.output !== undefined && process.stderr.isTTY === true);
        let count: number;
        if (options.output === undefined) {
          count = await exportEvents(store, (line) => {
            process.stdout.write(line);
          });
        } else {
          const out = createWriteStream(options.output);
          const write = (line: string) => (out.write(line) ? undefined : new Promise<void>((resolve) => out.once("drain", () => resolve())));
          count = await exportEvents(store, write, (position) => progress.update(position));
          await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
          progress.finish(store.headPosition);
          if (wantsJson(command)) printJson({ file: options.output, events: count });
          else console.log(`exported ${count} events to ${options.output}`);
        }
      } finally {
        await store.close();
      }
    });

  program
    .command("import")
    .description("append the events of an NDJSON export (stdin or FILE); idempotent: events already stored are skipped")
    .argument("[file]", "NDJSON file (default: stdin)")
    .action(async (file: string | undefined, _options: unknown, command: Command) => {
      const config = await configFor(command);
      const store = await openWriter(config);
      try {
        const totalBytes = file === undefined ? 0 : statSync(file).size;
        const progress = new Progress("import", totalBytes);
        let readBytes = 0;
        const input = file === undefined ? Bun.stdin.stream() : Bun.file(file).stream();
        const result = await importEvents(store, linesOf(input, (n) => {
          readBytes += n;
          progress.update(readBytes);
        }));
        progress.finish(totalBytes);
        if (wantsJson(command)) printJson(result);
        else console.log(`imported ${file ?? "stdin"}: ${result.events} events read, ${result.added} new, ${result.events - result.added} already stored`);
      } finally {
        await store.close();
      }
    });
}
