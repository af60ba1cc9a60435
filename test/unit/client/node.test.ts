// The client in Node 20: bundled with `bun build --target=node`, run by /usr/bin/node against a
// live gateway over the unix socket (node:http with socketPath) and over TCP (fetch).

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { tempDir } from "../../helpers/temp.ts";
import { startTestGateway } from "../api/harness.ts";

const nodeBinary = "/usr/bin/node";
const clientEntry = path.resolve(import.meta.dir, "../../../src/client/index.ts");

const script = `
import { EdgeEsdbClient, WrongExpectedVersionError, StreamNotFoundError } from "./client.mjs";
const out = { runtime: typeof Bun === "undefined" ? "node " + process.version : "bun" };
for (const [name, options] of [["unix", { socketPath: process.env.SOCKET }], ["tcp", { url: process.env.URL, token: process.env.TOKEN }]]) {
  const client = new EdgeEsdbClient(options);
  const stream = "node-" + name;
  const result = { append: await client.append(stream, "no_stream", [{ type: "T", data: { n: 1 } }, { type: "B", data: new Uint8Array([7, 8]) }]) };
  const events = await client.read(stream);
  result.read = events.map((e) => [e.version, e.type, e.createdAt instanceof Date, e.data instanceof Uint8Array ? Array.from(e.data) : e.data]);
  const wrong = await client.append(stream, 9, [{ type: "T", data: 1 }]).catch((e) => e);
  result.wrong = [wrong instanceof WrongExpectedVersionError, wrong.code, wrong.expected, wrong.actual];
  const missing = await client.read("missing").catch((e) => e);
  result.missing = [missing instanceof StreamNotFoundError, missing.code];
  result.exists = await client.exists(stream);
  const live = client.live(stream);
  const seen = [];
  for await (const event of live) {
    seen.push(event.version);
    if (seen.length === 2) await client.append(stream, "any", [{ type: "T", data: 3 }]);
    if (seen.length === 3) break;
  }
  result.live = seen;
  result.lastEventId = live.lastEventId;
  result.health = await client.health();
  client.close();
  out[name] = result;
}
console.log(JSON.stringify(out));
`;

describe("client in Node 20", () => {
  test.skipIf(!existsSync(nodeBinary))("bundled for node, over the unix socket and TCP", async () => {
    using dir = tempDir();
    const built = await Bun.build({ entrypoints: [clientEntry], target: "node", format: "esm", outdir: dir.path, naming: "client.mjs" });
    expect(built.success).toBe(true);
    await Bun.write(path.join(dir.path, "run.mjs"), script);
    await using gw = await startTestGateway({ token: "node-token" });
    const child = Bun.spawn([nodeBinary, path.join(dir.path, "run.mjs")], {
      cwd: dir.path,
      env: { PATH: process.env.PATH ?? "", SOCKET: gw.socketPath, URL: gw.gateway.url as string, TOKEN: "node-token" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out.runtime).toMatch(/^node v20\./);
    for (const name of ["unix", "tcp"]) {
      expect(out[name]).toEqual({
        append: { nextVersion: 1, position: expect.any(Number) },
        read: [[0, "T", true, { n: 1 }], [1, "B", true, [7, 8]]],
        wrong: [true, "wrong_expected_version", 9, 1],
        missing: [true, "stream_not_found"],
        exists: true,
        live: [0, 1, 2],
        lastEventId: expect.any(Number),
        health: true,
      });
    }
  });
});
