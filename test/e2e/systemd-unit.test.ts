// The systemd unit as shipped: `systemd-analyze verify` accepts it without a single warning (in a
// throwaway root holding the host's systemd units and an executable /usr/bin/edge-esdb), a broken
// copy is caught (so the check can fail), and `systemd-analyze security --offline=true` rates its
// exposure 2.0 or lower. Needs systemd-analyze (Debian package systemd; CI installs it).

import { describe, expect, test } from "bun:test";
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { rootDir } from "../../build/targets.ts";
import { tempDir } from "../helpers/temp.ts";

const unitFile = path.join(rootDir, "systemd/edge-esdb.service");
const hostUnitsDir = "/lib/systemd/system";
const missing = Bun.which("systemd-analyze") === null ? "systemd-analyze is missing (Debian package systemd; CI installs it from .ci/apt-packages)" : null;
if (missing !== null) console.warn(`test/e2e: skipping the systemd unit checks: ${missing}`);

/** Runs `systemd-analyze verify` on unit text inside a throwaway root; returns its exit code and output. */
export function verifyUnit(unitText: string, root: string): { code: number; output: string } {
  mkdirSync(path.join(root, "usr/bin"), { recursive: true });
  mkdirSync(path.join(root, "etc/systemd/system"), { recursive: true });
  mkdirSync(path.join(root, "lib/systemd"), { recursive: true });
  cpSync(hostUnitsDir, path.join(root, "lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
  writeFileSync(path.join(root, "usr/bin/edge-esdb"), "#!/bin/sh\n");
  chmodSync(path.join(root, "usr/bin/edge-esdb"), 0o755);
  writeFileSync(path.join(root, "etc/systemd/system/edge-esdb.service"), unitText);
  const result = Bun.spawnSync(["systemd-analyze", "verify", "--man=no", `--root=${root}`, "/etc/systemd/system/edge-esdb.service"], { stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode ?? -1, output: `${result.stdout.toString()}${result.stderr.toString()}` };
}

export function exposureOf(unitPath: string): { score: number; output: string } {
  const result = Bun.spawnSync(["systemd-analyze", "security", "--offline=true", "--no-pager", unitPath], { stdout: "pipe", stderr: "pipe" });
  const output = `${result.stdout.toString()}${result.stderr.toString()}`;
  const match = /Overall exposure level for edge-esdb\.service: (\d+(?:\.\d+)?)/.exec(output);
  if (match === null) throw new Error(`no exposure level in:\n${output}`);
  return { score: Number(match[1]), output };
}

describe.skipIf(missing !== null)("systemd/edge-esdb.service", () => {
  test("systemd-analyze verify passes with no warning at all", () => {
    using root = tempDir();
    expect(verifyUnit(readFileSync(unitFile, "utf8"), root.path)).toEqual({ code: 0, output: "" });
  });

  test("a broken copy of the unit is caught (the check can fail)", () => {
    using root = tempDir();
    const broken = readFileSync(unitFile, "utf8").replace(/^Type=notify$/m, "Type=notfy");
    expect(verifyUnit(broken, root.path).output).toContain("Failed to parse service type");
  });

  test("Type=notify with a watchdog, its own user and directories", () => {
    const text = readFileSync(unitFile, "utf8");
    for (const line of ["Type=notify", "NotifyAccess=main", "User=edge-esdb", "StateDirectory=edge-esdb", "RuntimeDirectory=edge-esdb", "ConfigurationDirectory=edge-esdb", "ProtectSystem=strict", "NoNewPrivileges=yes"]) {
      expect(text.split("\n")).toContain(line);
    }
    expect(text).toMatch(/^WatchdogSec=\d+s$/m);
  });

  test("systemd-analyze security --offline=true rates the exposure 2.0 or lower", () => {
    const { score, output } = exposureOf(unitFile);
    console.log(`systemd-analyze security: edge-esdb.service exposure ${score}`);
    if (score > 2.0) console.log(output);
    expect(score).toBeLessThanOrEqual(2.0);
  });
});
