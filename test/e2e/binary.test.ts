// The compiled binaries as a device runs them (not the sources): each target's binary reports its
// stamped version, has working SQLite and pure-JS CBOR, ignores a stray .env and bunfig.toml,
// serves a data dir, answers read-only inspection while it serves, and stops with exit 0 on
// SIGTERM with the store intact. The arm64 binary runs under qemu-aarch64-static (skipped with the
// reason where qemu or the sysroot is missing; CI installs both). Builds dist/ when it is stale.
// While serving: READY=1 reaches a fake NOTIFY_SOCKET (socat), appends and reads go through the
// HTTP gateway on the unix socket (the client), and an online backup verifies and restores.

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { packageVersion } from "../../build/targets.ts";
import { EdgeEsdbClient } from "../../src/client/index.ts";
import { tempDir } from "../helpers/temp.ts";
import { cannotRun, commandFor, ensureBinary, readRest, readUntil, runBinary } from "./binaries.ts";
import { targetNamed } from "../../build/targets.ts";

/** Under qemu each run of the binary costs about a second more: emulated tests get more time. */
const qemuAwareTimeoutMs = 180_000;

for (const name of ["linux-x64", "linux-arm64"]) {
  const reason = cannotRun(await targetNamed(name));
  if (reason !== null) console.warn(`test/e2e: skipping the ${name} binary: ${reason}`);

  describe.skipIf(reason !== null)(`the ${name} binary`, () => {
    test("version, self-check, and no .env or bunfig.toml autoload", async () => {
      const { target, binary } = await ensureBinary(name);
      expect(runBinary(target, binary, ["--version"])).toMatchObject({ code: 0, stdout: `${packageVersion()}\n` });
      const check = runBinary(target, binary, ["--json", "self-check"]);
      expect(check.code).toBe(0);
      expect(JSON.parse(check.stdout)).toMatchObject({ version: packageVersion(), compiled: true, arch: target.arch, cborRoundTrip: true, cborNative: false });

      using dir = tempDir();
      // A working directory with a .env that would move the data dir, and a bunfig.toml whose
      // preload would leave a marker: the binary must honour neither.
      writeFileSync(path.join(dir.path, ".env"), `EDGE_ESDB_DATA_DIR=${path.join(dir.path, "from-dotenv")}\n`);
      writeFileSync(path.join(dir.path, "preload.ts"), `require("fs").writeFileSync(${JSON.stringify(path.join(dir.path, "preloaded"))}, "x");\n`);
      writeFileSync(path.join(dir.path, "bunfig.toml"), 'preload = ["./preload.ts"]\n');
      mkdirSync(path.join(dir.path, "data"));
      const append = runBinary(target, binary, ["--json", "append", "s", "T", "{}"], { cwd: dir.path });
      expect(append).toMatchObject({ code: 0, stdout: '{"nextVersion":0,"position":0}\n' });
      expect(existsSync(path.join(dir.path, "data/store.db"))).toBe(true);
      expect(existsSync(path.join(dir.path, "from-dotenv"))).toBe(false);
      expect(existsSync(path.join(dir.path, "preloaded"))).toBe(false);
    }, qemuAwareTimeoutMs);

    test("serve: ready (and READY=1 to NOTIFY_SOCKET), append and read over the socket, online backup, SIGTERM exit 0", async () => {
      const { target, binary } = await ensureBinary(name);
      using dir = tempDir();
      const dataDir = path.join(dir.path, "data");
      const socket = path.join(dir.path, "edge-esdb.sock");
      const d = ["--data-dir", dataDir];
      for (let i = 0; i < 3; i++) expect(runBinary(target, binary, [...d, "append", "order-1", "Placed", JSON.stringify({ n: i })]).code).toBe(0);

      // systemd's side of Type=notify, played by socat (when present; CI installs it).
      const notifySocket = path.join(dir.path, "notify.sock");
      const notify = Bun.which("socat") === null ? null : Bun.spawn(["socat", "-u", `UNIX-RECV:${notifySocket}`, "STDOUT"], { stdout: "pipe", stderr: "inherit" });
      let notified = "";
      const notifyReading = notify === null ? Promise.resolve() : (async () => {
        for await (const chunk of notify.stdout) notified += new TextDecoder().decode(chunk);
      })();
      if (notify !== null) while (!existsSync(notifySocket)) await Bun.sleep(5);
      const env: Record<string, string> = { PATH: process.env.PATH ?? "", EDGE_ESDB_CONFIG: "", ...(notify === null ? {} : { NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: "400000" }) };

      const child = Bun.spawn(commandFor(target, binary, ["serve", ...d, "--socket", socket]), { stdout: "pipe", stderr: "pipe", env });
      try {
        const { reader } = await readUntil(child.stdout, /ready: .* 3 events\n/);
        if (notify !== null) {
          while (!notified.includes("WATCHDOG=1")) await Bun.sleep(10);
          expect(notified).toMatch(/^READY=1\nMAINPID=\d+\nSTATUS=serving on socket /);
        }
        // Through the daemon's HTTP gateway on its unix socket.
        const client = new EdgeEsdbClient({ socketPath: socket });
        expect(await client.append("order-1", 2, [{ type: "Paid", data: { amount: 5 } }])).toEqual({ nextVersion: 3, position: 3 });
        expect((await client.read("order-1")).map((e) => e.type)).toEqual(["Placed", "Placed", "Placed", "Paid"]);
        client.close();
        // Read-only inspection and an online backup beside the daemon; a second writer is refused.
        const read = runBinary(target, binary, ["--json", ...d, "read", "order-1"]);
        expect(read.code).toBe(0);
        expect(read.stdout.trim().split("\n").map((l) => JSON.parse(l).data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { amount: 5 }]);
        expect(JSON.parse(runBinary(target, binary, ["--json", ...d, "status"]).stdout)).toMatchObject({ daemon: "running" });
        const backup = path.join(dir.path, "backup.db");
        expect(runBinary(target, binary, ["--json", ...d, "backup", backup])).toMatchObject({ code: 0, stdout: expect.stringContaining('"headPosition":4') });
        expect(runBinary(target, binary, [...d, "append", "order-1", "Placed", "{}"]).stderr).toMatch(/^edge-esdb: store_locked: /);
        child.kill("SIGTERM");
        expect(await child.exited).toBe(0);
        expect(await readRest(reader)).toContain("stopped on SIGTERM");
        if (notify !== null) {
          while (!notified.includes("STOPPING=1")) await Bun.sleep(10);
        }
        // The backup is a whole store: it verifies and restores into a fresh data dir.
        expect(runBinary(target, binary, ["verify", "--file", backup])).toMatchObject({ code: 0 });
        const restored = ["--data-dir", path.join(dir.path, "restored")];
        expect(runBinary(target, binary, [...restored, "restore", backup]).code).toBe(0);
        expect(JSON.parse(runBinary(target, binary, ["--json", ...restored, "info"]).stdout)).toMatchObject({ headPosition: 4, streamCount: 1 });
      } finally {
        child.kill("SIGKILL");
        notify?.kill();
        await notifyReading;
      }
      // After the stop the store is whole and writable again.
      expect(runBinary(target, binary, ["--json", ...d, "append", "order-1", "Shipped", "{}", "-e", "3"])).toMatchObject({ code: 0, stdout: '{"nextVersion":4,"position":4}\n' });
      expect(runBinary(target, binary, [...d, "verify"]).code).toBe(0);
    }, qemuAwareTimeoutMs);
  });
}
