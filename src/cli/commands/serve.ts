// `edge-esdb serve`: starts the node (single mode) and the HTTP gateway on its unix socket (and
// TCP when a host is set), logs one line when both are ready, runs until SIGINT or SIGTERM, then
// stops accepting, ends live reads, finishes in-flight requests, closes the store (queued writes
// committed, WAL checkpointed) and exits 0. Under systemd (Type=notify) it sends READY=1 after
// the ready line, pets the watchdog while running and sends STOPPING=1 on the signal.

import type { Command } from "commander";
import { defaultSocketPath, startGateway } from "../../api/index.ts";
import { startNode } from "../../node/index.ts";
import { configFromOptions, type GlobalOptions } from "../context.ts";
import { notifyReady, notifyStopping, startWatchdog } from "../sd-notify.ts";
import { version } from "../version.ts";

/** What `serve` is run with: the global options and its own, as given on the command line. */
export interface ServeOptions {
  config?: string;
  dataDir?: string;
  durability?: string;
  socket?: string;
  host?: string;
  port?: string;
}

export function registerServe(program: Command, run: (options: ServeOptions) => Promise<void> = runServe): void {
  program
    .command("serve")
    .description("run the store on this device (single mode) with its HTTP gateway until SIGINT or SIGTERM")
    .option("--socket <path>", "unix socket of the HTTP gateway (env EDGE_ESDB_SOCKET; default $RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR or the data dir, /edge-esdb.sock)")
    .option("--host <host>", "TCP host of the HTTP gateway (env EDGE_ESDB_HOST; default none; not loopback needs a token)")
    .option("--port <port>", "TCP port of the HTTP gateway (env EDGE_ESDB_PORT; default 2113)")
    .action(async (options: { socket?: string; host?: string; port?: string }, command: Command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      await run({ config: globals.config, dataDir: globals.dataDir, durability: globals.durability, socket: options.socket, host: options.host, port: options.port });
    });
}

/** Runs the daemon until SIGINT or SIGTERM; resolves once it has stopped cleanly. */
export async function runServe(options: ServeOptions): Promise<void> {
  const config = await configFromOptions(options, { socket: options.socket, host: options.host, port: options.port });
  const stopped = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  // Throws store_locked when another process has the data dir: never two writers.
  const node = startNode({ dataDir: config.dataDir, durability: config.durability, version });
  let gateway;
  try {
    gateway = await startGateway(node, {
      socketPath: config.socket === "" ? defaultSocketPath(node.dataDir) : config.socket,
      host: config.host,
      port: config.port,
      token: config.token,
      bodyBytesMax: config.bodyBytesMax,
      heartbeatIntervalMs: config.sseHeartbeatIntervalMs,
      busyPollUs: config.busyPollUs,
    });
  } catch (error) {
    await node.close();
    throw error;
  }
  // Bun installs signal handlers on its event loop: let it turn once before saying ready, so
  // a supervisor that signals right after the ready line reaches our handler.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const listeners = [`socket ${gateway.socketPath}`, ...(gateway.url === null ? [] : [`http ${gateway.url}`])].join(", ");
  console.log(`edge-esdb ${version} ready: mode single, data dir ${node.dataDir}, ${listeners}, durability ${config.durability}, ${node.store.headPosition} events`);
  notifyReady(`serving on ${listeners}`);
  let running = true;
  const stopWatchdog = startWatchdog(() => running);
  const signal = await stopped;
  running = false;
  stopWatchdog();
  notifyStopping(`stopping on ${signal}`);
  await gateway.stop();
  await node.close();
  console.log(`edge-esdb stopped on ${signal}: store closed cleanly`);
}
