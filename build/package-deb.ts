// `npm run package`: one Debian package per target, dist/edge-esdb_<version>_<debarch>.deb, built
// with dpkg-deb from the compiled binary (built first when missing or stale) and systemd/:
//   /usr/bin/edge-esdb                        the binary (0755)
//   /lib/systemd/system/edge-esdb.service     the unit
//   /etc/edge-esdb/edge-esdb.toml             the commented default config (a conffile)
//   /usr/lib/sysusers.d/edge-esdb.conf        the system user
//   /usr/lib/tmpfiles.d/edge-esdb.conf        the state directory
//   /usr/share/doc/edge-esdb/                 README.md, copyright
// with maintainer scripts (systemd/debian/) that create the user and enable the service.
// Usage: bun build/package-deb.ts [target-name...] [--fast]

import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { compileTarget, isStale } from "./compile.ts";
import { binaryPath, debPath, loadTargets, packageVersion, rootDir, type Target } from "./targets.ts";

interface StagedFile {
  from: string;
  to: string;
  mode: number;
}

const installedFiles: readonly StagedFile[] = [
  { from: "systemd/edge-esdb.service", to: "lib/systemd/system/edge-esdb.service", mode: 0o644 },
  { from: "systemd/edge-esdb.toml", to: "etc/edge-esdb/edge-esdb.toml", mode: 0o644 },
  { from: "systemd/edge-esdb.sysusers", to: "usr/lib/sysusers.d/edge-esdb.conf", mode: 0o644 },
  { from: "systemd/edge-esdb.tmpfiles", to: "usr/lib/tmpfiles.d/edge-esdb.conf", mode: 0o644 },
  { from: "README.md", to: "usr/share/doc/edge-esdb/README.md", mode: 0o644 },
  { from: "systemd/debian/copyright", to: "usr/share/doc/edge-esdb/copyright", mode: 0o644 },
];

const maintainerScripts = ["postinst", "prerm", "postrm"] as const;
export const conffiles = ["/etc/edge-esdb/edge-esdb.toml"] as const;

function control(target: Target, version: string, installedSizeKiB: number): string {
  return [
    "Package: edge-esdb",
    `Version: ${version}`,
    `Architecture: ${target.debArch}`,
    "Maintainer: edge-esdb maintainers <maintainers@edge-esdb.invalid>",
    "Section: database",
    "Priority: optional",
    `Installed-Size: ${installedSizeKiB}`,
    // The binary links only glibc (symbols up to GLIBC_2.17); sd_notify dlopens libc.so.6.
    "Depends: libc6 (>= 2.17)",
    "Recommends: systemd",
    "Homepage: https://github.com/edge-esdb/edge-esdb",
    "Description: event store for small devices",
    " edge-esdb keeps append-only event streams in SQLite on the device, replicates them",
    " with Raft over the LAN when peers are present, and serves an HTTP API on a unix",
    " socket. One self-contained binary (Bun runtime inside), run as a systemd service.",
    "",
  ].join("\n");
}

function stageFile(staging: string, from: string, to: string, mode: number): void {
  const destination = path.join(staging, to);
  mkdirSync(path.dirname(destination), { recursive: true });
  copyFileSync(from, destination);
  chmodSync(destination, mode);
}

/** Directories 0755 whatever the umask; returns the total size of the files in bytes. */
function normalizeTree(dir: string): number {
  let bytes = 0;
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) bytes += normalizeTree(p);
    else bytes += s.size;
  }
  return bytes;
}

function md5sums(staging: string): string {
  const lines: string[] = [];
  const visit = (rel: string) => {
    const abs = path.join(staging, rel);
    for (const name of readdirSync(abs).sort()) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      if (childRel === "DEBIAN") continue;
      if (statSync(path.join(staging, childRel)).isDirectory()) visit(childRel);
      else lines.push(`${new Bun.CryptoHasher("md5").update(readFileSync(path.join(staging, childRel))).digest("hex")}  ${childRel}`);
    }
  };
  visit("");
  return `${lines.join("\n")}\n`;
}

export interface PackageOptions {
  version?: string;
  /** Where to write the .deb (default dist/edge-esdb_<version>_<debarch>.deb). */
  outFile?: string;
  /**
   * gzip -1 instead of xz -6: the same files, several times faster to build (tests use it);
   * release packages use xz, about a third smaller to download to a device.
   */
  fast?: boolean;
}

export async function packageTarget(target: Target, options: PackageOptions = {}): Promise<string> {
  const version = options.version ?? packageVersion();
  if (isStale(target)) await compileTarget(target, version);
  const out = options.outFile ?? debPath(target, version);
  const staging = path.join(path.dirname(out), `deb-staging-${target.debArch}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  stageFile(staging, binaryPath(target, version), "usr/bin/edge-esdb", 0o755);
  for (const file of installedFiles) stageFile(staging, path.join(rootDir, file.from), file.to, file.mode);
  const installedSizeKiB = Math.ceil(normalizeTree(staging) / 1024);
  mkdirSync(path.join(staging, "DEBIAN"), { recursive: true });
  for (const script of maintainerScripts) stageFile(staging, path.join(rootDir, "systemd/debian", script), `DEBIAN/${script}`, 0o755);
  writeFileSync(path.join(staging, "DEBIAN/control"), control(target, version, installedSizeKiB));
  writeFileSync(path.join(staging, "DEBIAN/conffiles"), `${conffiles.join("\n")}\n`);
  writeFileSync(path.join(staging, "DEBIAN/md5sums"), md5sums(staging));
  for (const name of ["control", "conffiles", "md5sums"]) chmodSync(path.join(staging, "DEBIAN", name), 0o644);
  chmodSync(path.join(staging, "DEBIAN"), 0o755);
  mkdirSync(path.dirname(out), { recursive: true });
  const compression = options.fast === true ? ["-Zgzip", "-z1"] : ["-Zxz", "-z6"];
  const result = Bun.spawnSync(["dpkg-deb", "--root-owner-group", ...compression, "--build", staging, out], { stdout: "pipe", stderr: "pipe" });
  rmSync(staging, { recursive: true, force: true });
  if (result.exitCode !== 0) throw new Error(`dpkg-deb failed for ${target.name}: ${result.stderr.toString()}`);
  return out;
}

if (import.meta.main) {
  if (Bun.which("dpkg-deb") === null) throw new Error("dpkg-deb is missing: apt-get install dpkg (or dpkg-dev)");
  const fast = process.argv.includes("--fast");
  const names = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const targets = (await loadTargets()).filter((t) => names.length === 0 || names.includes(t.name));
  if (names.length > 0 && targets.length !== names.length) throw new Error(`unknown target among: ${names.join(", ")}`);
  for (const target of targets) {
    const started = performance.now();
    const out = await packageTarget(target, { fast });
    console.log(`${target.name}: ${path.relative(rootDir, out)} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MiB, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
}
