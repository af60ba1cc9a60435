// `edge-esdb status`: the node as seen from the device: whether a daemon holds the data dir,
// whether it answers on the configured socket (and then what it says about itself, /v1/node),
// and what the store holds (read-only, like `info`).

import type { Command } from "commander";
import { existsSync } from "node:fs";
import path from "node:path";
import { storeFileName } from "../../store/index.ts";
import { configFor, dataDirLockHeld, openForReading, wantsJson } from "../context.ts";
import { connectDaemon } from "../daemon.ts";
import { formatBytes, printFields, printJson } from "../output.ts";
import { version } from "../version.ts";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("is a daemon running on the data dir, and what does the store hold")
    .action(async (_options: unknown, command: Command) => {
      const config = await configFor(command);
      const held = dataDirLockHeld(config.dataDir);
      const daemon = held === true ? "running" : held === false ? "not running" : "unknown";
      const client = await connectDaemon(config);
      let node: unknown = null;
      if (client !== null) {
        try {
          node = await client.info();
        } finally {
          client.close();
        }
      }
      const socket = config.socket === "" ? null : { path: config.socket, present: existsSync(config.socket), answers: client !== null };
      const hasStore = existsSync(path.join(config.dataDir, storeFileName));
      let info = null;
      if (hasStore) {
        const store = openForReading(config);
        try {
          info = await store.info();
        } finally {
          await store.close();
        }
      }
      if (wantsJson(command)) {
        printJson({ version, mode: "single", dataDir: path.resolve(config.dataDir), daemon, socket, node, store: info });
        return;
      }
      const fields: Array<[string, string]> = [
        ["cli version", version],
        ["mode", "single"],
        ["data dir", path.resolve(config.dataDir)],
        ["daemon", held === true ? "running (holds the data dir lock)" : daemon],
        ["socket", socket === null ? "none configured" : `${socket.path}${socket.answers ? " (the daemon answers)" : socket.present ? " (present, no answer)" : " (absent)"}`],
      ];
      if (info === null) fields.push(["store", "none yet"]);
      else
        fields.push(
          ["store id", info.storeId],
          ["streams", String(info.streamCount)],
          ["events written", String(info.headPosition)],
          ["file size", formatBytes(info.fileBytes)],
          ["wal size", formatBytes(info.walBytes)],
        );
      printFields(fields);
    });
}
