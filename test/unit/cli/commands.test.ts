// The CLI's inspection and maintenance commands, run from the sources as a user runs them:
// verify (and a corrupted copy caught, each problem named), backup while another process writes
// (each backup opens and verifies, and holds a gapless prefix), restore (refused while a writer
// holds the data dir, verified, atomic), export/import (idempotent, bytes survive), tail, snapshots,
// status, version and shell completion.

import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, openSync, readFileSync, statSync, writeSync, closeSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openStore, type EventInput } from "../../../src/index.ts";
import { exportEvents, importEvents } from "../../../src/cli/commands/transfer.ts";
import { cliEntry, runCli } from "../../helpers/cli.ts";
import { tempDir, tempStore } from "../../helpers/temp.ts";

const cliEnv = { ...process.env, EDGE_ESDB_CONFIG: "" };

async function seed(dataDir: string): Promise<void> {
  const store = openStore({ dataDir, durability: "normal" });
  await store.append("order-1", "no_stream", [{ type: "Placed", data: { total: 5 } }, { type: "Paid", data: { amount: 5 }, metadata: { by: "card" } }]);
  await store.append("order-2", "no_stream", [{ type: "Placed", data: { total: 7 } }]);
  await store.append("blob-1", "no_stream", [{ type: "Photo", data: new Uint8Array([0, 1, 2, 255]), contentType: "image/jpeg" }]);
  await store.append("order-1", 1, [{ type: "Shipped", data: { carrier: "dhl" } }]);
  await store.snapshots.save("order-1", 1, { total: 5, paid: true }, { reason: "test" });
  await store.snapshots.save("order-1", 2, { total: 5, paid: true, shipped: true });
  await store.close();
}

/** Copies a store file and changes the copy with `sql` (run with the schema's guards off). */
function corruptCopy(from: string, to: string, sql: string): void {
  copyFileSync(from, to);
  const db = new Database(to);
  db.run("PRAGMA journal_mode = DELETE");
  db.run(sql);
  db.close();
}

describe("verify", () => {
  test("a healthy store and its backup verify; --json reports ok", async () => {
    using dir = tempDir();
    await seed(dir.path);
    expect(runCli(["--data-dir", dir.path, "verify"])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: .*store\.db: 5 events in 3 streams/) });
    expect(JSON.parse(runCli(["--data-dir", dir.path, "--json", "verify"]).stdout)).toMatchObject({ ok: true, events: 5, problems: [] });
  });

  test("a corrupted copy is caught, naming each problem, with exit 1", async () => {
    using dir = tempDir();
    await seed(dir.path);
    runCli(["--data-dir", dir.path, "backup", path.join(dir.path, "good.db")]);
    const good = path.join(dir.path, "good.db");
    const cases: Array<[string, string, RegExp]> = [
      ["gap", "UPDATE events SET version = 7 WHERE stream_id = 'order-1' AND version = 2", /gapless_versions: stream 'order-1': versions 0\.\.7 in 3 events/],
      ["dup-id", "DROP INDEX events_by_id; UPDATE events SET event_id = (SELECT event_id FROM events WHERE position = 0) WHERE position = 2", /unique_event_ids: event id \S+ is stored 2 times/],
      ["order", "UPDATE events SET position = 100 WHERE position = 0", /positions_in_order: stream 'order-1': version 0 is at position 100 but version 1 at 1/],
      ["no-stream-row", "DELETE FROM streams WHERE stream_id = 'order-2'", /streams_consistent: stream 'order-2' has events but no row/],
      ["bad-json", "UPDATE events SET data = '{nope' WHERE position = 1", /valid_json: event at position 1: data is not valid JSON/],
      ["snapshot", "UPDATE snapshots SET version = 9 WHERE version = 2", /snapshots_consistent: snapshot of 'order-1' at version 9/],
    ];
    for (const [name, sql, expected] of cases) {
      const file = path.join(dir.path, `${name}.db`);
      corruptCopy(good, file, sql);
      const result = runCli(["verify", "--file", file]);
      expect({ name, code: result.code }).toEqual({ name, code: 1 });
      expect(result.stdout).toMatch(/^FAILED: /);
      expect(result.stdout).toMatch(expected);
    }
  });

  test("damaged pages are caught by the integrity check", async () => {
    using dir = tempDir();
    await seed(dir.path);
    const file = path.join(dir.path, "damaged.db");
    runCli(["--data-dir", dir.path, "backup", file]);
    // Scribble over the header of every page after the first (b-tree and pointer-map pages).
    const pageBytes = new Database(file, { readonly: true }).query("PRAGMA page_size").get() as { page_size: number };
    const size = statSync(file).size;
    const fd = openSync(file, "r+");
    for (let offset = pageBytes.page_size; offset < size; offset += pageBytes.page_size) writeSync(fd, new Uint8Array(16).fill(0xa5), 0, 16, offset);
    closeSync(fd);
    const result = runCli(["--json", "verify", "--file", file]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; problems: Array<{ check: string }> };
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.check)).toContainEqual(expect.stringMatching(/^(integrity_check|readable)$/));
  });
});

describe("backup and restore", () => {
  test("backups taken while another process writes all open, verify, and hold a gapless prefix", async () => {
    using dir = tempDir();
    const dataDir = path.join(dir.path, "data");
    const writer = Bun.spawn([process.execPath, path.join(import.meta.dir, "writer-child.ts"), dataDir], { stdout: "pipe", stderr: "inherit", env: cliEnv });
    try {
      const reader = writer.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("ready");
      const heads: number[] = [];
      for (let i = 0; i < 4; i++) {
        const file = path.join(dir.path, `backup-${i}.db`);
        const result = runCli(["--data-dir", dataDir, "--json", "backup", file]);
        expect(result.stderr).toBe("");
        const summary = JSON.parse(result.stdout) as { headPosition: number; events: number };
        heads.push(summary.headPosition);
        expect(runCli(["--json", "verify", "--file", file])).toMatchObject({ code: 0 });
        // One snapshot: positions 0..head-1, every one present, nothing after.
        const db = new Database(file, { readonly: true });
        const row = db.query("SELECT count(*) AS n, min(position) AS lo, max(position) AS hi FROM events").get() as { n: number; lo: number; hi: number };
        db.close();
        expect(row).toEqual({ n: summary.headPosition, lo: 0, hi: summary.headPosition - 1 });
        // Restoring is refused while the writer holds the data dir.
        if (i === 0) {
          const refused = runCli(["--data-dir", dataDir, "restore", "--force", file]);
          expect(refused.code).toBe(1);
          expect(refused.stderr).toMatch(/^edge-esdb: store_locked: .*stop it first/);
        }
      }
      expect(heads[3]).toBeGreaterThan(heads[0] as number);
    } finally {
      writer.kill("SIGTERM");
      expect(await writer.exited).toBe(0);
    }
    // With the writer gone, restore the first backup over the grown store.
    const first = path.join(dir.path, "backup-0.db");
    const expected = new Database(first, { readonly: true }).query("SELECT count(*) AS n FROM events").get() as { n: number };
    expect(runCli(["--data-dir", dataDir, "restore", first]).stderr).toMatch(/holds \d+ events; restoring replaces them: pass --force/);
    const restored = runCli(["--data-dir", dataDir, "--json", "restore", "--force", first]);
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ events: expected.n, replaced: true });
    expect(existsSync(path.join(dataDir, "store.db-wal"))).toBe(false);
    expect(JSON.parse(runCli(["--data-dir", dataDir, "--json", "info"]).stdout)).toMatchObject({ headPosition: expected.n });
    expect(runCli(["--data-dir", dataDir, "verify"]).code).toBe(0);
    // And the restored store takes writes again.
    expect(runCli(["--data-dir", dataDir, "--json", "append", "after", "Restored", "{}"])).toMatchObject({ code: 0 });
  });

  test("restore refuses while another process reads the store with the WAL unfolded, and the store keeps every event", async () => {
    using dir = tempDir();
    const dataDir = path.join(dir.path, "data");
    await seed(dataDir);
    const backup = path.join(dir.path, "b.db");
    expect(runCli(["--data-dir", dataDir, "backup", backup]).code).toBe(0);
    // A reader holds a snapshot taken before more events are written: the store's close cannot
    // checkpoint past it, so those events stay in the WAL.
    const reader = new Database(path.join(dataDir, "store.db"), { readonly: true });
    reader.run("BEGIN");
    reader.query("SELECT count(*) FROM events").get();
    const store = openStore({ dataDir, durability: "normal" });
    await store.append("late", "any", [{ type: "Late", data: {} }, { type: "Late", data: {} }]);
    // Closing does not wait long for the reader (a daemon's SIGTERM must end within seconds).
    const closeStarted = performance.now();
    await store.close();
    expect(performance.now() - closeStarted).toBeLessThan(3_000);
    expect(statSync(path.join(dataDir, "store.db-wal")).size).toBeGreaterThan(0);
    try {
      const { restoreStore } = await import("../../../src/cli/commands/backup.ts");
      const refused = (() => {
        try {
          restoreStore(dataDir, backup, { force: true, readerWaitMs: 50 });
          return null;
        } catch (error) {
          return error as { code?: string; message: string };
        }
      })();
      expect(refused?.code).toBe("store_locked");
      expect(refused?.message).toMatch(/another process is reading the store .*nothing restored/);
    } finally {
      reader.run("ROLLBACK");
      reader.close();
    }
    expect(JSON.parse(runCli(["--data-dir", dataDir, "--json", "info"]).stdout)).toMatchObject({ headPosition: 7 });
    expect(runCli(["--data-dir", dataDir, "restore", "--force", backup]).code).toBe(0);
    expect(JSON.parse(runCli(["--data-dir", dataDir, "--json", "info"]).stdout)).toMatchObject({ headPosition: 5 });
  });

  test("restore refuses a file that does not verify, and leaves the store alone", async () => {
    using dir = tempDir();
    await seed(dir.path);
    const bad = path.join(dir.path, "bad.db");
    writeFileSync(bad, "this is not a database, just text ".repeat(200));
    const result = runCli(["--data-dir", dir.path, "restore", "--force", bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^edge-esdb: (corrupt|error): /);
    expect(runCli(["--data-dir", dir.path, "verify"]).code).toBe(0);
    expect(JSON.parse(runCli(["--data-dir", dir.path, "--json", "info"]).stdout)).toMatchObject({ headPosition: 5 });
  });

  test("restore replaces a store too damaged to open only with --force", async () => {
    using dir = tempDir();
    await seed(path.join(dir.path, "a"));
    const backup = path.join(dir.path, "b.db");
    runCli(["--data-dir", path.join(dir.path, "a"), "backup", backup]);
    const damaged = path.join(dir.path, "damaged");
    runCli(["--data-dir", damaged, "append", "s", "T", "{}"]);
    writeFileSync(path.join(damaged, "store.db"), "garbage, not SQLite ".repeat(500));
    expect(runCli(["--data-dir", damaged, "restore", backup])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^edge-esdb: corrupt: the store in .* cannot be read .*pass --force/) });
    expect(runCli(["--data-dir", damaged, "restore", "--force", backup]).code).toBe(0);
    expect(runCli(["--data-dir", damaged, "verify"]).code).toBe(0);
    expect(JSON.parse(runCli(["--data-dir", damaged, "--json", "info"]).stdout)).toMatchObject({ headPosition: 5 });
  });

  test("restore into an empty data dir needs no --force", async () => {
    using dir = tempDir();
    await seed(path.join(dir.path, "a"));
    runCli(["--data-dir", path.join(dir.path, "a"), "backup", path.join(dir.path, "b.db")]);
    expect(runCli(["--data-dir", path.join(dir.path, "fresh"), "restore", path.join(dir.path, "b.db")])).toMatchObject({ code: 0, stdout: expect.stringContaining("5 events in 3 streams") });
    expect(runCli(["--data-dir", path.join(dir.path, "fresh"), "--json", "read", "blob-1"]).stdout).toContain('"$bytes":"AAEC/w=="');
  });
});

describe("export and import", () => {
  test("NDJSON with ids; importing twice (or after a partial import) stores each event once", async () => {
    using dir = tempDir();
    const source = path.join(dir.path, "source");
    await seed(source);
    const exported = runCli(["--data-dir", source, "export"]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split("\n");
    expect(lines).toHaveLength(5);
    const first = JSON.parse(lines[0] as string);
    expect(first).toMatchObject({ streamId: "order-1", version: 0, position: 0, type: "Placed", data: { total: 5 }, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(JSON.parse(lines[3] as string)).toMatchObject({ streamId: "blob-1", data: { $bytes: "AAEC/w==" }, contentType: "image/jpeg" });

    const file = path.join(dir.path, "events.ndjson");
    writeFileSync(file, exported.stdout);
    const partial = path.join(dir.path, "partial.ndjson");
    writeFileSync(partial, `${lines.slice(0, 2).join("\n")}\n`);
    const target = path.join(dir.path, "target");
    expect(JSON.parse(runCli(["--data-dir", target, "--json", "import", partial]).stdout)).toMatchObject({ events: 2, added: 2 });
    expect(JSON.parse(runCli(["--data-dir", target, "--json", "import", file]).stdout)).toMatchObject({ events: 5, added: 3 });
    expect(JSON.parse(runCli(["--data-dir", target, "--json", "import"], { stdin: exported.stdout }).stdout)).toMatchObject({ events: 5, added: 0 });
    // The same events, ids, data and order; no progress bar when stderr is not a terminal.
    const again = runCli(["--data-dir", target, "export"]);
    expect(again.stderr).toBe("");
    const strip = (text: string) => text.trim().split("\n").map((l) => { const { createdAt: _c, ...rest } = JSON.parse(l); return rest; });
    expect(strip(again.stdout)).toEqual(strip(exported.stdout));
    expect(runCli(["--data-dir", target, "verify"]).code).toBe(0);
  });

  test("re-importing a longer export after a shorter one keeps the stream's order", async () => {
    await using t = tempStore();
    const ids = Array.from({ length: 150 }, (_, i) => `018f0000-0000-7000-8000-${String(i).padStart(12, "0")}`);
    const line = (i: number) => JSON.stringify({ id: ids[i], streamId: "A", version: i, position: i, type: "T", data: { n: i }, metadata: null, contentType: "application/json", createdAt: new Date(0).toISOString() });
    async function* lines(n: number) {
      for (let i = 0; i < n; i++) yield line(i);
    }
    const writer = { appendImported: (streamId: string, events: EventInput[]) => t.store.appendSystem(streamId, "any", events), headPosition: async () => t.store.headPosition };
    await importEvents(writer, lines(50));
    await importEvents(writer, lines(150));
    const order = (await t.store.read("A", { limit: 1000 })).map((e) => (e.data as { n: number }).n);
    expect(order).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  test("export leaves system streams behind", async () => {
    await using t = tempStore();
    await t.store.append("order-1", "any", [{ type: "Placed", data: 1 }]);
    await t.store.appendSystem("$parked-p", "any", [{ type: "Parked", data: 2 }]);
    const lines: string[] = [];
    expect(await exportEvents(t.store, (l) => void lines.push(l))).toBe(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ streamId: "order-1" });
  });

  test.skipIf(Bun.which("script") === null)("on a terminal, import draws a progress bar on stderr", async () => {
    using dir = tempDir();
    await seed(path.join(dir.path, "a"));
    const file = path.join(dir.path, "events.ndjson");
    expect(runCli(["--data-dir", path.join(dir.path, "a"), "export", "--output", file]).code).toBe(0);
    // script(1) gives the command a pseudo-terminal; its stdout and stderr both arrive here.
    const command = [process.execPath, cliEntry, "--data-dir", path.join(dir.path, "b"), "import", file].map((a) => `'${a}'`).join(" ");
    const result = Bun.spawnSync(["script", "-qec", command, "/dev/null"], { stdout: "pipe", stderr: "pipe", env: cliEnv });
    const text = result.stdout.toString();
    expect(text).toMatch(/\rimport \[#{30}\] 100%/);
    expect(text).toContain("5 events read, 5 new");
  });

  test("export --output writes a file; a malformed line is named", async () => {
    using dir = tempDir();
    await seed(dir.path);
    const out = path.join(dir.path, "out.ndjson");
    expect(runCli(["--data-dir", dir.path, "export", "--output", out])).toMatchObject({ code: 0, stdout: `exported 5 events to ${out}\n` });
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(5);
    const result = runCli(["--data-dir", path.join(dir.path, "t"), "import"], { stdin: '{"id":"x"}\n' });
    expect(result).toMatchObject({ code: 1, stderr: "edge-esdb: invalid_argument: line 1: an event needs id, streamId, type and data\n" });
  });
});

describe("tail, snapshots, status, version, completion", () => {
  test("tail prints the last events, then follows new ones", async () => {
    using dir = tempDir();
    await seed(dir.path);
    const child = Bun.spawn([process.execPath, cliEntry, "--data-dir", dir.path, "tail", "order-1", "-n", "1", "--count", "2", "--interval-ms", "20"], { stdout: "pipe", stderr: "pipe", env: cliEnv });
    const reader = child.stdout.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/^4 {2}order-1@2 {2}Shipped /);
    const store = openStore({ dataDir: dir.path, durability: "normal" });
    await store.append("order-2", "any", [{ type: "Elsewhere", data: {} }]);
    await store.append("order-1", "any", [{ type: "Delivered", data: { n: 1 } }, { type: "Reviewed", data: { stars: 5 } }]);
    await store.close();
    expect(await child.exited).toBe(0);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    const lines = text.trim().split("\n");
    expect(lines.map((l) => l.split("  ")[2])).toEqual(["Shipped", "Delivered", "Reviewed"]);
    // Without --count it follows until Ctrl-C, which ends it with exit 0.
    const following = Bun.spawn([process.execPath, cliEntry, "--data-dir", dir.path, "tail", "$all", "-n", "1", "--interval-ms", "20"], { stdout: "pipe", stderr: "pipe", env: cliEnv });
    expect(new TextDecoder().decode((await following.stdout.getReader().read()).value)).toMatch(/^7 {2}order-1@4 {2}Reviewed /);
    following.kill("SIGINT");
    expect(await following.exited).toBe(0);
  }, 30_000);

  test("snapshots list and show", async () => {
    using dir = tempDir();
    await seed(dir.path);
    const list = runCli(["--data-dir", dir.path, "snapshots", "list", "order-1"]);
    expect(list.stdout.split("\n")[0]).toMatch(/^VERSION\s+SIZE\s+CONTENT TYPE\s+CREATED\s+METADATA$/);
    expect(JSON.parse(runCli(["--data-dir", dir.path, "--json", "snapshots", "list", "order-1"]).stdout).snapshots.map((s: { version: number }) => s.version)).toEqual([2, 1]);
    expect(JSON.parse(runCli(["--data-dir", dir.path, "--json", "snapshots", "show", "order-1"]).stdout)).toMatchObject({ version: 2, data: { shipped: true } });
    expect(JSON.parse(runCli(["--data-dir", dir.path, "--json", "snapshots", "show", "order-1", "1"]).stdout)).toMatchObject({ version: 1, metadata: { reason: "test" } });
    expect(runCli(["--data-dir", dir.path, "snapshots", "show", "order-2"])).toMatchObject({ code: 1, stderr: "edge-esdb: not_found: no snapshot of 'order-2'\n" });
  });

  test("status tells whether a daemon holds the data dir", async () => {
    using dir = tempDir();
    await seed(dir.path);
    expect(JSON.parse(runCli(["--data-dir", dir.path, "--json", "status"]).stdout)).toMatchObject({ daemon: "not running", mode: "single", store: { headPosition: 5, streamCount: 3 } });
    const store = openStore({ dataDir: dir.path, durability: "normal" });
    try {
      expect(JSON.parse(runCli(["--data-dir", dir.path, "--json", "status"]).stdout)).toMatchObject({ daemon: "running", store: { headPosition: 5 } });
      expect(runCli(["--data-dir", dir.path, "status"]).stdout).toMatch(/^daemon\s+running \(holds the data dir lock\)$/m);
    } finally {
      await store.close();
    }
    expect(JSON.parse(runCli(["--data-dir", path.join(dir.path, "none"), "--json", "status"]).stdout)).toMatchObject({ daemon: "not running", store: null });
  });

  test("version names the build; completion scripts complete commands and option values", () => {
    expect(JSON.parse(runCli(["--json", "version"]).stdout)).toMatchObject({ version: expect.any(String), commit: "dev", compiled: false, bun: Bun.version });
    const bash = runCli(["completion", "bash"]);
    expect(bash.code).toBe(0);
    using cwd = tempDir();
    writeFileSync(path.join(cwd.path, "backup-1.db"), "");
    const complete = (words: string[]) => {
      const script = `${bash.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _edge_esdb; echo "\${COMPREPLY[*]}"`;
      return Bun.spawnSync(["bash", "-c", script], { stdout: "pipe", cwd: cwd.path }).stdout.toString().trim();
    };
    // -f is a file for verify, a number for read: option values are completed per command.
    expect(complete(["edge-esdb", "verify", "-f", "back"])).toBe("backup-1.db");
    expect(complete(["edge-esdb", "read", "s", "-f", "back"])).toBe("");
    expect(complete(["edge-esdb", "ba"])).toBe("backup");
    expect(complete(["edge-esdb", "snapshots", ""])).toBe("list show");
    expect(complete(["edge-esdb", "--durability", ""])).toBe("full normal");
    expect(complete(["edge-esdb", "--data-dir", "/tmp", "ver"])).toBe("verify version");
    expect(complete(["edge-esdb", "verify", "--"])).toBe("--file --help");
    expect(complete(["edge-esdb", "completion", ""])).toBe("bash zsh");
    expect(complete(["edge-esdb", ""]).split(" ")).not.toContain("self-check");
    const zsh = runCli(["completion", "zsh"]);
    expect(zsh.stdout).toContain("bashcompinit");
    if (Bun.which("zsh") === null) console.warn("test/unit/cli: zsh is missing, its completion is not run (CI installs zsh)");
    else {
      // zsh's compgen leaves filtering by prefix to the completion system, so ask without a prefix.
      const script = `${zsh.stdout}\nprint -r -- "\${_comps[edge-esdb]}"\nCOMP_WORDS=(edge-esdb snapshots ""); COMP_CWORD=2; _edge_esdb; print -r -- "\${COMPREPLY[*]}"\nCOMP_WORDS=(edge-esdb --durability ""); COMP_CWORD=2; _edge_esdb; print -r -- "\${COMPREPLY[*]}"`;
      const out = Bun.spawnSync(["zsh", "-f", "-c", script], { stdout: "pipe", stderr: "pipe", cwd: cwd.path });
      expect(out.stdout.toString()).toBe("_bash_complete -o default -F _edge_esdb\nlist show\nfull normal\n");
    }
    expect(runCli(["completion", "fish"]).code).not.toBe(0);
  });
});
