// Usage errors follow the product's rule for every error: one line on stderr naming the problem
// (and where the help is), a non-zero exit, no help text after it; at every level of commands.
// Asking for help still prints the whole help on stdout with exit 0.

import { describe, expect, test } from "bun:test";
import { runCli } from "../../helpers/cli.ts";

/** Runs a command line that must fail with a usage error; returns its one stderr line. */
function usageError(args: readonly string[]): string {
  const result = runCli(args);
  expect({ args, code: result.code === 0 ? 0 : "non-zero" }).toEqual({ args, code: "non-zero" });
  expect(result.stdout).toBe("");
  expect(result.stderr.endsWith("\n")).toBe(true);
  const lines = result.stderr.slice(0, -1).split("\n");
  expect({ args, lines: lines.length }).toEqual({ args, lines: 1 });
  const [line] = lines as [string];
  expect(line.trim()).not.toBe("");
  return line;
}

describe("usage errors", () => {
  test("a missing argument, an unknown command and an unknown option: one line each, naming it", () => {
    expect(usageError(["read"])).toBe("edge-esdb: error: missing required argument 'stream' (see edge-esdb read --help)");
    expect(usageError(["bogus"])).toBe("edge-esdb: error: unknown command 'bogus' (see edge-esdb --help)");
    expect(usageError(["read", "s", "--nope"])).toMatch(/^edge-esdb: error: unknown option '--nope'.* \(see edge-esdb read --help\)$/);
    expect(usageError(["--nope"])).toBe("edge-esdb: error: unknown option '--nope' (see edge-esdb --help)");
    expect(usageError(["--data-dir"])).toMatch(/^edge-esdb: error: option '-d, --data-dir <dir>' argument missing/);
    expect(usageError(["read", "a", "b"])).toMatch(/^edge-esdb: error: too many arguments for 'read'/);
    expect(usageError(["serve", "--bogus"])).toBe("edge-esdb: error: unknown option '--bogus' (see edge-esdb serve --help)");
  });

  test("nested subcommands fail the same way", () => {
    expect(usageError(["snapshots", "list", "s", "--nope"])).toBe("edge-esdb: error: unknown option '--nope' (see edge-esdb snapshots list --help)");
    expect(usageError(["snapshots", "list"])).toBe("edge-esdb: error: missing required argument 'stream' (see edge-esdb snapshots list --help)");
    expect(usageError(["snapshots", "bogus"])).toBe("edge-esdb: error: unknown command 'bogus' (see edge-esdb snapshots --help)");
    expect(usageError(["subscriptions", "show"])).toBe("edge-esdb: error: missing required argument 'name' (see edge-esdb subscriptions show --help)");
  });

  test("a command line without its command is a usage error too, not the help on stderr", () => {
    expect(usageError([])).toBe("edge-esdb: error: missing command (see edge-esdb --help)");
    expect(usageError(["snapshots"])).toBe("edge-esdb: error: missing command (see edge-esdb snapshots --help)");
    expect(usageError(["help", "bogus"])).toBe("edge-esdb: error: unknown command 'bogus' (see edge-esdb --help)");
  });

  test("--help and help print the whole help on stdout and exit 0", () => {
    for (const [args, usage] of [
      [["--help"], "Usage: edge-esdb [options] [command]"],
      [["help"], "Usage: edge-esdb [options] [command]"],
      [["read", "--help"], "Usage: edge-esdb read [options] <stream>"],
      [["help", "read"], "Usage: edge-esdb read [options] <stream>"],
      [["snapshots", "list", "--help"], "Usage: edge-esdb snapshots list [options] <stream>"],
    ] as const) {
      const result = runCli(args);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: "" });
      expect(result.stdout.startsWith(`${usage}\n`)).toBe(true);
      expect(result.stdout).toContain("-h, --help");
    }
  });
});
