// The daemon's command line. A plain `edge-esdb serve ...` line is read without commander (so the
// daemon does not keep commander's node:child_process resident): for every line that reader
// accepts, it must run serve with exactly the options commander would give it, and every line it
// does not accept must still reach commander (help, errors, other commands). The comparison runs
// in a child process (serve-command-line-child.ts). Then a daemon started from the sources with
// global options on both sides of `serve` and `--name=value` forms serves what they name.

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { runCli, startServe } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp.ts";

interface Comparison {
  accepted: Array<{ args: string[]; commander: unknown; plain: unknown }>;
  refused: Array<{ args: string[]; plain: unknown }>;
}

/** What commander hands serve for each accepted line, and what the plain reader gives for all (in a child process). */
function compare(accepted: ReadonlyArray<readonly string[]>, refused: ReadonlyArray<readonly string[]>): Comparison {
  const child = Bun.spawnSync([process.execPath, path.join(import.meta.dir, "serve-command-line-child.ts")], {
    stdin: new TextEncoder().encode(JSON.stringify({ accepted, refused })),
    env: { ...process.env, EDGE_ESDB_CONFIG: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (child.exitCode !== 0) throw new Error(`the comparison child failed: ${child.stderr.toString()}`);
  return JSON.parse(child.stdout.toString()) as Comparison;
}

const accepted: ReadonlyArray<readonly string[]> = [
  ["serve"],
  ["serve", "--data-dir", "/d", "--socket", "/s.sock"],
  ["--data-dir", "/d", "serve", "--socket", "/s.sock", "--host", "127.0.0.1", "--port", "0"],
  ["-d", "/d", "--durability", "normal", "serve"],
  ["serve", "-d", "/d", "-c", "/etc/x.toml", "--durability", "full"],
  ["--json", "serve", "--socket=/s.sock", "--data-dir=/d", "--port=2113"],
  ["serve", "--socket", "/a.sock", "--socket", "/b.sock"],
  ["serve", "--data-dir="],
];

const refused: ReadonlyArray<readonly string[]> = [
  [],
  ["serve", "--help"],
  ["serve", "-h"],
  ["--version"],
  ["serve", "extra"],
  ["--socket", "/s.sock", "serve"],
  ["serve", "--sockets", "/s.sock"],
  ["serve", "--socket"],
  ["serve", "--socket", "--host"],
  ["serve", "-d/d"],
  ["status"],
  ["serve", "--", "x"],
];

describe("the serve command line", () => {
  test("every line the plain reader accepts gives serve what commander gives it; anything else goes to commander", () => {
    const results = compare(accepted, refused);
    expect(results.accepted).toHaveLength(accepted.length);
    expect(results.refused).toHaveLength(refused.length);
    for (const { args, commander, plain } of results.accepted) expect({ args, plain }).toEqual({ args, plain: commander });
    for (const { args, plain } of results.refused) expect({ args, plain }).toEqual({ args, plain: null });
  });

  test("serve --help and a mistyped option still answer as commander does", () => {
    const help = runCli(["serve", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--socket <path>");
    const wrong = runCli(["serve", "--sockets", "/x"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("unknown option '--sockets'");
  });

  test("a plain line serves the data dir and socket it names, with global options on either side", async () => {
    using dir = tempDir();
    const socket = path.join(dir.path, "s.sock");
    const dataDir = path.join(dir.path, "data");
    const { child, readyLine } = await startServe(["--durability=normal", "serve", `--socket=${socket}`, "-d", dataDir]);
    expect(readyLine).toContain(`data dir ${dataDir}, socket ${socket}, durability normal`);
    expect(existsSync(socket)).toBe(true);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  });
});
