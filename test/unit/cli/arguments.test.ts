// Integers on the command line are decimal digits with an optional '-', and nothing else: '',
// '0x1', '1e2', ' 5 ' are refused with one line naming the option and the value, before anything
// is written.

import { describe, expect, test } from "bun:test";
import { decimalIntegerOrNull, parseExpectedVersion, parseInteger } from "../../../src/cli/arguments.ts";
import { loadConfig } from "../../../src/cli/config.ts";
import { runCli } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/temp.ts";

const notDecimal = ["", " ", "0x1", "0o7", "0b1", "1e2", " 5 ", "5 ", "+5", "1.0", "1.5", "--1", "1_000", "Infinity", "NaN", "٣", "9007199254740992", "-9007199254740992"];

describe("decimal integers", () => {
  test("optional '-' and decimal digits within the safe range; nothing else", () => {
    expect(["0", "-0", "7", "-1", "007", "9007199254740991", "-9007199254740991"].map(decimalIntegerOrNull)).toEqual([0, 0, 7, -1, 7, 9007199254740991, -9007199254740991]);
    expect(Object.is(decimalIntegerOrNull("-0"), 0)).toBe(true);
    for (const text of notDecimal) expect({ text, n: decimalIntegerOrNull(text) }).toEqual({ text, n: null });
  });

  test("errors name the option and the value", () => {
    expect(() => parseInteger("1e2", "--limit")).toThrow("--limit must be an integer, got '1e2'");
    expect(() => parseInteger("-1", "--lines", 0)).toThrow("--lines must be an integer >= 0, got '-1'");
    expect(() => parseExpectedVersion("", "--expected-version")).toThrow(/^--expected-version must be any, no_stream, stream_exists, -1 or a version .*, got ''$/);
    expect(() => parseExpectedVersion("-2", "--expected-version")).toThrow(/got '-2'$/);
    expect(["any", "no_stream", "stream_exists", "-1", "3"].map((v) => parseExpectedVersion(v, "-e"))).toEqual(["any", "no_stream", "stream_exists", -1, 3]);
  });

  test("settings given as text (environment, flags) follow the same rule", async () => {
    for (const text of ["0x10", "1e3", " 5000 ", ""]) {
      await expect(loadConfig({ env: {}, flags: { port: text } })).rejects.toThrow(`port (from --port) must be an integer from 0 to 65535, got ${JSON.stringify(text)}`);
    }
    await expect(loadConfig({ env: { EDGE_ESDB_PORT: "0x10" } })).rejects.toThrow(/port \(from EDGE_ESDB_PORT\) must be an integer/);
    expect((await loadConfig({ env: { EDGE_ESDB_PORT: "4000" } })).port).toBe(4000);
  });
});

describe("the CLI refuses a malformed integer", () => {
  /** Runs a command line that must fail; returns its one stderr line. */
  function oneLineError(args: readonly string[]): string {
    const result = runCli(args);
    expect({ args, failed: result.code !== 0, stdout: result.stdout }).toEqual({ args, failed: true, stdout: "" });
    expect(result.stderr).toMatch(/^[^\n]+\n$/);
    return result.stderr.trimEnd();
  }

  test("append -e '' or -e 0x1 writes nothing; read --limit 1e2 reads nothing", () => {
    using dir = tempDir();
    const d = ["--data-dir", dir.path];
    expect(runCli([...d, "append", "s", "T", "{}"]).code).toBe(0);
    const before = runCli([...d, "--json", "read", "$all"]).stdout;
    for (const bad of ["", "0x1", "1e0", " 0 ", "-2"]) {
      const line = oneLineError([...d, "append", "s", "T", "{}", "-e", bad]);
      expect(line).toBe(`edge-esdb: invalid_argument: --expected-version must be any, no_stream, stream_exists, -1 or a version (an integer >= 0), got '${bad}'`);
    }
    expect(runCli([...d, "--json", "read", "$all"]).stdout).toBe(before);
    expect(JSON.parse(runCli([...d, "--json", "streams"]).stdout)).toEqual({ streams: [{ streamId: "s", version: 0, eventCount: 1 }], next: null });
    expect(oneLineError([...d, "read", "s", "--limit", "1e2"])).toBe("edge-esdb: invalid_argument: --limit must be an integer, got '1e2'");
    expect(oneLineError([...d, "read", "s", "--from", "0x0"])).toBe("edge-esdb: invalid_argument: --from must be an integer, got '0x0'");
    expect(oneLineError([...d, "streams", "--limit", ""])).toBe("edge-esdb: invalid_argument: --limit must be an integer, got ''");
    expect(oneLineError([...d, "snapshots", "show", "s", "1e0"])).toBe("edge-esdb: invalid_argument: version must be an integer >= 0, got '1e0'");
    // The exact version still works, and so does "-1" against a stream that has events (it fails the check).
    expect(runCli([...d, "append", "s", "T", "{}", "-e", "0"]).code).toBe(0);
    expect(oneLineError([...d, "append", "s", "T", "{}", "-e", "-1"])).toMatch(/^edge-esdb: wrong_expected_version: /);
  });
});
