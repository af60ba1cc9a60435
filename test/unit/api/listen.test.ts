// Where the gateway listens: the default socket path, which hosts count as loopback, and a socket
// path that a running server holds (refused) or that a dead one left behind (replaced).

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { defaultSocketPath, isLoopbackHost } from "../../../src/api/index.ts";
import { tempDir } from "../../helpers/temp.ts";
import { startTestGateway } from "./harness.ts";
import { startGateway } from "../../../src/api/index.ts";
import { startNode } from "../../../src/node/index.ts";

describe("listening", () => {
  test("the default socket: $RUNTIME_DIRECTORY, else $XDG_RUNTIME_DIR, else the data dir", () => {
    expect(defaultSocketPath("/var/lib/edge-esdb", { RUNTIME_DIRECTORY: "/run/edge-esdb", XDG_RUNTIME_DIR: "/run/user/1" })).toBe("/run/edge-esdb/edge-esdb.sock");
    expect(defaultSocketPath("/var/lib/edge-esdb", { RUNTIME_DIRECTORY: "/run/a:/run/b" })).toBe("/run/a/edge-esdb.sock");
    expect(defaultSocketPath("/var/lib/edge-esdb", { XDG_RUNTIME_DIR: "/run/user/1" })).toBe("/run/user/1/edge-esdb.sock");
    expect(defaultSocketPath("/var/lib/edge-esdb", { RUNTIME_DIRECTORY: "", XDG_RUNTIME_DIR: "" })).toBe("/var/lib/edge-esdb/edge-esdb.sock");
  });

  test("loopback hosts", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect({ host, loopback: isLoopbackHost(host) }).toEqual({ host, loopback: true });
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1"]) expect({ host, loopback: isLoopbackHost(host) }).toEqual({ host, loopback: false });
  });

  test("a socket a server answers on is refused, a plain file is kept, a too long path is refused", async () => {
    await using gw = await startTestGateway();
    using dir = tempDir();
    const node = startNode({ dataDir: dir.path, durability: "normal" });
    try {
      await expect(startGateway(node, { socketPath: gw.socketPath })).rejects.toThrow(/in use by a running server/);
      const file = path.join(dir.path, "not-a-socket");
      writeFileSync(file, "x");
      await expect(startGateway(node, { socketPath: file })).rejects.toThrow(/not a socket/);
      await expect(startGateway(node, { socketPath: path.join(dir.path, "x".repeat(120)) })).rejects.toThrow(/unixSocketPathBytesMax/);
    } finally {
      await node.close();
    }
    // The first gateway still serves.
    expect((await gw.unix("/health")).status).toBe(200);
  });
});
