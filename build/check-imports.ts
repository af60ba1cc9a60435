// Enforces DESIGN.md's rules on who may import whom, and keeps raft/ and events/ pure: no `bun`,
// `bun:*` or `node:*` module, no clock, no timers, no Math.random. Run by `npm test`.
// Exits non-zero and names every violation.

import { Glob } from "bun";
import path from "node:path";

/** For each folder of src/, the folders it may import (besides itself). */
export const allowedImports: Record<string, readonly string[]> = {
  lib: [],
  raft: ["lib"],
  events: ["lib"],
  codec: ["lib", "raft", "events"],
  store: ["lib", "events", "codec"],
  transport: ["lib", "codec"],
  discovery: ["lib", "codec"],
  telemetry: ["lib"],
  subscriptions: ["lib", "events", "store", "telemetry"],
  node: ["lib", "raft", "events", "codec", "store", "transport", "discovery", "telemetry", "subscriptions"],
  api: ["lib", "node", "events", "telemetry", "subscriptions"],
  client: ["lib"],
  cli: ["lib", "node", "api", "client", "store", "events", "telemetry", "subscriptions"],
};

const pureFolders = new Set(["raft", "events", "lib"]);

const impurePatterns: ReadonlyArray<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, "reads the clock (Date.now)"],
  [/\bnew\s+Date\s*\(/, "reads the clock (new Date)"],
  [/\bperformance\.now\s*\(/, "reads the clock (performance.now)"],
  [/\bprocess\.hrtime\b/, "reads the clock (process.hrtime)"],
  [/\bMath\.random\s*\(/, "uses Math.random (use the seeded Prng)"],
  [/\bcrypto\.(getRandomValues|randomUUID)\s*\(/, "uses crypto randomness (pass it in)"],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, "uses timers (time is ticks)"],
];

export interface Violation {
  file: string;
  line: number;
  message: string;
}

const importPattern =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\brequire\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Checks one file's text; `file` is its path relative to the repository root (src/...). */
export function checkFile(file: string, text: string): Violation[] {
  const violations: Violation[] = [];
  const parts = file.split("/");
  if (parts[0] !== "src" || parts.length < 3) return violations;
  const folder = parts[1] as string;
  const allowed = allowedImports[folder];
  const lines = stripComments(text).split("\n");
  lines.forEach((lineText, index) => {
    const line = index + 1;
    for (const match of lineText.matchAll(importPattern)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier === undefined) continue;
      const problem = checkSpecifier(file, folder, allowed, specifier);
      if (problem !== null) violations.push({ file, line, message: problem });
    }
    if (pureFolders.has(folder)) {
      for (const [pattern, message] of impurePatterns) {
        if (pattern.test(lineText)) violations.push({ file, line, message: `src/${folder} is pure but ${message}` });
      }
    }
  });
  return violations;
}

function checkSpecifier(
  file: string,
  folder: string,
  allowed: readonly string[] | undefined,
  specifier: string,
): string | null {
  const isRuntime = specifier === "bun" || specifier.startsWith("bun:") || specifier.startsWith("node:");
  if (isRuntime && pureFolders.has(folder)) return `src/${folder} is pure but imports '${specifier}'`;
  if (!specifier.startsWith(".")) return null;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  const targetParts = target.split("/");
  if (targetParts[0] !== "src") return null;
  if (targetParts.length === 2) return `src/${folder} imports the library entry '${specifier}'`;
  const targetFolder = targetParts[1] as string;
  if (targetFolder === folder) return null;
  if (allowed === undefined) return `src/${folder} is not a known folder of DESIGN.md (add it to build/check-imports.ts)`;
  if (!allowed.includes(targetFolder)) return `src/${folder} may not import src/${targetFolder} ('${specifier}')`;
  const rest = targetParts.slice(2).join("/");
  if (rest !== "index.ts" && rest !== "index" && rest !== "") {
    return `src/${folder} imports '${specifier}': other folders import only src/${targetFolder}/index.ts`;
  }
  return null;
}

/** Blanks out comments so that prose about Date.now does not count, keeping line numbers. */
function stripComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, " "))
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

export async function checkTree(root: string): Promise<Violation[]> {
  const violations: Violation[] = [];
  for await (const relative of new Glob("src/**/*.ts").scan({ cwd: root })) {
    const text = await Bun.file(path.join(root, relative)).text();
    violations.push(...checkFile(relative.split(path.sep).join("/"), text));
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

if (import.meta.main) {
  const root = path.resolve(import.meta.dir, "..");
  const violations = await checkTree(root);
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`);
  if (violations.length > 0) {
    console.error(`check-imports: ${violations.length} violation(s) of DESIGN.md's import rules`);
    process.exit(1);
  }
  console.log("check-imports: src/ follows DESIGN.md's import rules");
}
