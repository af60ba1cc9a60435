// A bare Bun.serve on a unix socket that does what any HTTP append must (read the body, parse its
// JSON, answer with JSON) and nothing else: no store, no validation. bench/http.ts runs it in its
// own process, as it runs the daemon, to show what HTTP alone allows on this machine.
//
//   bun bench/bare-http-server.ts SOCKET     (prints "ready" when it listens; stops on SIGTERM)

import { unlinkSync } from "node:fs";

const socketPath = process.argv[2];
if (socketPath === undefined) throw new Error("usage: bun bench/bare-http-server.ts SOCKET");
try {
  unlinkSync(socketPath);
} catch {
  // No socket left from an earlier run.
}
let position = 0;
const server = Bun.serve({
  unix: socketPath,
  async fetch(request) {
    const body = JSON.parse(await request.text()) as { events: unknown[] };
    position += body.events.length;
    return Response.json({ nextVersion: position - 1, position: position - 1 });
  },
});
process.on("SIGTERM", () => {
  void server.stop(true);
  process.exit(0);
});
console.log("ready");
