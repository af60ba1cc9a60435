#!/usr/bin/env bun
// The `edge-esdb` program: the daemon (`serve`) and the commands that inspect a store on the
// device. An error is one line on stderr naming the problem, and a non-zero exit.

import { Command, CommanderError } from "commander";
import { registerBackup } from "./commands/backup.ts";
import { registerCompletion } from "./commands/completion.ts";
import { registerInspect } from "./commands/inspect.ts";
import { registerSelfCheck } from "./commands/self-check.ts";
import { registerSnapshots } from "./commands/snapshots.ts";
import { registerStatus } from "./commands/status.ts";
import { registerTail } from "./commands/tail.ts";
import { registerTransfer } from "./commands/transfer.ts";
import { registerVerify } from "./commands/verify.ts";
import { registerVersion } from "./commands/version.ts";
import { registerServe } from "./commands/serve.ts";
import { registerSubscriptions } from "./commands/subscriptions.ts";
import { errorLine, ExitStatus } from "./output.ts";
import { version } from "./version.ts";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("edge-esdb")
    .description("An event store for small devices.")
    .version(version, "-V, --version", "print the version")
    .option("-c, --config <file>", "TOML config file (default /etc/edge-esdb/edge-esdb.toml if present; env EDGE_ESDB_CONFIG)")
    .option("-d, --data-dir <dir>", "data directory (env EDGE_ESDB_DATA_DIR; default ./data)")
    .option("--durability <mode>", "full or normal (env EDGE_ESDB_DURABILITY; default full)")
    .option("--json", "machine-readable output")
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerInspect(program);
  registerTail(program);
  registerSnapshots(program);
  registerStatus(program);
  registerBackup(program);
  registerTransfer(program);
  registerVerify(program);
  registerVersion(program);
  registerCompletion(program);
  registerSelfCheck(program);
  registerSubscriptions(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ExitStatus) return error.exitCode;
    process.stderr.write(`${errorLine(error)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv);
}
