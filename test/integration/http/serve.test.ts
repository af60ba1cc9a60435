// `edge-esdb serve` as a process: it listens where the ready line says, serves the client, ends
// live reads and exits 0 on SIGTERM with the store closed, refuses a second writer on the same
// data dir, replaces a socket a killed daemon left, and enforces the token and body limit on TCP.

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { EdgeEsdbClient, type RecordedEvent } from "../../../src/client/index.ts";
import { openStore } from "../../../src/index.ts";
import { cliEntry } from "../../helpers/cli.ts";
import { tempDir } from "../../helpers/temp.ts";

interface Daemon {
  child: Bun.Subprocess<"ignore", "pipe", "pipe">;
  ready: string;
  socketPath: string;
  url: string | null;
  stdout(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

const cleanEnv = (extra: Record<string, string> = {}) => {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), EDGE_ESDB_CONFIG: "", ...extra };
  if (extra.RUNTIME_DIRECTORY === undefined) delete env.RUNTIME_DIRECTORY;
  if (extra.XDG_RUNTIME_DIR === undefined) delete env.XDG_RUNTIME_DIR;
  return env;
};

async function serve(args: string[], env: Record<string, string> = {}): Promise<Daemon> {
  const child = Bun.spawn([process.execPath, cliEntry, "serve", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: cleanEnv(env) });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`serve exited before ready: ${text}${await new Response(child.stderr).text()}`);
    text += new TextDecoder().decode(chunk.value);
  }
  const ready = text.slice(0, text.indexOf("\n"));
  const socketPath = /, socket (\S+),/.exec(ready)?.[1] ?? "";
  const url = /, http (\S+),/.exec(ready)?.[1] ?? null;
  let rest = text.slice(ready.length + 1);
  const drained = (async () => {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    return rest;
  })();
  return {
    child,
    ready,
    socketPath,
    url,
    stdout: () => drained,
    async stop(signal = "SIGTERM") {
      child.kill(signal);
      return await child.exited;
    },
  };
}

describe("edge-esdb serve", () => {
  test.skipIf(Bun.which("socat") === null)("under systemd: READY=1 once the socket answers, watchdog pets, STOPPING=1 on SIGTERM", async () => {
    using dir = tempDir();
    const notifySocket = path.join(dir.path, "notify");
    const socat = Bun.spawn(["socat", "-u", `UNIX-RECV:${notifySocket}`, "STDOUT"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    let received = "";
    const reading = (async () => {
      for await (const chunk of socat.stdout) received += new TextDecoder().decode(chunk);
    })();
    const until = async (text: string) => {
      while (!received.includes(text)) await Bun.sleep(5);
    };
    try {
      while (!existsSync(notifySocket)) await Bun.sleep(5);
      const daemon = await serve(["--data-dir", dir.path, "--socket", path.join(dir.path, "api.sock")], { NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: "100000" });
      await until("READY=1");
      using client = new EdgeEsdbClient({ socketPath: daemon.socketPath });
      expect(await client.health()).toBe(true);
      expect(received).toContain(`MAINPID=${daemon.child.pid}`);
      await until("WATCHDOG=1");
      expect(await daemon.stop()).toBe(0);
      await until("STOPPING=1");
    } finally {
      socat.kill();
      await socat.exited;
      await reading;
    }
  });

  test("serves over the socket and TCP; SIGTERM ends live reads, closes the store and exits 0", async () => {
    using dir = tempDir();
    const socket = path.join(dir.path, "api.sock");
    const daemon = await serve(["--data-dir", dir.path, "--socket", socket, "--host", "127.0.0.1", "--port", "0"]);
    try {
      expect(daemon.ready).toMatch(/^edge-esdb \S+ ready: mode single, data dir .*, socket .*api\.sock, http http:\/\/127\.0\.0\.1:\d+, durability full, 0 events$/);
      expect(daemon.socketPath).toBe(socket);
      using client = new EdgeEsdbClient({ socketPath: socket });
      using tcp = new EdgeEsdbClient({ url: daemon.url as string });
      await client.append("s", "no_stream", [{ type: "T", data: { n: 0 } }]);
      expect((await tcp.read("s")).map((e) => e.data)).toEqual([{ n: 0 }]);
      // A persistent-subscription consumer and a live client stay open across the signal: the
      // server ends both streams, neither hangs.
      await client.subscriptions.create("audit", { selector: { stream: "s" } });
      const deliveries: number[] = [];
      const consuming = (async () => {
        for await (const delivery of client.subscriptions.consume("audit")) {
          deliveries.push(delivery.event.position);
          await delivery.ack();
        }
      })();
      while (deliveries.length === 0) await Bun.sleep(5);
      const seen: RecordedEvent[] = [];
      let signalled = false;
      for await (const event of client.liveAll()) {
        seen.push(event);
        if (!signalled) {
          signalled = true;
          daemon.child.kill("SIGTERM");
        }
      }
      expect(seen.map((e) => e.position)).toEqual([0]);
      await consuming;
      expect(deliveries).toEqual([0]);
      expect(await daemon.child.exited).toBe(0);
      expect(await daemon.stdout()).toContain("stopped on SIGTERM: store closed cleanly");
      expect(existsSync(socket)).toBe(false);
      // The lock is released and the WAL checkpointed: the store opens and has the event.
      await using store = openStore({ dataDir: dir.path, durability: "normal" });
      expect((await store.read("s")).length).toBe(1);
      expect(existsSync(path.join(dir.path, "edge-esdb.sqlite-wal")) ? Bun.file(path.join(dir.path, "edge-esdb.sqlite-wal")).size : 0).toBe(0);
    } finally {
      daemon.child.kill("SIGKILL");
    }
  });

  test("a second serve on the same data dir fails clearly; the first keeps serving", async () => {
    using dir = tempDir();
    const daemon = await serve(["--data-dir", dir.path, "--socket", path.join(dir.path, "a.sock")]);
    try {
      const second = Bun.spawn([process.execPath, cliEntry, "serve", "--data-dir", dir.path, "--socket", path.join(dir.path, "b.sock")], { stdout: "pipe", stderr: "pipe", env: cleanEnv() });
      expect(await second.exited).toBe(1);
      expect(await new Response(second.stderr).text()).toMatch(/^edge-esdb: store_locked: store '.*' is already open for writing/);
      expect(existsSync(path.join(dir.path, "b.sock"))).toBe(false);
      using client = new EdgeEsdbClient({ socketPath: daemon.socketPath });
      expect(await client.health()).toBe(true);
      // The same socket with another data dir is refused too: a server answers on it.
      using other = tempDir();
      const third = Bun.spawn([process.execPath, cliEntry, "serve", "--data-dir", other.path, "--socket", daemon.socketPath], { stdout: "pipe", stderr: "pipe", env: cleanEnv() });
      expect(await third.exited).toBe(1);
      expect(await new Response(third.stderr).text()).toMatch(/in use by a running server/);
      expect(await client.health()).toBe(true);
      expect(await daemon.stop()).toBe(0);
    } finally {
      daemon.child.kill("SIGKILL");
    }
  });

  test("with only --data-dir a lone node starts healthy on the default socket; a killed daemon's socket is replaced", async () => {
    using dir = tempDir();
    const first = await serve(["--data-dir", dir.path]);
    expect(first.socketPath).toBe(path.join(dir.path, "edge-esdb.sock"));
    {
      using client = new EdgeEsdbClient({ socketPath: first.socketPath });
      expect(await client.health()).toBe(true);
      expect(await client.info()).toMatchObject({ mode: "single", dataDir: dir.path });
    }
    expect(await first.stop("SIGKILL")).not.toBe(0);
    expect(existsSync(first.socketPath)).toBe(true);
    using runtime = tempDir();
    const second = await serve(["--data-dir", dir.path], { RUNTIME_DIRECTORY: runtime.path });
    try {
      expect(second.socketPath).toBe(path.join(runtime.path, "edge-esdb.sock"));
      const third = await serve(["--data-dir", path.join(dir.path, "other"), "--socket", first.socketPath]);
      using client = new EdgeEsdbClient({ socketPath: first.socketPath });
      expect(await client.health()).toBe(true);
      expect(await third.stop()).toBe(0);
      expect(await second.stop()).toBe(0);
    } finally {
      second.child.kill("SIGKILL");
    }
  });

  test("TCP: a token from the environment guards it; a non-loopback host without one is refused", async () => {
    using dir = tempDir();
    const refused = Bun.spawn([process.execPath, cliEntry, "serve", "--data-dir", dir.path, "--socket", path.join(dir.path, "x.sock"), "--host", "0.0.0.0", "--port", "0"], { stdout: "pipe", stderr: "pipe", env: cleanEnv() });
    expect(await refused.exited).toBe(1);
    expect(await new Response(refused.stderr).text()).toMatch(/^edge-esdb: invalid_argument: host '0\.0\.0\.0' is reachable from other machines: set a token/);

    const daemon = await serve(["--data-dir", dir.path, "--socket", path.join(dir.path, "x.sock"), "--host", "127.0.0.1", "--port", "0"], { EDGE_ESDB_TOKEN: "tok", EDGE_ESDB_BODY_BYTES_MAX: "2048", EDGE_ESDB_SSE_HEARTBEAT_INTERVAL_MS: "20" });
    try {
      const url = daemon.url as string;
      const denied = await fetch(`${url}/v1/streams/s`, { method: "POST", body: JSON.stringify({ events: [{ type: "T", data: 1 }] }) });
      expect(denied.status).toBe(401);
      using client = new EdgeEsdbClient({ url, token: "tok" });
      expect(await client.exists("s")).toBe(false);
      // A chunked body over the limit, in real chunked framing on a raw socket: 413, JSON body.
      const { port } = new URL(url);
      const answer = await rawChunkedPost(Number(port), "/v1/streams/s", "tok", 4096);
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toContain('"error":"too_large"');
      expect(await client.exists("s")).toBe(false);
      // The heartbeat setting reaches live reads: keep-alive comments on an idle stream.
      const live = await fetch(`${url}/v1/all/live`, { headers: { authorization: "Bearer tok" } });
      const reader = (live.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      while (text.split(": keepalive").length < 3) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      expect(await daemon.stop()).toBe(0);
    } finally {
      daemon.child.kill("SIGKILL");
    }
  });
});

/** POSTs `bytes` bytes of a JSON body in 512-byte chunks with Transfer-Encoding: chunked; returns the raw answer. */
async function rawChunkedPost(port: number, target: string, token: string, bytes: number): Promise<string> {
  let answer = "";
  const { promise: closed, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, data) {
        answer += new TextDecoder().decode(data);
        if (answer.includes("\r\n\r\n") && answer.includes("}")) resolve();
      },
      close() {
        resolve();
      },
      error() {
        resolve();
      },
    },
  });
  socket.write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const body = `{"events":[{"type":"T","data":"${"x".repeat(bytes)}"}]}`;
  for (let i = 0; i < body.length && answer === ""; i += 512) {
    const piece = body.slice(i, i + 512);
    socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
    await Bun.sleep(1);
  }
  if (answer === "") socket.write("0\r\n\r\n");
  await closed;
  socket.end();
  return answer;
}
