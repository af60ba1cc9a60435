// The CLI through a running daemon: when the socket setting names a socket a daemon answers on,
// append, read, streams, snapshots, tail, import and status go over it (so append works while the daemon
// holds the data dir); without the setting the CLI opens the data dir (and a second writer is
// refused); a socket nobody answers on falls back to the data dir.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { cliEntry, runCli, startServe } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/temp.ts";

async function serveDaemon(dataDir: string, socket: string) {
  const { child } = await startServe(["serve", "--data-dir", dataDir, "--socket", socket]);
  return {
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

describe("the CLI through the daemon's socket", () => {
  test("append, read, streams, snapshots, tail and status go over the socket when it is configured", async () => {
    using dir = tempDir();
    const dataDir = path.join(dir.path, "data");
    const socket = path.join(dir.path, "edge-esdb.sock");
    await using _serve = await serveDaemon(dataDir, socket);
    const viaDaemon = { env: { EDGE_ESDB_SOCKET: socket } };
    const d = ["--data-dir", dataDir];

    expect(runCli([...d, "--json", "append", "order-1", "Placed", '{"total":5}'], viaDaemon)).toMatchObject({ code: 0, stdout: '{"nextVersion":0,"position":0}\n' });
    expect(runCli([...d, "append", "order-1", "Paid", '{"amount":5}', "-e", "0"], viaDaemon)).toMatchObject({ code: 0, stdout: "appended to order-1: version 1, position 1\n" });
    // The daemon's errors come back as the same one-line errors.
    expect(runCli([...d, "append", "order-1", "Paid", "{}", "-e", "7"], viaDaemon)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^edge-esdb: wrong_expected_version: /) });
    expect(runCli([...d, "read", "nope"], viaDaemon)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^edge-esdb: stream_not_found: /) });
    const read = runCli([...d, "--json", "read", "order-1"], viaDaemon);
    expect(read.stdout.trim().split("\n").map((l) => JSON.parse(l).type)).toEqual(["Placed", "Paid"]);
    expect(JSON.parse(runCli([...d, "--json", "streams"], viaDaemon).stdout)).toEqual({ streams: [{ streamId: "order-1", version: 1, eventCount: 2 }], next: null });
    expect(runCli([...d, "snapshots", "show", "order-1"], viaDaemon)).toMatchObject({ code: 1, stderr: "edge-esdb: not_found: no snapshot of 'order-1'\n" });
    // tail over the daemon: the last event, then the next one appended.
    const tail = Bun.spawn([process.execPath, cliEntry, ...d, "tail", "order-1", "-n", "1", "--count", "1", "--interval-ms", "10"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, EDGE_ESDB_CONFIG: "", EDGE_ESDB_SOCKET: socket } });
    const tailReader = tail.stdout.getReader();
    let tailed = new TextDecoder().decode((await tailReader.read()).value);
    expect(tailed).toMatch(/^1 {2}order-1@1 {2}Paid /);
    expect(runCli([...d, "append", "order-1", "Shipped", "{}"], viaDaemon).code).toBe(0);
    expect(await tail.exited).toBe(0);
    for (let chunk = await tailReader.read(); !chunk.done; chunk = await tailReader.read()) tailed += new TextDecoder().decode(chunk.value);
    expect(tailed.trim().split("\n").map((l) => l.split("  ")[1])).toEqual(["order-1@1", "order-1@2"]);
    // Ctrl-C ends a live tail with exit 0.
    const following = Bun.spawn([process.execPath, cliEntry, ...d, "tail", "$all", "-n", "1"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, EDGE_ESDB_CONFIG: "", EDGE_ESDB_SOCKET: socket } });
    expect(new TextDecoder().decode((await following.stdout.getReader().read()).value)).toMatch(/^2 {2}order-1@2 {2}Shipped /);
    following.kill("SIGINT");
    expect(await following.exited).toBe(0);
    expect(await new Response(following.stderr).text()).toBe("");
    // import over the daemon, idempotent by id.
    const ndjson = [0, 1].map((n) => JSON.stringify({ id: crypto.randomUUID(), streamId: "imported-1", type: "Imported", data: { n } })).join("\n");
    expect(JSON.parse(runCli([...d, "--json", "import"], { ...viaDaemon, stdin: ndjson }).stdout)).toMatchObject({ events: 2, added: 2 });
    expect(JSON.parse(runCli([...d, "--json", "import"], { ...viaDaemon, stdin: ndjson }).stdout)).toMatchObject({ events: 2, added: 0 });
    expect(runCli([...d, "--json", "read", "imported-1"], viaDaemon).stdout.trim().split("\n")).toHaveLength(2);
    const status = JSON.parse(runCli([...d, "--json", "status"], viaDaemon).stdout);
    expect(status).toMatchObject({ daemon: "running", socket: { path: socket, present: true, answers: true }, node: expect.objectContaining({ mode: "single" }) });

    // Without the socket setting the CLI opens the data dir: a second writer is refused.
    expect(runCli([...d, "append", "order-1", "Paid", "{}"]).stderr).toMatch(/^edge-esdb: store_locked: /);
  });

  test("a socket file nobody answers on falls back to the data dir", () => {
    using dir = tempDir();
    const dataDir = path.join(dir.path, "data");
    const socket = path.join(dir.path, "stale.sock");
    writeFileSync(socket, "");
    expect(runCli(["--data-dir", dataDir, "append", "s", "T", "{}"], { env: { EDGE_ESDB_SOCKET: socket } })).toMatchObject({ code: 0 });
    expect(JSON.parse(runCli(["--data-dir", dataDir, "--json", "status"], { env: { EDGE_ESDB_SOCKET: socket } }).stdout)).toMatchObject({ daemon: "not running", socket: { present: true, answers: false } });
  });
});
