// How the end-to-end tests get and run the compiled binaries: build them (once per test run, only
// when dist/ is missing or older than the sources), and run one natively or, for arm64 on an x64
// machine, under qemu-aarch64-static with the arm64 sysroot that .ci/setup-extra prepares.

import { existsSync } from "node:fs";
import path from "node:path";
import { binaryPath, rootDir, targetNamed, type Target } from "../../build/targets.ts";

export const arm64SysrootDir = process.env.EDGE_ESDB_ARM64_SYSROOT ?? "/opt/edge-esdb-arm64-sysroot";

const built = new Set<string>();

/** Builds the target's binary if it is missing or stale; returns its path. */
export async function ensureBinary(name: string): Promise<{ target: Target; binary: string }> {
  const target = await targetNamed(name);
  if (!built.has(name)) {
    const result = Bun.spawnSync([process.execPath, path.join(rootDir, "build/compile.ts"), "--if-stale", name], { cwd: rootDir, stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`building ${name} failed:\n${result.stdout.toString()}${result.stderr.toString()}`);
    built.add(name);
  }
  return { target, binary: binaryPath(target) };
}

/** Why the target's binary cannot run on this machine, or null when it can. */
export function cannotRun(target: Target): string | null {
  if (process.platform !== "linux") return `the ${target.name} binary runs on Linux only`;
  if (target.arch === process.arch) return null;
  if (target.arch === "arm64" && process.arch === "x64") {
    if (Bun.which("qemu-aarch64-static") === null) return "qemu-aarch64-static is missing (Debian package qemu-user-static; CI installs it from .ci/apt-packages)";
    if (!existsSync(path.join(arm64SysrootDir, "lib/ld-linux-aarch64.so.1"))) return `no arm64 sysroot at ${arm64SysrootDir} (run .ci/setup-extra as root)`;
    return null;
  }
  return `cannot run ${target.arch} binaries on ${process.arch}`;
}

/** The command line that runs the binary here: itself, or under qemu. */
export function commandFor(target: Target, binary: string, args: readonly string[]): string[] {
  if (target.arch === process.arch) return [binary, ...args];
  return ["qemu-aarch64-static", "-L", arm64SysrootDir, binary, ...args];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runBinary(target: Target, binary: string, args: readonly string[], options: { cwd?: string; stdin?: string; env?: Record<string, string> } = {}): RunResult {
  const child = Bun.spawnSync(commandFor(target, binary, args), {
    cwd: options.cwd ?? rootDir,
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", EDGE_ESDB_CONFIG: "", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: child.exitCode ?? -1, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
}

export interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
}

/** Reads a child's stdout until a line matches; returns everything read so far. */
export async function readUntil(stream: { getReader(): ChunkReader }, pattern: RegExp): Promise<{ text: string; reader: ChunkReader }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!pattern.test(text)) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`output ended before ${pattern}: ${JSON.stringify(text)}`);
    text += decoder.decode(chunk.value, { stream: true });
  }
  return { text, reader };
}

export async function readRest(reader: ChunkReader): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
  return text;
}
