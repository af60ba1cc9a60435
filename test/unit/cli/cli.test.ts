// The CLI as a user meets it: tables by default, --json for scripts, one-line errors with a
// non-zero exit, read-only inspection beside a running daemon, and a clean stop on SIGTERM.

import { describe, expect, test } from "bun:test";
import { cliEntry, runCli } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/temp.ts";

describe("edge-esdb CLI", () => {
  test("append, read, streams and info on a data dir", () => {
    using dir = tempDir();
    const d = ["--data-dir", dir.path];
    expect(runCli([...d, "append", "order-1", "Placed", '{"total":5}'])).toMatchObject({ code: 0, stdout: "appended to order-1: version 0, position 0\n" });
    expect(runCli([...d, "--json", "append", "order-1", "Shipped", "-e", "0"], { stdin: '{"carrier":"dhl"}' })).toMatchObject({ code: 0, stdout: '{"nextVersion":1,"position":1}\n' });
    const table = runCli([...d, "read", "order-1"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^POSITION\s+STREAM\s+VERSION\s+TYPE\s+CREATED\s+DATA$/);
    expect(table.stdout).toContain('{"carrier":"dhl"}');
    const lines = runCli([...d, "--json", "read", "$all", "--type", "Shipped"]).stdout.trim().split("\n");
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ streamId: "order-1", version: 1, type: "Shipped", data: { carrier: "dhl" } })]);
    expect(JSON.parse(runCli([...d, "--json", "streams"]).stdout)).toEqual({ streams: [{ streamId: "order-1", version: 1, eventCount: 2 }], next: null });
    expect(JSON.parse(runCli([...d, "--json", "info"]).stdout)).toMatchObject({ streamCount: 1, headPosition: 2, readOnly: true });
  });

  test("errors are one line on stderr naming the problem, with a non-zero exit", () => {
    using dir = tempDir();
    const d = ["--data-dir", dir.path];
    runCli([...d, "append", "s", "T", "{}"]);
    const wrong = runCli([...d, "append", "s", "T", "{}", "-e", "7"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toBe("edge-esdb: wrong_expected_version: stream 's': expected version 7, actual 0\n");
    const missing = runCli([...d, "read", "nope"]);
    expect(missing).toMatchObject({ code: 1, stderr: "edge-esdb: stream_not_found: stream 'nope' not found\n" });
    expect(runCli([...d, "append", "s", "T", "{nope"]).stderr).toMatch(/^edge-esdb: invalid_argument: data is not valid JSON/);
    expect(runCli(["--data-dir", `${dir.path}/none`, "info"]).stderr).toMatch(/^edge-esdb: not_found: no store at/);
    expect(runCli([...d, "--durability", "sloppy", "info"]).stderr).toMatch(/durability \(from --durability\) must be one of full, normal/);
    expect(runCli(["frobnicate"]).code).not.toBe(0);
  });

  test("serve logs one line when ready, keeps the store, and exits 0 on SIGTERM", async () => {
    using dir = tempDir();
    runCli(["--data-dir", dir.path, "append", "s", "T", "{}"]);
    const child = Bun.spawn([process.execPath, cliEntry, "serve", "--data-dir", dir.path], { stdout: "pipe", stderr: "pipe", env: { ...process.env, EDGE_ESDB_CONFIG: "" } });
    const reader = child.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^edge-esdb \S+ ready: mode single, data dir .*, durability full, 1 events\n/);
    // While it runs: inspection works read-only, a second writer is refused with a clear error.
    expect(runCli(["--data-dir", dir.path, "--json", "info"]).code).toBe(0);
    expect(runCli(["--data-dir", dir.path, "append", "s", "T", "{}"]).stderr).toMatch(/^edge-esdb: store_locked: /);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toContain("stopped on SIGTERM");
  });
});
