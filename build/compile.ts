// `npm run build`: one standalone binary per target in targets/, at
// dist/edge-esdb-<version>-<target>. The version and commit are stamped in with `define`; the
// binaries never autoload a `.env` or `bunfig.toml` from the directory they run in. cbor-x's
// optional native addon (cbor-extract) is replaced by a module that throws, so cbor-x takes its
// pure-JS path on every architecture (the addon is a per-arch .node file a cross-compiled binary
// cannot carry). Usage: bun build/compile.ts [target-name...] [--if-stale]

import { mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { binaryPath, distDir, loadTargets, packageVersion, rootDir, type Target } from "./targets.ts";

const entry = path.join(rootDir, "src/cli/main.ts");
/** Bun's --compile-jit-policy: JavaScriptCore's tier-up thresholds multiplied by this at start. */
export const startupJitPolicy = 10;

/** cbor-x does `try { require("cbor-extract") } catch {}`: make that require throw, always. */
const noNativeCbor: Bun.BunPlugin = {
  name: "no-native-cbor",
  setup(build) {
    build.onResolve({ filter: /^cbor-extract$/ }, () => ({ path: "cbor-extract", namespace: "edge-esdb-stub" }));
    build.onLoad({ filter: /.*/, namespace: "edge-esdb-stub" }, () => ({
      contents: 'throw new Error("cbor-extract is not bundled: cbor-x runs on its pure-JS path");',
      loader: "js",
    }));
  },
};

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: rootDir, stdout: "pipe", stderr: "ignore" });
  if (result.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: rootDir, stdout: "pipe", stderr: "ignore" });
  return `${result.stdout.toString().trim()}${dirty.stdout.toString().trim() === "" ? "" : "-dirty"}`;
}

export async function compileTarget(target: Target, version = packageVersion()): Promise<string> {
  const outfile = binaryPath(target, version);
  mkdirSync(distDir, { recursive: true });
  const result = await Bun.build({
    entrypoints: [entry],
    // JIT policy 10: code that runs only at start stays in the interpreter instead of being
    // compiled, which keeps about 3 MiB of JIT code and tier-up work out of an idle daemon and out
    // of every short CLI command; hot code still tiers up, later.
    compile: { target: target.bunTarget, outfile, autoloadDotenv: false, autoloadBunfig: false, jitPolicy: startupJitPolicy },
    // Identifiers stay readable: a stack trace from a device should name the functions.
    minify: { whitespace: true, syntax: true, identifiers: false },
    bytecode: true,
    format: "esm",
    define: {
      EDGE_ESDB_VERSION: JSON.stringify(version),
      EDGE_ESDB_COMMIT: JSON.stringify(gitCommit()),
      "process.env.NODE_ENV": JSON.stringify("production"),
    },
    plugins: [noNativeCbor],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build for ${target.name} failed`);
  }
  return outfile;
}

/** The newest modification time (ms) of what goes into a binary: src/, the targets, the build, package files. */
export function newestInputMs(): number {
  let newest = 0;
  const visit = (p: string) => {
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const name of readdirSync(p)) visit(path.join(p, name));
    } else newest = Math.max(newest, s.mtimeMs);
  };
  for (const p of ["src", "targets", "build/compile.ts", "build/targets.ts", "package.json", "package-lock.json"]) visit(path.join(rootDir, p));
  return newest;
}

/** True when the target's binary is missing or older than any input. */
export function isStale(target: Target): boolean {
  try {
    return statSync(binaryPath(target)).mtimeMs < newestInputMs();
  } catch {
    return true;
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const onlyStale = args.includes("--if-stale");
  const names = args.filter((a) => !a.startsWith("--"));
  const targets = (await loadTargets()).filter((t) => names.length === 0 || names.includes(t.name));
  if (names.length > 0 && targets.length !== names.length) throw new Error(`unknown target among: ${names.join(", ")}`);
  for (const target of targets) {
    if (onlyStale && !isStale(target)) {
      console.log(`${target.name}: up to date (${path.relative(rootDir, binaryPath(target))})`);
      continue;
    }
    const started = performance.now();
    const outfile = await compileTarget(target);
    const sizeMiB = statSync(outfile).size / 1024 / 1024;
    console.log(`${target.name}: ${path.relative(rootDir, outfile)} (${sizeMiB.toFixed(1)} MiB, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
}
