// `edge-esdb snapshots list STREAM` and `edge-esdb snapshots show STREAM [VERSION]`: the
// snapshots a stream has (through the daemon when one answers, else read-only on the data dir).

import type { Command } from "commander";
import { parseInteger } from "../arguments.ts";
import { configFor, wantsJson } from "../context.ts";
import { openReader } from "../daemon.ts";
import { formatBytes, printFields, printJson, printTable, shorten } from "../output.ts";

export function registerSnapshots(program: Command): void {
  const snapshots = program.command("snapshots").description("list and show a stream's snapshots");

  snapshots
    .command("list")
    .description("every snapshot of a stream, newest version first")
    .argument("<stream>", "stream id")
    .action(async (stream: string, _options: unknown, command: Command) => {
      const store = await openReader(await configFor(command));
      try {
        const list = await store.listSnapshots(stream);
        if (wantsJson(command)) printJson({ snapshots: list });
        else printTable(["VERSION", "SIZE", "CONTENT TYPE", "CREATED", "METADATA"], list.map((s) => [String(s.version), formatBytes(s.sizeBytes), s.contentType, s.createdAt.toISOString(), s.metadata === null ? "" : shorten(JSON.stringify(s.metadata), 40)]));
      } finally {
        await store.close();
      }
    });

  snapshots
    .command("show")
    .description("a snapshot with its data: the latest, or the one at VERSION")
    .argument("<stream>", "stream id")
    .argument("[version]", "snapshot version (default: the latest)")
    .action(async (stream: string, versionText: string | undefined, _options: unknown, command: Command) => {
      const version = versionText === undefined ? undefined : parseInteger(versionText, "version", 0);
      const store = await openReader(await configFor(command));
      try {
        const snapshot = await store.loadSnapshot(stream, version);
        if (wantsJson(command)) printJson(snapshot);
        else {
          printFields([
            ["stream", snapshot.streamId],
            ["version", String(snapshot.version)],
            ["content type", snapshot.contentType],
            ["created", snapshot.createdAt.toISOString()],
            ["metadata", JSON.stringify(snapshot.metadata)],
          ]);
          console.log(snapshot.data instanceof Uint8Array ? `<${snapshot.data.byteLength} bytes>` : JSON.stringify(snapshot.data, null, 2));
        }
      } finally {
        await store.close();
      }
    });
}
