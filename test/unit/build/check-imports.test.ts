import { describe, expect, test } from "bun:test";
import { checkFile } from "../../../build/check-imports.ts";

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
