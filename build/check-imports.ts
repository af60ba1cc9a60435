// Enforces DESIGN.md's rules on who may import whom, and keeps raft/ and events/ (and lib/) pure:
// no `bun`, `bun:*` or `node:*` module nor a Node built-in by its bare name, no Bun or process
// global, no clock, no timers, no Math.random or crypto randomness. Run by `npm test`.
// Exits non-zero and names every violation (file:line: the rule).
//
// A small scanner first blanks out comments and the insides of strings, templates and regular
// expressions (keeping every offset and line), so prose and string contents never count, an
// import spread over several lines does, and a module specifier is a string literal that follows
// `from`, `import`, `import(` or `require(`.

import { Glob } from "bun";
import { builtinModules } from "node:module";
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

/** Node's built-in modules by their bare names (`fs`, `fs/promises`, ...), as the runtime lists them. */
const nodeBuiltins = new Set(builtinModules.map((name) => (name.startsWith("node:") ? name.slice("node:".length) : name)));

/** A global name where it is not a property (`x.Date`) nor part of a longer name. */
const globalName = String.raw`(?<![\w$.#])`;
/** Not an object key or an optional property (`{ setTimeout: f }`, `performance?: T`). */
const notKey = String.raw`(?!\s*\??:)`;

/**
 * What pure code may not touch. The first rule that matches at a name reports it; written on the
 * code with `globalThis.`, `global.`, `self.` and `window.` taken off, so `globalThis.setTimeout`
 * counts as `setTimeout`.
 */
const impureRules: ReadonlyArray<readonly [RegExp, string]> = [
  [new RegExp(String.raw`(?<![\w$.#])new\s+Date\b`, "g"), "reads the clock (new Date)"],
  [new RegExp(String.raw`${globalName}(?<!\bnew\s+)Date\s*\(`, "g"), "reads the clock (Date() without new)"],
  [new RegExp(String.raw`${globalName}Date\s*(?:\??\.\s*now\b|\[)`, "g"), "reads the clock (Date.now)"],
  [new RegExp(String.raw`${globalName}performance\b${notKey}`, "g"), "reads the clock (performance)"],
  [new RegExp(String.raw`${globalName}process\s*\??\.\s*(?:hrtime|uptime)\b`, "g"), "reads the clock (process.hrtime)"],
  [new RegExp(String.raw`${globalName}process\b${notKey}`, "g"), "uses the process global (the Node runtime)"],
  [new RegExp(String.raw`${globalName}Math\s*(?:\??\.\s*random\b|\[)`, "g"), "uses Math.random (use the seeded Prng)"],
  [new RegExp(String.raw`${globalName}crypto\b${notKey}(?!\s*\??\.\s*subtle\b)`, "g"), "uses crypto randomness (pass it in)"],
  [new RegExp(String.raw`${globalName}(?:setTimeout|setInterval|setImmediate)\b${notKey}`, "g"), "uses timers (time is ticks)"],
  [new RegExp(String.raw`${globalName}Bun\b${notKey}`, "g"), "uses the Bun global (the runtime)"],
  [new RegExp(String.raw`${globalName}(?:globalThis|global|self|window)\s*\??\.?\s*\[`, "g"), "reaches a global by a computed name"],
];

const globalObjectPrefix = /(?<![\w$.#])(?:globalThis|global|self|window)\s*\??\.\s*(?=[\w$])/g;

/** `import(` or `require(` (also `import.meta.require(`, `module.require(`): a module load by call. */
const moduleCall = /(?<![\w$])(?:import|require)\s*\(\s*/g;

export interface Violation {
  file: string;
  line: number;
  message: string;
}

/** Checks one file's text; `file` is its path relative to the repository root (src/...). */
export function checkFile(file: string, text: string): Violation[] {
  const parts = file.split("/");
  if (parts[0] !== "src" || parts.length < 3) return [];
  const folder = parts[1] as string;
  const allowed = allowedImports[folder];
  const pure = pureFolders.has(folder);
  const source = scanSource(text);
  const lineOf = lineFinder(text);
  const found = new Map<string, Violation>();
  const report = (offset: number, message: string) => {
    const line = lineOf(offset);
    found.set(`${line}\u0000${message}`, { file, line, message });
  };
  const specifierStarts = new Set<number>();
  for (const literal of source.literals) {
    if (!isModuleSpecifier(source.code, literal.start)) continue;
    specifierStarts.add(literal.start);
    const problem = checkSpecifier(file, folder, allowed, literal.value);
    if (problem !== null) report(literal.start, problem);
  }
  if (pure) {
    for (const match of source.code.matchAll(moduleCall)) {
      const argumentStart = match.index + match[0].length;
      if (!specifierStarts.has(argumentStart)) report(match.index, `src/${folder} is pure but loads a module by a computed name`);
    }
    const code = source.code.replace(globalObjectPrefix, (prefix) => " ".repeat(prefix.length));
    const reportedAt = new Set<number>();
    for (const [pattern, message] of impureRules) {
      for (const match of code.matchAll(pattern)) {
        if (reportedAt.has(match.index)) continue;
        reportedAt.add(match.index);
        report(match.index, `src/${folder} is pure but ${message}`);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.line - b.line);
}

/** Whether the string literal at `start` is a module specifier, judged by the code before it. */
function isModuleSpecifier(code: string, start: number): boolean {
  const before = code.slice(Math.max(0, start - 64), start);
  return /(?<![\w$.])(?:from|import)\s*$/.test(before) || /(?<![\w$])(?:import|require)\s*\(\s*$/.test(before);
}

function isRuntimeModule(specifier: string): boolean {
  if (specifier === "bun" || specifier.startsWith("bun:") || specifier.startsWith("node:")) return true;
  return nodeBuiltins.has(specifier) || nodeBuiltins.has(specifier.split("/")[0] as string);
}

function checkSpecifier(
  file: string,
  folder: string,
  allowed: readonly string[] | undefined,
  specifier: string,
): string | null {
  if (pureFolders.has(folder) && isRuntimeModule(specifier)) return `src/${folder} is pure but imports '${specifier}'`;
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

/** A string literal, or a template without substitutions: `start` is the offset of its quote. */
interface Literal {
  start: number;
  value: string;
}

interface ScannedSource {
  /** The text with comments and the insides of literals blanked (newlines kept): only code is left. */
  code: string;
  literals: Literal[];
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const regexKeywords = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);

/** Splits TypeScript source into code and literals; see the file's first lines. Bounded by the text's length. */
export function scanSource(text: string): ScannedSource {
  const code = text.split("");
  const literals: Literal[] = [];
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (code[k] !== "\n") code[k] = " ";
  };
  // The brace depth at which each open `${ ... }` of a template closes.
  const substitutionDepths: number[] = [];
  let depth = 0;
  let i = 0;
  /** Scans template text from `from` to its end or its next `${`; returns where code resumes. */
  const template = (from: number, quote: number | null): number => {
    let k = from;
    while (k < text.length) {
      const c = text[k];
      if (c === "\\") k += 2;
      else if (c === "`") {
        blank(from, k);
        if (quote !== null) literals.push({ start: quote, value: text.slice(quote + 1, k) });
        return k + 1;
      } else if (c === "$" && text[k + 1] === "{") {
        blank(from, k);
        substitutionDepths.push(depth);
        return k + 2;
      } else k++;
    }
    blank(from, text.length);
    return text.length;
  };
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const end = quotedEnd(text, i);
      literals.push({ start: i, value: text.slice(i + 1, end - 1) });
      blank(i + 1, end - 1);
      i = end;
    } else if (c === "`") {
      i = template(i + 1, i);
    } else if (c === "/" && regexMayStart(code, i)) {
      const end = regexEnd(text, i);
      if (end === null) i++;
      else {
        blank(i + 1, end - 1);
        i = end;
      }
    } else if (c === "}" && substitutionDepths.length > 0 && substitutionDepths[substitutionDepths.length - 1] === depth) {
      substitutionDepths.pop();
      i = template(i + 1, null);
    } else {
      if (c === "{") depth++;
      else if (c === "}") depth--;
      i++;
    }
  }
  return { code: code.join(""), literals };
}

/** The offset after the closing quote of the string starting at `start` (or the line's end, unclosed). */
function quotedEnd(text: string, start: number): number {
  const quote = text[start];
  let k = start + 1;
  while (k < text.length) {
    const c = text[k];
    if (c === "\\") k += 2;
    else if (c === quote) return k + 1;
    else if (c === "\n") return k;
    else k++;
  }
  return text.length;
}

/** Whether a `/` at `at` can start a regular expression, judged by the code before it. */
function regexMayStart(code: readonly string[], at: number): boolean {
  let k = at - 1;
  while (k >= 0 && /\s/.test(code[k] as string)) k--;
  if (k < 0) return true;
  const previous = code[k] as string;
  if (/[\w$]/.test(previous)) {
    let wordStart = k;
    while (wordStart > 0 && /[\w$]/.test(code[wordStart - 1] as string)) wordStart--;
    return regexKeywords.has(code.slice(wordStart, k + 1).join(""));
  }
  return "(,=:[!&|?{};+-*%<>~^".includes(previous);
}

/** The offset after a regular expression literal (and its flags) starting at `start`, or null if none closes on its line. */
function regexEnd(text: string, start: number): number | null {
  let inClass = false;
  let k = start + 1;
  while (k < text.length) {
    const c = text[k];
    if (c === "\\") k += 2;
    else if (c === "\n") return null;
    else if (c === "[") (inClass = true), k++;
    else if (c === "]") (inClass = false), k++;
    else if (c === "/" && !inClass) {
      k++;
      while (k < text.length && /[a-z]/.test(text[k] as string)) k++;
      return k;
    } else k++;
  }
  return null;
}

/** The 1-based line of an offset of `text`. */
function lineFinder(text: string): (offset: number) => number {
  const starts = [0];
  for (let k = text.indexOf("\n"); k >= 0; k = text.indexOf("\n", k + 1)) starts.push(k + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((starts[middle] as number) <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  };
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
