// `edge-esdb tail STREAM|$all`: the last events, then every new one as it is written, until
// Ctrl-C (or --count new events). Through the daemon when one answers on the configured socket
// (its live read, SSE), else polling the data dir read-only beside it (an indexed read every
// --interval-ms).

import type { Command } from "commander";
import { StreamNotFoundError } from "../../lib/index.ts";
import type { RecordedEvent } from "../../events/index.ts";
import { parseInteger } from "../arguments.ts";
import { configFor, wantsJson } from "../context.ts";
import { openReader, type StoreReader } from "../daemon.ts";
import { jsonReplacer, shorten } from "../output.ts";

function formatEvent(e: RecordedEvent, json: boolean): string {
  if (json) return JSON.stringify(e, jsonReplacer);
  const data = e.data instanceof Uint8Array ? `<${e.data.byteLength} bytes ${e.contentType}>` : JSON.stringify(e.data);
  return `${e.position}  ${e.streamId}@${e.version}  ${e.type}  ${e.createdAt.toISOString()}  ${shorten(data, 100)}`;
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
      const lines = parseInteger(options.lines, "--lines", 0);
      const count = options.count === undefined ? Number.POSITIVE_INFINITY : parseInteger(options.count, "--count", 1);
      const intervalMs = parseInteger(options.intervalMs, "--interval-ms", 10);
      const config = await configFor(command);
      const json = wantsJson(command);
      const store = await openReader(config);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const initial = await lastEvents(store, stream, lines);
        for (const e of initial) process.stdout.write(`${formatEvent(e, json)}\n`);
        const lastSeen = initial[initial.length - 1];
        // Follow from the end as it is now, when nothing was printed.
        const cursor = lastSeen !== undefined ? (stream === "$all" ? lastSeen.position : lastSeen.version) : stream === "$all" ? ((await store.readAll({ direction: "backward", limit: 1 }))[0]?.position ?? -1) : await store.version(stream).catch(() => -1);
        let seen = 0;
        try {
          for await (const e of store.follow(stream, cursor, { signal: stop.signal, pollMs: intervalMs })) {
            process.stdout.write(`${formatEvent(e, json)}\n`);
            if (++seen >= count) break;
          }
        } catch (error) {
          // Ctrl-C ends a live read by aborting it: that is the normal way out, not an error.
          if (!stop.signal.aborted) throw error;
        }
      } finally {
        stop.abort();
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await store.close();
      }
    });
}
