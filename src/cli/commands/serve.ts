// `edge-esdb serve`: opens the store in single mode, logs one line when ready, runs until
// SIGINT or SIGTERM, then closes cleanly (queued writes committed, WAL checkpointed) and exits 0.

import type { Command } from "commander";
import { configFor, openForWriting } from "../context.ts";
import { version } from "../version.ts";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the store on this device (single mode) until SIGINT or SIGTERM")
    .option("--socket <path>", "unix socket of the HTTP gateway")
    .option("--host <host>", "TCP host of the HTTP gateway")
    .option("--port <port>", "TCP port of the HTTP gateway")
    .action(async (options: { socket?: string; host?: string; port?: string }, command: Command) => {
      const config = await configFor(command, { socket: options.socket, host: options.host, port: options.port });
      const stopped = new Promise<string>((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      });
      const store = openForWriting(config);
      const info = await store.info();
      // Bun installs signal handlers on its event loop: let it turn once before saying ready, so
      // a supervisor that signals right after the ready line reaches our handler.
      await new Promise((resolve) => setTimeout(resolve, 0));
      console.log(`edge-esdb ${version} ready: mode single, data dir ${info.dataDir}, durability ${config.durability}, ${info.headPosition} events`);
      const signal = await stopped;
      await store.close();
      console.log(`edge-esdb stopped on ${signal}: store closed cleanly`);
    });
}
