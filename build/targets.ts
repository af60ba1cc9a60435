// The build targets: one small file per target in targets/, read here, plus the names of what
// the build makes for each (binary path, .deb name). Shared by compile.ts, package-deb.ts and
// the end-to-end tests.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface Target {
  /** Our name, also the binary's suffix: linux-x64. */
  name: string;
  /** Bun's compile target. */
  bunTarget: Bun.Build.CompileTarget;
  /** Node-style architecture name. */
  arch: "x64" | "arm64";
  /** Debian's architecture name. */
  debArch: "amd64" | "arm64";
}

export const rootDir = path.resolve(import.meta.dir, "..");
export const distDir = path.join(rootDir, "dist");
export const targetsDir = path.join(rootDir, "targets");

export function packageVersion(): string {
  const json = JSON.parse(readFileSync(path.join(rootDir, "package.json"), "utf8")) as { version: string };
  return json.version;
}

/** Every target in targets/, in name order. */
export async function loadTargets(): Promise<Target[]> {
  const files = readdirSync(targetsDir).filter((f) => f.endsWith(".ts")).sort();
  const targets: Target[] = [];
  for (const file of files) {
    const module = (await import(path.join(targetsDir, file))) as { target?: Target };
    if (module.target === undefined) throw new Error(`targets/${file} exports no 'target'`);
    targets.push(module.target);
  }
  return targets;
}

export async function targetNamed(name: string): Promise<Target> {
  const found = (await loadTargets()).find((t) => t.name === name);
  if (found === undefined) throw new Error(`no target '${name}' in targets/`);
  return found;
}

export function binaryPath(target: Target, version = packageVersion()): string {
  return path.join(distDir, `edge-esdb-${version}-${target.name}`);
}

export function debPath(target: Target, version = packageVersion()): string {
  return path.join(distDir, `edge-esdb_${version}_${target.debArch}.deb`);
}
