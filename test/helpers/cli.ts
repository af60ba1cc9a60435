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

/** A `serve` child started from the sources, once it has printed its ready line. */
export interface ServeChild {
  child: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** The first line serve printed: "edge-esdb <version> ready: ...". */
  readyLine: string;
}

/** Spawns the CLI with `args` (a serve command line) and waits for its first line; throws with its stderr if it exits first. */
export async function startServe(args: readonly string[]): Promise<ServeChild> {
  const child = Bun.spawn([process.execPath, cliEntry, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, EDGE_ESDB_CONFIG: "" } });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`serve exited: ${text}${await new Response(child.stderr).text()}`);
    text += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  return { child, readyLine: text.slice(0, text.indexOf("\n")) };
}
