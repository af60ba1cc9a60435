// The Debian packages: what each .deb holds (paths, modes, root ownership, the conffile, control
// fields), then a real install into a throwaway root with dpkg (`--root`, maintainer scripts run
// chrootless with DPKG_ROOT): the files land with their modes, the postinst creates the
// edge-esdb user and its 0750 state directory and enables the unit; remove keeps the config;
// purge drops config and enablement and keeps the store. Needs dpkg-deb; the install needs root
// (dpkg chowns) and is skipped with the reason otherwise. CI runs as root.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { packageTarget } from "../../build/package-deb.ts";
import { packageVersion, targetNamed, type Target } from "../../build/targets.ts";
import { loadConfig } from "../../src/cli/config.ts";
import { tempDir } from "../helpers/temp.ts";

const noDpkg = Bun.which("dpkg-deb") === null || Bun.which("dpkg") === null ? "dpkg-deb is missing (CI installs dpkg-dev from .ci/apt-packages)" : null;
const notRoot = process.getuid?.() !== 0 ? "installing into a throwaway root with dpkg needs root (CI runs as root)" : null;
if (noDpkg !== null) console.warn(`test/e2e/deb: skipping: ${noDpkg}`);
else if (notRoot !== null) console.warn(`test/e2e/deb: skipping the install: ${notRoot}`);

/** What every package must hold: path -> mode as `dpkg-deb -c` prints it. */
const expectedFiles: Record<string, string> = {
  "./usr/bin/edge-esdb": "-rwxr-xr-x",
  "./lib/systemd/system/edge-esdb.service": "-rw-r--r--",
  "./etc/edge-esdb/edge-esdb.toml": "-rw-r--r--",
  "./usr/lib/sysusers.d/edge-esdb.conf": "-rw-r--r--",
  "./usr/lib/tmpfiles.d/edge-esdb.conf": "-rw-r--r--",
  "./usr/share/doc/edge-esdb/README.md": "-rw-r--r--",
  "./usr/share/doc/edge-esdb/copyright": "-rw-r--r--",
};

function run(command: string[], env: Record<string, string> = {}): string {
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...env } });
  const output = `${result.stdout.toString()}${result.stderr.toString()}`;
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed (${result.exitCode}):\n${output}`);
  return output;
}

function modeOf(file: string): number {
  return statSync(file).mode & 0o7777;
}

/** An empty dpkg database in `root`, as on a fresh system. */
function prepareRoot(root: string): void {
  for (const dir of ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc", "usr/sbin"]) mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, "var/lib/dpkg/status"), "");
  writeFileSync(path.join(root, "var/lib/dpkg/available"), "");
}

function dpkg(root: string, target: Target, args: string[]): string {
  const force = ["--force-script-chrootless", "--force-depends", "--force-not-root", ...(target.debArch === "amd64" ? [] : ["--force-architecture"])];
  return run(["dpkg", `--root=${root}`, `--log=${path.join(root, "dpkg.log")}`, ...force, ...args]);
}

const debDir = tempDir();
afterAll(() => debDir[Symbol.dispose]());
const debs = new Map<string, Promise<string>>();

/** Each target's package, built once for this file (gzip -1: the same files, quicker). */
function debFor(target: Target): Promise<string> {
  let deb = debs.get(target.name);
  if (deb === undefined) {
    deb = packageTarget(target, { outFile: path.join(debDir.path, `edge-esdb_${target.debArch}.deb`), fast: true });
    debs.set(target.name, deb);
  }
  return deb;
}

for (const name of ["linux-x64", "linux-arm64"]) {
  describe.skipIf(noDpkg !== null)(`the ${name} .deb`, () => {
    test("holds the binary, unit, config, sysusers and tmpfiles snippets, owned by root with the right modes", async () => {
      const target = await targetNamed(name);
      const deb = await debFor(target);
      const listing = new Map<string, string>();
      for (const line of run(["dpkg-deb", "-c", deb]).trim().split("\n")) {
        const [mode, owner, , , , file] = line.split(/\s+/);
        expect(owner).toBe("root/root");
        if (!(mode ?? "").startsWith("d")) listing.set(file ?? "", mode ?? "");
      }
      expect(Object.fromEntries(listing)).toEqual(expectedFiles);
      expect(run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture"])).toBe(`Package: edge-esdb\nVersion: ${packageVersion()}\nArchitecture: ${target.debArch}\n`);
      using control = tempDir();
      run(["dpkg-deb", "-e", deb, control.path]);
      expect(readFileSync(path.join(control.path, "conffiles"), "utf8")).toBe("/etc/edge-esdb/edge-esdb.toml\n");
      for (const script of ["postinst", "prerm", "postrm"]) expect(modeOf(path.join(control.path, script))).toBe(0o755);
      // The packaged default config is one the program accepts, and points at the unit's directories.
      using unpacked = tempDir();
      run(["dpkg-deb", "-x", deb, unpacked.path]);
      const config = await loadConfig({ file: path.join(unpacked.path, "etc/edge-esdb/edge-esdb.toml"), env: {} });
      expect(config).toMatchObject({ dataDir: "/var/lib/edge-esdb", socket: "/run/edge-esdb/edge-esdb.sock", durability: "full" });
    });

    test.skipIf(notRoot !== null)("installs into a throwaway root: files, user, state dir, enabled unit; remove and purge", async () => {
      const target = await targetNamed(name);
      const deb = await debFor(target);
      using rootDir = tempDir();
      const root = rootDir.path;
      prepareRoot(root);
      dpkg(root, target, ["--install", deb]);

      expect(modeOf(path.join(root, "usr/bin/edge-esdb"))).toBe(0o755);
      for (const file of ["lib/systemd/system/edge-esdb.service", "etc/edge-esdb/edge-esdb.toml", "usr/lib/sysusers.d/edge-esdb.conf", "usr/lib/tmpfiles.d/edge-esdb.conf"]) {
        expect(modeOf(path.join(root, file))).toBe(0o644);
        expect(statSync(path.join(root, file)).uid).toBe(0);
      }
      if (target.arch === process.arch) expect(run([path.join(root, "usr/bin/edge-esdb"), "--version"])).toBe(`${packageVersion()}\n`);
      // postinst: the user (systemd-sysusers --root), its state dir (systemd-tmpfiles --root), the enablement.
      const passwd = readFileSync(path.join(root, "etc/passwd"), "utf8");
      const user = /^edge-esdb:x:(\d+):(\d+):[^:]*:\/var\/lib\/edge-esdb:\/usr\/sbin\/nologin$/m.exec(passwd);
      expect(user).not.toBeNull();
      expect(readFileSync(path.join(root, "etc/group"), "utf8")).toMatch(/^edge-esdb:x:\d+:/m);
      const stateDir = path.join(root, "var/lib/edge-esdb");
      expect(modeOf(stateDir)).toBe(0o750);
      expect(statSync(stateDir).uid).toBe(Number(user?.[1]));
      const wants = path.join(root, "etc/systemd/system/multi-user.target.wants/edge-esdb.service");
      expect(lstatSync(wants).isSymbolicLink()).toBe(true);
      expect(readlinkSync(wants)).toBe("/lib/systemd/system/edge-esdb.service");
      expect(run(["dpkg-query", `--admindir=${path.join(root, "var/lib/dpkg")}`, "-W", "-f", "${Status} ${Version}", "edge-esdb"])).toBe(`install ok installed ${packageVersion()}`);

      // A store the admin made stays across remove and purge; the conffile stays on remove only.
      writeFileSync(path.join(stateDir, "store.db"), "not really a store");
      dpkg(root, target, ["--remove", "edge-esdb"]);
      expect(existsSync(path.join(root, "usr/bin/edge-esdb"))).toBe(false);
      expect(existsSync(path.join(root, "lib/systemd/system/edge-esdb.service"))).toBe(false);
      expect(existsSync(path.join(root, "etc/edge-esdb/edge-esdb.toml"))).toBe(true);
      dpkg(root, target, ["--purge", "edge-esdb"]);
      expect(existsSync(path.join(root, "etc/edge-esdb/edge-esdb.toml"))).toBe(false);
      expect(existsSync(wants)).toBe(false);
      expect(existsSync(path.join(root, "etc/systemd/system/edge-esdb.service"))).toBe(false);
      expect(readFileSync(path.join(stateDir, "store.db"), "utf8")).toBe("not really a store");
    });
  });
}
