// The daemon's command line. A plain `edge-esdb serve ...` line is read without commander (so the
// daemon does not keep commander's node:child_process resident): for every line that reader
// accepts, it must run serve with exactly the options commander would give it, and every line it
// does not accept must still reach commander (help, errors, other commands). Then the compiled
// path end to end, from the sources: global options before and after `serve`, `--name=value`.

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import type { ServeOptions } from "../../src/cli/commands/serve.ts";
import { buildProgram, plainServeOptions } from "../../src/cli/main.ts";
import { cliEntry, runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp.ts";

/** What commander hands serve for `args`, or the error code it exits with. */
async function viaCommander(args: readonly string[]): Promise<ServeOptions | { commanderError: string }> {
  let seen: ServeOptions | null = null;
  const program = await buildProgram(async (options) => {
    seen = options;
  });
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  try {
    await program.parseAsync(["bun", "edge-esdb", ...args]);
  } catch (error) {
    return { commanderError: (error as { code?: string }).code ?? String(error) };
  }
  if (seen === null) throw new Error(`commander ran no serve for ${args.join(" ")}`);
  // Commander passes options it did not see as undefined; the plain reader leaves them out.
  return Object.fromEntries(Object.entries(seen as ServeOptions).filter(([, value]) => value !== undefined));
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
  test("every line the plain reader accepts gives serve what commander gives it", async () => {
    for (const args of accepted) {
      const plain = plainServeOptions(["bun", "edge-esdb", ...args]);
      expect({ args, options: plain }).toEqual({ args, options: (await viaCommander(args)) as ServeOptions });
    }
  });

  test("anything else goes to commander: help, errors, other commands", () => {
    for (const args of refused) expect({ args, options: plainServeOptions(["bun", "edge-esdb", ...args]) }).toEqual({ args, options: null });
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
    const child = Bun.spawn([process.execPath, cliEntry, "--durability=normal", "serve", `--socket=${socket}`, "-d", dataDir], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, EDGE_ESDB_CONFIG: "" },
    });
    const reader = child.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`serve exited: ${text} ${await new Response(child.stderr).text()}`);
      text += new TextDecoder().decode(chunk.value);
    }
    expect(text).toContain(`data dir ${dataDir}, socket ${socket}, durability normal`);
    expect(existsSync(socket)).toBe(true);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  });
});
