// Inspection and small writes: append, read, streams (through the daemon when one answers on the
// configured socket, else on the data dir; see ../daemon.ts), and info (the data dir's file).

import type { Command } from "commander";
import { InvalidArgumentError } from "../../lib/index.ts";
import type { RecordedEvent } from "../../events/index.ts";
import { parseExpectedVersion, parseInteger } from "../arguments.ts";
import { configFor, openForReading, wantsJson } from "../context.ts";
import { openReader, openWriter } from "../daemon.ts";
import { formatBytes, jsonReplacer, printFields, printJson, printTable, shorten } from "../output.ts";

function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  return await new Response(Bun.stdin.stream()).text();
}

function eventRows(events: readonly RecordedEvent[]): string[][] {
  return events.map((e) => [
    String(e.position),
    e.streamId,
    String(e.version),
    e.type,
    e.createdAt.toISOString(),
    shorten(e.data instanceof Uint8Array ? `<${e.data.byteLength} bytes ${e.contentType}>` : JSON.stringify(e.data), 60),
  ]);
}

export function registerInspect(program: Command): void {
  program
    .command("append")
    .description("append one event (data as JSON: the argument, or stdin)")
    .argument("<stream>", "stream id")
    .argument("<type>", "event type")
    .argument("[data]", "event data as JSON (default: read stdin)")
    .option("-e, --expected-version <version>", "any, no_stream, stream_exists, -1 or a version", "any")
    .option("-m, --metadata <json>", "event metadata as JSON")
    .option("--id <uuid>", "event id (default: a new UUID v7)")
    .action(async (stream: string, type: string, dataText: string | undefined, options: { expectedVersion: string; metadata?: string; id?: string }, command: Command) => {
      // Every argument is checked before stdin is read or the store is opened.
      const expectedVersion = parseExpectedVersion(options.expectedVersion, "--expected-version");
      const config = await configFor(command);
      const data = parseJsonArgument(dataText ?? (await readStdin()), "data");
      const metadata = options.metadata === undefined ? undefined : parseJsonArgument(options.metadata, "--metadata");
      const store = await openWriter(config);
      try {
        const result = await store.append(stream, expectedVersion, [
          { type, data: data as never, ...(metadata === undefined ? {} : { metadata: metadata as never }), ...(options.id === undefined ? {} : { id: options.id }) },
        ]);
        if (wantsJson(command)) printJson(result);
        else console.log(`appended to ${stream}: version ${result.nextVersion}, position ${result.position}`);
      } finally {
        await store.close();
      }
    });

  program
    .command("read")
    .description("read a stream, or $all in global order")
    .argument("<stream>", "stream id, or $all")
    .option("-f, --from <n>", "first version (or position for $all), inclusive")
    .option("-n, --limit <n>", "events to read at most", "100")
    .option("-b, --backward", "newest first")
    .option("-t, --type <type...>", "$all only: event types to keep")
    .option("-p, --prefix <prefix>", "$all only: stream id prefix to keep")
    .action(async (stream: string, options: { from?: string; limit: string; backward?: boolean; type?: string[]; prefix?: string }, command: Command) => {
      const limit = parseInteger(options.limit, "--limit");
      const from = options.from === undefined ? undefined : parseInteger(options.from, "--from");
      const config = await configFor(command);
      const store = await openReader(config);
      try {
        const direction = options.backward === true ? "backward" : "forward";
        const events =
          stream === "$all"
            ? await store.readAll({
                direction,
                limit,
                ...(from === undefined ? {} : { fromPosition: from }),
                filter: { ...(options.type === undefined ? {} : { eventTypes: options.type }), ...(options.prefix === undefined ? {} : { streamPrefix: options.prefix }) },
              })
            : await store.read(stream, { direction, limit, ...(from === undefined ? {} : { from }) });
        if (wantsJson(command)) {
          for (const e of events) process.stdout.write(`${JSON.stringify(e, jsonReplacer)}\n`);
        } else {
          printTable(["POSITION", "STREAM", "VERSION", "TYPE", "CREATED", "DATA"], eventRows(events));
        }
      } finally {
        await store.close();
      }
    });

  program
    .command("streams")
    .description("list streams with their version and event count")
    .option("-n, --limit <n>", "streams per page", "100")
    .option("-a, --after <stream>", "start after this stream id")
    .action(async (options: { limit: string; after?: string }, command: Command) => {
      const limit = parseInteger(options.limit, "--limit");
      const config = await configFor(command);
      const store = await openReader(config);
      try {
        const page = await store.streams({ limit, ...(options.after === undefined ? {} : { after: options.after }) });
        if (wantsJson(command)) printJson(page);
        else {
          printTable(["STREAM", "VERSION", "EVENTS"], page.streams.map((s) => [s.streamId, String(s.version), String(s.eventCount)]));
          if (page.next !== null) console.log(`more: --after ${JSON.stringify(page.next)}`);
        }
      } finally {
        await store.close();
      }
    });

  program
    .command("info")
    .description("what the store holds and how big it is")
    .action(async (_options: unknown, command: Command) => {
      const config = await configFor(command);
      const store = openForReading(config);
      try {
        const info = await store.info();
        if (wantsJson(command)) printJson(info);
        else
          printFields([
            ["data dir", info.dataDir],
            ["file", info.file],
            ["store id", info.storeId],
            ["schema version", String(info.schemaVersion)],
            ["streams", String(info.streamCount)],
            ["events written", String(info.headPosition)],
            ["file size", formatBytes(info.fileBytes)],
            ["wal size", formatBytes(info.walBytes)],
          ]);
      } finally {
        await store.close();
      }
    });
}
