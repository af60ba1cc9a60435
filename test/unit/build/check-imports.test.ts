import { describe, expect, test } from "bun:test";
import path from "node:path";
import { checkFile, checkTree } from "../../../build/check-imports.ts";

describe("the import-rule check", () => {
  test("catches a runtime import in the pure core", () => {
    const v = checkFile("src/raft/node.ts", `import { Database } from "bun:sqlite";\n`);
    expect(v.map((x) => x.message)).toEqual(["src/raft is pure but imports 'bun:sqlite'"]);
  });

  test("catches the clock, timers and Math.random in events/", () => {
    const text = ["const a = Date.now();", "setTimeout(() => {}, 1);", "const r = Math.random();", "// Date.now() in a comment is fine"].join("\n");
    const v = checkFile("src/events/apply.ts", text);
    expect(v.map((x) => x.line)).toEqual([1, 2, 3]);
  });

  test("store, transport and discovery may not import each other", () => {
    expect(checkFile("src/store/x.ts", `import { t } from "../transport/index.ts";`)).toHaveLength(1);
    expect(checkFile("src/discovery/x.ts", `import type { S } from "../store/index.ts";`)).toHaveLength(1);
    expect(checkFile("src/transport/x.ts", `export { d } from "../discovery/index.ts";`)).toHaveLength(1);
  });

  test("other folders are reached only through their index.ts", () => {
    expect(checkFile("src/store/x.ts", `import { apply } from "../events/apply.ts";`)).toHaveLength(1);
    expect(checkFile("src/store/x.ts", `import { apply } from "../events/index.ts";`)).toHaveLength(0);
  });

  test("the allowed imports pass", () => {
    const text = `import { Database } from "bun:sqlite";\nimport { assert } from "../lib/index.ts";\nimport { x } from "./y.ts";`;
    expect(checkFile("src/store/sqlite.ts", text)).toEqual([]);
  });
});

/** The messages checkFile reports for `text` as a file of src/events, by line. */
function pureViolations(text: string): Array<[number, string]> {
  return checkFile("src/events/x.ts", text).map((v) => [v.line, v.message]);
}

describe("the pure core, as the audit found it open", () => {
  test("a Node built-in by its bare name, however it is loaded", () => {
    const lines = [
      `import fs from 'fs';`,
      `import { readFile } from "fs/promises";`,
      `const cp = require("child_process");`,
      `const os = await import("os");`,
      `export { join } from "path";`,
      `export * from "events";`,
      "const t = await import(`timers`);",
      `import "perf_hooks";`,
      `import type { Stats } from "fs";`,
      `const n = import.meta.require("net");`,
    ];
    expect(pureViolations(lines.join("\n"))).toEqual([
      [1, "src/events is pure but imports 'fs'"],
      [2, "src/events is pure but imports 'fs/promises'"],
      [3, "src/events is pure but imports 'child_process'"],
      [4, "src/events is pure but imports 'os'"],
      [5, "src/events is pure but imports 'path'"],
      [6, "src/events is pure but imports 'events'"],
      [7, "src/events is pure but imports 'timers'"],
      [8, "src/events is pure but imports 'perf_hooks'"],
      [9, "src/events is pure but imports 'fs'"],
      [10, "src/events is pure but imports 'net'"],
    ]);
  });

  test("an import over several lines, and a module loaded by a computed name", () => {
    const text = ["import {", "  readFileSync,", "  writeFileSync,", '} from "node:fs";', "const name = 'f' + 's';", "const m = await import(name);", "const r = require(`${name}`);"].join("\n");
    expect(pureViolations(text)).toEqual([
      [4, "src/events is pure but imports 'node:fs'"],
      [6, "src/events is pure but loads a module by a computed name"],
      [7, "src/events is pure but loads a module by a computed name"],
    ]);
  });

  test("the clock, timers, randomness and the runtime globals, also through globalThis", () => {
    const lines: Array<[string, string]> = [
      ["const t = Bun.nanoseconds();", "uses the Bun global (the runtime)"],
      ["const { sleep } = Bun;", "uses the Bun global (the runtime)"],
      ["const s = Date();", "reads the clock (Date() without new)"],
      ["const now = Date.now;", "reads the clock (Date.now)"],
      ["const d = new globalThis.Date();", "reads the clock (new Date)"],
      ["const e = new Date;", "reads the clock (new Date)"],
      ["globalThis.setTimeout(f, 1);", "uses timers (time is ticks)"],
      ["const later = setInterval;", "uses timers (time is ticks)"],
      ["const t = performance.now();", "reads the clock (performance)"],
      ["const { now } = globalThis.performance;", "reads the clock (performance)"],
      ["const h = process.hrtime.bigint();", "reads the clock (process.hrtime)"],
      ["const home = process.env.HOME;", "uses the process global (the Node runtime)"],
      ["const b = crypto.getRandomValues(new Uint8Array(4));", "uses crypto randomness (pass it in)"],
      ["const u = globalThis.crypto.randomUUID();", "uses crypto randomness (pass it in)"],
      ["const { randomUUID } = crypto;", "uses crypto randomness (pass it in)"],
      ["const r = Math.random;", "uses Math.random (use the seeded Prng)"],
      ['const g = globalThis["Date"];', "reaches a global by a computed name"],
    ];
    expect(pureViolations(lines.map(([code]) => code).join("\n"))).toEqual(lines.map(([, message], i) => [i + 1, `src/events is pure but ${message}`]));
  });

  test("a multi-line member access still counts, on the line of its name", () => {
    expect(pureViolations("const t =\n  performance\n    .now();\nconst d = Date\n  .now();")).toEqual([
      [2, "src/events is pure but reads the clock (performance)"],
      [4, "src/events is pure but reads the clock (Date.now)"],
    ]);
  });

  test("comments, strings, templates, regular expressions, types, keys and properties do not count", () => {
    const text = [
      "// import fs from 'fs'; Date.now(); setTimeout(f); Bun.nanoseconds()",
      "/* new Date() and",
      "   require('fs') */",
      "const a = 'Date.now() and setTimeout(f) and import(\"fs\")';",
      'const b = "http://example.com/ // not a comment"; const c = 1;',
      "const t = `performance.now() ${a.length} Math.random() ${`crypto.randomUUID()`}`;",
      "const r = /[\"'\\/]setTimeout\\(/g; const q = a.replace(/[.+^${}()|[\\]\\\\]/g, \"\\\\$&\");",
      "interface Event { createdAt: Date; setTimeout?: number; performance: number }",
      "const o = { setTimeout: 1, Bun: 2, process: 3 };",
      "const p = o.setTimeout + this.Date + clock.now() + prng.random() + x.process;",
      "const parsed = Array.from('fs');",
      "const ratio = total / count / 2;",
      "const when = (at: Date): number => at.getTime();",
    ].join("\n");
    expect(pureViolations(text)).toEqual([]);
  });

  test("other folders may use the runtime", () => {
    const text = `import fs from "fs";\nconst t = Bun.nanoseconds() + Date.now();\nsetTimeout(() => {}, 1);`;
    expect(checkFile("src/store/x.ts", text)).toEqual([]);
  });

  test("src/ as it is follows every rule", async () => {
    expect(await checkTree(path.resolve(import.meta.dir, "../../.."))).toEqual([]);
  });
});
