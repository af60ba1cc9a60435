#!/usr/bin/env bun
// The `edge-esdb` program: the daemon (`serve`) and the commands that inspect a store on the
// device. An error is one line on stderr naming the problem, and a non-zero exit.
//
// The daemon's memory: whatever this file loads stays resident in `serve` for its whole life.
// So command modules are imported when the program is built, not when this file loads, and a
// plain `serve` command line (only the options below, each once or more) runs serve without
// commander at all: commander loads node:child_process and node:events, about 3 MiB resident,
// and the other commands bring the client and cbor-x. Any other command line, `serve --help`
// included, goes through commander, which then also owns every error message.

import type { Command } from "commander";
import type { ServeOptions } from "./commands/serve.ts";
import { errorLine, ExitStatus } from "./output.ts";
import { version } from "./version.ts";

type Register = (program: Command) => void;
type ServeRunner = (options: ServeOptions) => Promise<void>;

/** Every command module, in help order, as a loader of its register function. */
function commandLoaders(serve: ServeRunner | undefined): Array<() => Promise<Register>> {
  return [
    async () => {
      const { registerServe, runServe } = await import("./commands/serve.ts");
      return (program) => registerServe(program, serve ?? runServe);
    },
    async () => (await import("./commands/inspect.ts")).registerInspect,
    async () => (await import("./commands/tail.ts")).registerTail,
    async () => (await import("./commands/snapshots.ts")).registerSnapshots,
    async () => (await import("./commands/status.ts")).registerStatus,
    async () => (await import("./commands/backup.ts")).registerBackup,
    async () => (await import("./commands/transfer.ts")).registerTransfer,
    async () => (await import("./commands/verify.ts")).registerVerify,
    async () => (await import("./commands/version.ts")).registerVersion,
    async () => (await import("./commands/completion.ts")).registerCompletion,
    async () => (await import("./commands/self-check.ts")).registerSelfCheck,
    async () => (await import("./commands/subscriptions.ts")).registerSubscriptions,
  ];
}

/** Options `serve` reads, global or its own, each with a value; commander declares the same ones. */
const serveValueOptions: Readonly<Record<string, { key: keyof ServeOptions; global: boolean }>> = {
  "-c": { key: "config", global: true },
  "--config": { key: "config", global: true },
  "-d": { key: "dataDir", global: true },
  "--data-dir": { key: "dataDir", global: true },
  "--durability": { key: "durability", global: true },
  "--socket": { key: "socket", global: false },
  "--host": { key: "host", global: false },
  "--port": { key: "port", global: false },
};

/**
 * The options of a plain `serve` command line (argv: node, script, ...args), or null for anything
 * else: another command, help, a flag it does not know, a value that looks like an option. A
 * null sends the line to commander, so this reader only has to be right about what it accepts.
 */
export function plainServeOptions(argv: readonly string[]): ServeOptions | null {
  const options: ServeOptions = {};
  let served = false;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--json") continue;
    if (!arg.startsWith("-")) {
      if (served || arg !== "serve") return null;
      served = true;
      continue;
    }
    const equals = arg.indexOf("=");
    const name = arg.startsWith("--") && equals > 0 ? arg.slice(0, equals) : arg;
    const option = serveValueOptions[name];
    // serve's own options come after `serve`, as commander requires.
    if (option === undefined || (!option.global && !served)) return null;
    let value: string | undefined;
    if (name !== arg) value = arg.slice(equals + 1);
    else value = argv[++i];
    if (value === undefined || value.startsWith("-")) return null;
    options[option.key] = value;
  }
  return served ? options : null;
}

/** The program with every command; `serve` runs `serve` instead of the daemon (for tests). */
export async function buildProgram(serve?: ServeRunner): Promise<Command> {
  const { UsageCommand } = await import("./usage.ts");
  const program = new UsageCommand();
  program
    .name("edge-esdb")
    .description("An event store for small devices.")
    .version(version, "-V, --version", "print the version")
    .option("-c, --config <file>", "TOML config file (default /etc/edge-esdb/edge-esdb.toml if present; env EDGE_ESDB_CONFIG)")
    .option("-d, --data-dir <dir>", "data directory (env EDGE_ESDB_DATA_DIR; default ./data)")
    .option("--durability <mode>", "full or normal (env EDGE_ESDB_DURABILITY; default full)")
    .option("--json", "machine-readable output")
    .exitOverride();
  const registers = await Promise.all(commandLoaders(serve).map((load) => load()));
  for (const register of registers) register(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const serveOptions = plainServeOptions(argv);
    if (serveOptions !== null) {
      await (await import("./commands/serve.ts")).runServe(serveOptions);
      return 0;
    }
    const program = await buildProgram();
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (error) {
    if (error instanceof ExitStatus) return error.exitCode;
    const { CommanderError } = await import("commander");
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`${errorLine(error)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv);
}
