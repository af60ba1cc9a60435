// Runs the CLI from the sources in a child process, as a user would.

import path from "node:path";

export const cliEntry = path.resolve(import.meta.dir, "../../src/cli/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], options: { stdin?: string; env?: Record<string, string> } = {}): CliResult {
  const child = Bun.spawnSync([process.execPath, cliEntry, ...args], {
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    env: { ...process.env, EDGE_ESDB_CONFIG: "", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: child.exitCode ?? -1, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
}
