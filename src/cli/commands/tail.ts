// `edge-esdb tail STREAM|$all`: the last events, then every new one as it is written, until
// Ctrl-C (or --count new events). It polls the store read-only (a cheap indexed read every
// --interval-ms), through the daemon when one answers on the configured socket, else read-only on
// the data dir beside it.

import type { Command } from "commander";
import { InvalidArgumentError, StreamNotFoundError } from "../../lib/index.ts";
import type { RecordedEvent } from "../../events/index.ts";
import { configFor, wantsJson } from "../context.ts";
import { openReader, type StoreReader } from "../daemon.ts";
import { jsonReplacer, shorten } from "../output.ts";

const pollPageCount = 500;

function parseCount(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

function formatEvent(e: RecordedEvent, json: boolean): string {
  if (json) return JSON.stringify(e, jsonReplacer);
  const data = e.data instanceof Uint8Array ? `<${e.data.byteLength} bytes ${e.contentType}>` : JSON.stringify(e.data);
  return `${e.position}  ${e.streamId}@${e.version}  ${e.type}  ${e.createdAt.toISOString()}  ${shorten(data, 100)}`;
}

/** Reads what came after `cursor` (a version for a stream, a position for $all); [] while the stream does not exist. */
async function readAfter(store: StoreReader, stream: string, cursor: number): Promise<RecordedEvent[]> {
  if (stream === "$all") return store.readAll({ fromPosition: cursor + 1, limit: pollPageCount });
  try {
    return await store.read(stream, { from: cursor + 1, limit: pollPageCount });
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
}

async function lastEvents(store: StoreReader, stream: string, count: number): Promise<RecordedEvent[]> {
  if (count === 0) return [];
  try {
    const page = stream === "$all" ? await store.readAll({ direction: "backward", limit: count }) : await store.read(stream, { direction: "backward", limit: count });
    return page.reverse();
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
}

export function registerTail(program: Command): void {
  program
    .command("tail")
    .description("print the last events of a stream (or $all), then follow new ones until Ctrl-C")
    .argument("<stream>", "stream id, or $all")
    .option("-n, --lines <n>", "events to print before following", "10")
    .option("--count <n>", "exit after this many new events")
    .option("--interval-ms <ms>", "how often to look for new events", "250")
    .action(async (stream: string, options: { lines: string; count?: string; intervalMs: string }, command: Command) => {
      const config = await configFor(command);
      const json = wantsJson(command);
      const lines = parseCount(options.lines, "--lines", 0);
      const count = options.count === undefined ? Number.POSITIVE_INFINITY : parseCount(options.count, "--count", 1);
      const intervalMs = parseCount(options.intervalMs, "--interval-ms", 10);
      const store = await openReader(config);
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        const initial = await lastEvents(store, stream, lines);
        for (const e of initial) process.stdout.write(`${formatEvent(e, json)}\n`);
        const lastSeen = initial[initial.length - 1];
        // Follow from the end as it is now, when nothing was printed.
        let cursor = lastSeen !== undefined ? (stream === "$all" ? lastSeen.position : lastSeen.version) : stream === "$all" ? ((await store.readAll({ direction: "backward", limit: 1 }))[0]?.position ?? -1) : await store.version(stream).catch(() => -1);
        let seen = 0;
        while (!stopped && seen < count) {
          const page = await readAfter(store, stream, cursor);
          for (const e of page) {
            process.stdout.write(`${formatEvent(e, json)}\n`);
            cursor = stream === "$all" ? e.position : e.version;
            if (++seen >= count) break;
          }
          if (page.length < pollPageCount && seen < count) await Bun.sleep(intervalMs);
        }
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        await store.close();
      }
    });
}
