// The compiled binaries as a device runs them (not the sources): each target's binary reports its
// stamped version, has working SQLite and pure-JS CBOR, ignores a stray .env and bunfig.toml,
// serves a data dir, answers read-only inspection while it serves, and stops with exit 0 on
// SIGTERM with the store intact. The arm64 binary runs under qemu-aarch64-static (skipped with the
// reason where qemu or the sysroot is missing; CI installs both). Builds dist/ when it is stale.

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { packageVersion } from "../../build/targets.ts";
import { tempDir } from "../helpers/temp.ts";
import { cannotRun, commandFor, ensureBinary, readRest, readUntil, runBinary } from "./binaries.ts";
import { targetNamed } from "../../build/targets.ts";

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
    });

    test("serve, inspect while serving, stop on SIGTERM with exit 0, store intact", async () => {
      const { target, binary } = await ensureBinary(name);
      using dir = tempDir();
      const dataDir = path.join(dir.path, "data");
      const d = ["--data-dir", dataDir];
      for (let i = 0; i < 3; i++) expect(runBinary(target, binary, [...d, "append", "order-1", "Placed", JSON.stringify({ n: i })]).code).toBe(0);

      const child = Bun.spawn(commandFor(target, binary, ["serve", ...d]), { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", EDGE_ESDB_CONFIG: "" } });
      try {
        const { reader } = await readUntil(child.stdout, /ready: .* 3 events\n/);
        // Read-only inspection beside the daemon; a second writer is refused.
        const read = runBinary(target, binary, ["--json", ...d, "read", "order-1"]);
        expect(read.code).toBe(0);
        expect(read.stdout.trim().split("\n").map((l) => JSON.parse(l).data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
        expect(runBinary(target, binary, [...d, "append", "order-1", "Placed", "{}"]).stderr).toMatch(/^edge-esdb: store_locked: /);
        child.kill("SIGTERM");
        expect(await child.exited).toBe(0);
        expect(await readRest(reader)).toContain("stopped on SIGTERM");
      } finally {
        child.kill("SIGKILL");
      }
      // After the stop the store is whole and writable again.
      expect(runBinary(target, binary, ["--json", ...d, "append", "order-1", "Shipped", "{}", "-e", "2"])).toMatchObject({ code: 0, stdout: '{"nextVersion":3,"position":3}\n' });
      expect(JSON.parse(runBinary(target, binary, ["--json", ...d, "info"]).stdout)).toMatchObject({ headPosition: 4, streamCount: 1 });
    });
  });
}
