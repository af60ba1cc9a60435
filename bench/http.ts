// HTTP appends per second through the gateway (`edge-esdb serve` in its own process) with 1, 16
// and 64 concurrent clients over the unix socket and TCP loopback, beside the in-process library
// in the same run; then beside NATS JetStream (nats-server, file storage, loopback) publishing
// 200-byte payloads one at a time (sync) and 64 in flight (async), started and stopped here.
// NATS acknowledges before fsync by default; our `full` durability acknowledges after it.
// Both servers are driven alike: NATS by a minimal text-protocol client, the gateway by a minimal
// keep-alive HTTP/1.1 client (RawHttpConnection); on a 2-core board the load generator's own CPU
// decides much of the result. The EdgeEsdbClient rows (fetch) show what the project's client gets.
//
//   bun bench/http.ts --seconds N [--rounds R] [--only REGEX]   (each case: best of R alternating
//   rounds, default 3; --only runs the cases whose names match and prints them alone)

import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import path from "node:path";
import { EdgeEsdbClient } from "../src/client/index.ts";
import { limits, openStore } from "../src/index.ts";
import { uuidV7 } from "../src/lib/index.ts";
import { migrations } from "../src/store/index.ts";
import { parseSeconds, printTable, scratchDir, type Row } from "./harness.ts";

const cliEntry = path.resolve(import.meta.dir, "../src/cli/main.ts");
const payloadBytes = 200;
/** A JSON event whose data serializes to 200 bytes, like the NATS payload. */
const eventData = { p: "x".repeat(payloadBytes - 8) };
const concurrencies = [1, 16, 64] as const;
const natsInFlight = 64;
const natsBinaryCandidates = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

/** Runs `workers` loops of `step` for `seconds` (after a short warm-up); returns steps per second. */
async function concurrentRate(seconds: number, workers: number, step: (worker: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(workers, 8); i++) await step(i);
  let done = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < deadline) {
        await step(worker);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

type Store = ReturnType<typeof openStore>;

/** The library in this process, on a store kept open across rounds (warm, like the daemon's). */
async function libraryRate(seconds: number, workers: number, store: Store): Promise<number> {
  const events = [{ type: "Measured", data: eventData }];
  return concurrentRate(seconds, workers, (w) => store.append(`s-${w}`, "any", events));
}

/**
 * The ceiling on this disk: raw bun:sqlite with the store's own schema and WAL settings, plain
 * prepared inserts of 200-byte rows, `rows` per commit spread over `rows` streams (one row each,
 * as `rows` concurrent appenders to their own streams give one group commit).
 */
function openRawSqlite(dir: string, durability: "full" | "normal", rows: number): { commit(): void; close(): void } {
  const db = new Database(path.join(dir, `raw-${durability}-${rows}.sqlite`), { create: true });
  // The pragmas of the store's configureWritable (src/store/event-store.ts), cache included.
  db.run("PRAGMA auto_vacuum = INCREMENTAL");
  db.run("PRAGMA journal_mode = WAL");
  db.run(`PRAGMA synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.run("PRAGMA cache_size = -16384");
  db.run(`PRAGMA wal_autocheckpoint = ${limits.walAutocheckpointPages}`);
  db.run(`PRAGMA journal_size_limit = ${limits.walFileBytesMax}`);
  db.run("PRAGMA temp_store = MEMORY");
  for (const migration of migrations) db.run(migration);
  const insert = db.prepare(`INSERT INTO events (position, stream_id, version, event_id, type, data, metadata, content_type, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  let position = 0;
  let version = 0;
  const data = JSON.stringify(eventData);
  const random = new Uint8Array(10);
  const commit = db.transaction(() => {
    for (let stream = 0; stream < rows; stream++) insert.run(position++, `s-${stream}`, version, uuidV7(Date.now(), crypto.getRandomValues(random)), "Measured", data, null, "application/json", Date.now());
    version++;
  });
  return { commit: () => commit(), close: () => db.close() };
}

/** Rows per second through `raw`, whose every commit writes `rows` rows. */
async function rawSqliteRate(seconds: number, raw: { commit(): void }, rows: number): Promise<number> {
  return rows * (await concurrentRate(seconds, 1, async () => raw.commit()));
}

interface Daemon {
  socketPath: string;
  url: string;
  stop(): Promise<void>;
}

async function startDaemon(dataDir: string, durability: "full" | "normal"): Promise<Daemon> {
  const socketPath = path.join(dataDir, "bench.sock");
  const child = Bun.spawn([process.execPath, cliEntry, "serve", "--data-dir", dataDir, "--durability", durability, "--socket", socketPath, "--host", "127.0.0.1", "--port", "0"], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, EDGE_ESDB_CONFIG: "" },
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`serve exited before ready: ${text}`);
    text += new TextDecoder().decode(chunk.value);
  }
  const url = /, http (\S+),/.exec(text)?.[1];
  if (url === undefined) throw new Error(`no TCP address in the ready line: ${text}`);
  return {
    socketPath,
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** bench/bare-http-server.ts in its own process: HTTP with a JSON body and nothing behind it. */
async function startBareHttp(dir: string): Promise<{ socketPath: string; stop(): Promise<void> }> {
  const socketPath = path.join(dir, "bare.sock");
  const child = Bun.spawn([process.execPath, path.resolve(import.meta.dir, "bare-http-server.ts"), socketPath], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("ready")) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`the bare HTTP server exited before ready: ${text}`);
    text += new TextDecoder().decode(chunk.value);
  }
  return {
    socketPath,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** The TCP address in a daemon's `http://host:port` URL. */
function tcpTarget(url: string): HttpTarget {
  const parsed = new URL(url);
  return { hostname: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port) };
}

async function httpRate(seconds: number, workers: number, client: EdgeEsdbClient, streamPrefix: string): Promise<number> {
  const events = [{ type: "Measured", data: eventData }];
  return concurrentRate(seconds, workers, (w) => client.append(`${streamPrefix}-${w}`, "any", events));
}

// ------------------------------------------------------------------------ a lean HTTP load generator

/** Where a raw connection goes: the daemon's unix socket, or its TCP address. */
type HttpTarget = { unix: string } | { hostname: string; port: number };

/**
 * A minimal HTTP/1.1 keep-alive client over Bun.connect, the counterpart of NatsConnection: it
 * sends the same prebuilt POST each time, one request in flight, and parses only the status line,
 * the headers and a Content-Length body. Anything but a 200 with a Content-Length body fails the
 * benchmark loudly, so a rate never counts errors.
 */
class RawHttpConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private unsent: Uint8Array | null = null;
  private socket!: Bun.Socket<undefined>;

  private constructor(private readonly request: Uint8Array) {}

  static async connect(target: HttpTarget, request: Uint8Array): Promise<RawHttpConnection> {
    const connection = new RawHttpConnection(request);
    const handlers: Bun.SocketHandler<undefined> = {
      data: (_socket, data) => connection.receive(data),
      drain: () => connection.flush(),
      close: () => connection.fail(new Error("raw HTTP: the server closed the connection")),
      error: (_socket, error) => connection.fail(error),
    };
    connection.socket = "unix" in target ? await Bun.connect({ unix: target.unix, socket: handlers }) : await Bun.connect({ hostname: target.hostname, port: target.port, socket: handlers });
    return connection;
  }

  /** Sends the request; resolves when its 200 has fully arrived. */
  post(): Promise<void> {
    if (this.pending !== null) throw new Error("raw HTTP: one request in flight per connection");
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.pending = { resolve, reject };
    this.unsent = this.request;
    this.flush();
    return promise;
  }

  private flush(): void {
    if (this.unsent === null) return;
    const written = this.socket.write(this.unsent);
    this.unsent = written >= this.unsent.byteLength ? null : this.unsent.subarray(Math.max(0, written));
  }

  private receive(data: Buffer): void {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    const headEnd = this.buffer.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const head = this.buffer.toString("latin1", 0, headEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length === null) return this.fail(new Error(`raw HTTP: a response without Content-Length: ${head}`));
    const end = headEnd + 4 + Number(length[1]);
    if (this.buffer.length < end) return;
    if (this.buffer.length > end) return this.fail(new Error("raw HTTP: bytes after the response, none were asked for"));
    const status = head.slice(9, 12);
    const body = status === "200" ? "" : this.buffer.toString("utf8", headEnd + 4, end);
    this.buffer = Buffer.alloc(0);
    const pending = this.pending;
    this.pending = null;
    if (pending === null) throw new Error("raw HTTP: a response nobody asked for");
    if (status === "200") pending.resolve();
    else pending.reject(new Error(`raw HTTP: ${head.split("\r\n")[0]}: ${body}`));
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }

  close(): void {
    this.pending = null;
    this.socket.end();
  }
}

/** The append every raw request sends: the same bytes each time (no event id: the server assigns one). */
function appendRequest(streamId: string): Uint8Array {
  const body = JSON.stringify({ expectedVersion: "any", events: [{ type: "Measured", data: eventData }] });
  const head = `POST /v1/streams/${encodeURIComponent(streamId)} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body);
}

/** `connections` raw keep-alive connections, each appending to its own stream, one request in flight each. */
async function leanRate(seconds: number, target: HttpTarget, connections: number, streamPrefix: string): Promise<number> {
  const pool = await Promise.all(Array.from({ length: connections }, (_, w) => RawHttpConnection.connect(target, appendRequest(`${streamPrefix}-${w}`))));
  try {
    return await concurrentRate(seconds, connections, (w) => (pool[w] as RawHttpConnection).post());
  } finally {
    for (const connection of pool) connection.close();
  }
}

// ----------------------------------------------------------------------------- NATS JetStream

const crlf = Buffer.from("\r\n");

/** A minimal NATS client over the text protocol: CONNECT, SUB, PUB with a reply subject, MSG. */
class NatsConnection {
  private buffer = Buffer.alloc(0);
  private readonly waiting = new Map<string, (payload: string) => void>();
  private pong: (() => void) | null = null;
  private nextReply = 0;
  private socket!: Bun.Socket<undefined>;

  /** `inbox` names this connection's reply subjects, so that connections do not get each other's replies. */
  private constructor(private readonly inbox: string) {}

  static async connect(port: number, inbox = "_INBOX.bench"): Promise<NatsConnection> {
    const connection = new NatsConnection(inbox);
    connection.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_socket, data) => connection.receive(data),
        error: (_socket, error) => console.error("nats: socket error", error),
      },
    });
    connection.socket.write(`CONNECT {"verbose":false,"pedantic":false,"headers":false,"lang":"bun-bench","version":"0"}\r\nSUB ${inbox}.* 1\r\n`);
    await connection.ping();
    return connection;
  }

  private receive(data: Uint8Array): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(data) : Buffer.concat([this.buffer, data]);
    for (;;) {
      const end = this.buffer.indexOf("\r\n");
      if (end < 0) return;
      const line = this.buffer.subarray(0, end).toString("latin1");
      if (line.startsWith("MSG ")) {
        const parts = line.split(" ");
        const size = Number(parts[parts.length - 1]);
        if (this.buffer.length < end + 2 + size + 2) return;
        const payload = this.buffer.subarray(end + 2, end + 2 + size).toString("utf8");
        this.buffer = this.buffer.subarray(end + 2 + size + 2);
        const subject = parts[1] as string;
        const resolve = this.waiting.get(subject);
        this.waiting.delete(subject);
        resolve?.(payload);
        continue;
      }
      this.buffer = this.buffer.subarray(end + 2);
      if (line === "PING") this.socket.write("PONG\r\n");
      else if (line === "PONG") {
        const pong = this.pong;
        this.pong = null;
        pong?.();
      } else if (line.startsWith("-ERR")) console.error(`nats: ${line}`);
    }
  }

  ping(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.pong = resolve;
    this.socket.write("PING\r\n");
    return promise;
  }

  /** Publishes and resolves with the reply (JetStream's PubAck, or an API answer). */
  request(subject: string, payload: string | Buffer): Promise<string> {
    const reply = `${this.inbox}.${this.nextReply++}`;
    const { promise, resolve } = Promise.withResolvers<string>();
    this.waiting.set(reply, resolve);
    const body = typeof payload === "string" ? Buffer.from(payload) : payload;
    // One write per message, as the HTTP driver sends one per request: three writes are three
    // syscalls here and can wake the server for a partial message.
    this.socket.write(Buffer.concat([Buffer.from(`PUB ${subject} ${reply} ${body.length}\r\n`), body, crlf]));
    return promise;
  }

  close(): void {
    this.socket.end();
  }
}

async function startNats(storeDir: string): Promise<{ port: number; stop(): Promise<void> } | null> {
  const binary = natsBinaryCandidates.find((candidate) => existsSync(candidate));
  if (binary === undefined) return null;
  const child = Bun.spawn([binary, "-js", "-sd", storeDir, "-a", "127.0.0.1", "-p", "-1"], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const reader = child.stderr.getReader();
  let log = "";
  let port: number | undefined;
  while (port === undefined) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`nats-server exited: ${log}`);
    log += new TextDecoder().decode(chunk.value);
    const match = /Listening for client connections on [^\s]*:(\d+)/.exec(log);
    if (match !== null && log.includes("Server is ready")) port = Number(match[1]);
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return {
    port,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

interface NatsBench {
  /** Publishes on the one shared connection (any number in flight: NATS pipelines them). */
  publish(): Promise<void>;
  /** Publishes on connection `worker` of natsInFlight, one in flight each: the HTTP rows' shape. */
  publishOn(worker: number): Promise<void>;
  stop(): Promise<void>;
}

async function startNatsBench(storeDir: string): Promise<NatsBench | null> {
  const server = await startNats(storeDir);
  if (server === null) return null;
  const nats = await NatsConnection.connect(server.port);
  const created = await nats.request("$JS.API.STREAM.CREATE.BENCH", JSON.stringify({ name: "BENCH", subjects: ["bench.>"], storage: "file", retention: "limits", discard: "old" }));
  if (!created.includes('"config"')) throw new Error(`JetStream stream not created: ${created}`);
  const payload = Buffer.alloc(payloadBytes, "x");
  const pool = await Promise.all(Array.from({ length: natsInFlight }, (_, i) => NatsConnection.connect(server.port, `_INBOX.bench${i}`)));
  const publishOn = async (connection: NatsConnection) => {
    const ack = await connection.request("bench.m", payload);
    if (!ack.includes('"seq"')) throw new Error(`no PubAck: ${ack}`);
  };
  return {
    publish: () => publishOn(nats),
    publishOn: (worker) => publishOn(pool[worker] as NatsConnection),
    async stop() {
      nats.close();
      for (const connection of pool) connection.close();
      await server.stop();
    },
  };
}

// ----------------------------------------------------------------------------------- the run

/**
 * Every case runs once per round, the rounds alternate the cases, and each case keeps its best
 * round: on a shared machine (other processes, a noisy disk) that compares like with like.
 */
export async function runHttpBench(seconds: number, rounds: number, only: RegExp | null = null): Promise<void> {
  using fullDir = scratchDir("http-full");
  using normalDir = scratchDir("http-normal");
  using natsDir = scratchDir("nats");
  const daemons = { full: await startDaemon(fullDir.dir, "full"), normal: await startDaemon(normalDir.dir, "normal") };
  const nats = await startNatsBench(natsDir.dir);
  const bare = await startBareHttp(natsDir.dir);
  using libraryDir = scratchDir("http-lib");
  const libraryStores = {
    full: openStore({ dataDir: path.join(libraryDir.dir, "full"), durability: "full" }),
    normal: openStore({ dataDir: path.join(libraryDir.dir, "normal"), durability: "normal" }),
  };
  const raw = { full: openRawSqlite(libraryDir.dir, "full", 1), normal: openRawSqlite(libraryDir.dir, "normal", 1), full64: openRawSqlite(libraryDir.dir, "full", natsInFlight), normal64: openRawSqlite(libraryDir.dir, "normal", natsInFlight) };
  const clients = {
    full: { unix: new EdgeEsdbClient({ socketPath: daemons.full.socketPath }), tcp: new EdgeEsdbClient({ url: daemons.full.url }) },
    normal: { unix: new EdgeEsdbClient({ socketPath: daemons.normal.socketPath }), tcp: new EdgeEsdbClient({ url: daemons.normal.url }) },
  };
  const targets = {
    full: { unix: { unix: daemons.full.socketPath }, tcp: tcpTarget(daemons.full.url) },
    normal: { unix: { unix: daemons.normal.socketPath }, tcp: tcpTarget(daemons.normal.url) },
  };
  const cases = new Map<string, () => Promise<number>>();
  for (const n of concurrencies) {
    cases.set(`library:${n}`, () => libraryRate(seconds, n, libraryStores.full));
    cases.set(`lean:full:unix:${n}`, () => leanRate(seconds, targets.full.unix, n, `lu${n}`));
    cases.set(`lean:full:tcp:${n}`, () => leanRate(seconds, targets.full.tcp, n, `lt${n}`));
    cases.set(`full:unix:${n}`, () => httpRate(seconds, n, clients.full.unix, `u${n}`));
    cases.set(`full:tcp:${n}`, () => httpRate(seconds, n, clients.full.tcp, `t${n}`));
  }
  cases.set("library-normal:1", () => libraryRate(seconds, 1, libraryStores.normal));
  cases.set("lean:normal:unix:1", () => leanRate(seconds, targets.normal.unix, 1, "lu1"));
  cases.set("lean:normal:unix:64", () => leanRate(seconds, targets.normal.unix, 64, "lu64"));
  cases.set("normal:unix:1", () => httpRate(seconds, 1, clients.normal.unix, "u1"));
  cases.set("normal:unix:64", () => httpRate(seconds, 64, clients.normal.unix, "u64"));
  cases.set("bare:unix:64", () => leanRate(seconds, { unix: bare.socketPath }, natsInFlight, "bare"));
  cases.set("raw:normal", () => rawSqliteRate(seconds, raw.normal, 1));
  cases.set("raw:full", () => rawSqliteRate(seconds, raw.full, 1));
  cases.set("raw:full:64", () => rawSqliteRate(seconds, raw.full64, natsInFlight));
  cases.set("raw:normal:64", () => rawSqliteRate(seconds, raw.normal64, natsInFlight));
  if (nats !== null) {
    cases.set("nats:sync", () => concurrentRate(seconds, 1, () => nats.publish()));
    cases.set("nats:async", () => concurrentRate(seconds, natsInFlight, () => nats.publish()));
    cases.set("nats:async:conns", () => concurrentRate(seconds, natsInFlight, (w) => nats.publishOn(w)));
  }
  if (only !== null) for (const name of [...cases.keys()]) if (!only.test(name)) cases.delete(name);
  const best = new Map<string, number>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of cases) best.set(name, Math.max(best.get(name) ?? 0, await run()));
    }
  } finally {
    for (const pair of Object.values(clients)) for (const client of Object.values(pair)) client.close();
    await Promise.all([daemons.full.stop(), daemons.normal.stop(), nats?.stop(), bare.stop(), libraryStores.full.close(), libraryStores.normal.close()]);
    for (const db of Object.values(raw)) db.close();
  }
  const get = (name: string) => best.get(name) as number;
  if (only !== null) {
    printTable(`selected cases (--only ${only.source}; best of ${rounds} alternating rounds of ${seconds} s)`, [...best].map(([name, value]) => ({ case: name, value, unit: "per s" })));
    return;
  }

  const rows: Row[] = [];
  for (const n of concurrencies) {
    rows.push({ case: `lean raw HTTP, unix socket, ${n} conn(s), full`, value: get(`lean:full:unix:${n}`), unit: "appends/s", baseline: get(`library:${n}`) });
    rows.push({ case: `lean raw HTTP, TCP loopback, ${n} conn(s), full`, value: get(`lean:full:tcp:${n}`), unit: "appends/s", baseline: get(`library:${n}`) });
  }
  rows.push({ case: "lean raw HTTP, unix socket, 1 conn, normal", value: get("lean:normal:unix:1"), unit: "appends/s", baseline: get("library-normal:1") });
  for (const n of concurrencies) {
    rows.push({ case: `EdgeEsdbClient (fetch), unix socket, ${n} client(s), full`, value: get(`full:unix:${n}`), unit: "appends/s", baseline: get(`library:${n}`) });
    rows.push({ case: `EdgeEsdbClient (fetch), TCP loopback, ${n} client(s), full`, value: get(`full:tcp:${n}`), unit: "appends/s", baseline: get(`library:${n}`) });
  }
  rows.push({ case: "EdgeEsdbClient (fetch), unix socket, 1 client, normal", value: get("normal:unix:1"), unit: "appends/s", baseline: get("library-normal:1") });
  for (const n of concurrencies) rows.push({ case: `library in-process, ${n} appender(s), full`, value: get(`library:${n}`), unit: "appends/s" });
  rows.push({ case: "library in-process, 1 appender, normal", value: get("library-normal:1"), unit: "appends/s" });
  printTable(
    `HTTP gateway vs the in-process library (1 event of ${payloadBytes} B per append; lean raw HTTP = keep-alive HTTP/1.1 over Bun.connect, one request in flight per connection, like the NATS driver; EdgeEsdbClient = the project's client over fetch, which also adds an event id; baseline = library at the same concurrency and durability; best of ${rounds} alternating rounds of ${seconds} s)`,
    rows,
  );

  if (nats === null) {
    console.log("\nnats-server not installed (apt-get install nats-server): the NATS comparison is skipped");
    return;
  }
  const syncRate = get("nats:sync");
  const asyncRate = get("nats:async");
  const versus: Row[] = [
    { case: "NATS JetStream sync publish (1 at a time; ack before fsync)", value: syncRate, unit: "msgs/s" },
    { case: `NATS JetStream async publish (${natsInFlight} in flight; ack before fsync)`, value: asyncRate, unit: "msgs/s" },
    { case: "lean HTTP unix, 64 conns, full (ack after fsync) vs NATS async", value: get("lean:full:unix:64"), unit: "appends/s", baseline: asyncRate, target: 1 },
    { case: "lean HTTP unix, 64 conns, normal vs NATS async", value: get("lean:normal:unix:64"), unit: "appends/s", baseline: asyncRate },
    { case: `NATS async over ${natsInFlight} TCP connections, one in flight each (the HTTP rows' shape; context)`, value: get("nats:async:conns"), unit: "msgs/s", baseline: asyncRate },
    { case: `lean HTTP unix, 64 conns, full vs NATS over ${natsInFlight} connections (context)`, value: get("lean:full:unix:64"), unit: "appends/s", baseline: get("nats:async:conns") },
    { case: "lean HTTP unix, 1 conn, normal vs NATS sync", value: get("lean:normal:unix:1"), unit: "appends/s", baseline: syncRate, target: 1 },
    { case: "lean HTTP unix, 1 conn, full (fsync per append) vs NATS sync", value: get("lean:full:unix:1"), unit: "appends/s", baseline: syncRate },
    { case: "EdgeEsdbClient unix, 64 clients, full vs NATS async", value: get("full:unix:64"), unit: "appends/s", baseline: asyncRate },
    { case: "EdgeEsdbClient unix, 64 clients, normal vs NATS async", value: get("normal:unix:64"), unit: "appends/s", baseline: asyncRate },
    { case: "EdgeEsdbClient unix, 1 client, normal vs NATS sync", value: get("normal:unix:1"), unit: "appends/s", baseline: syncRate },
    { case: "library in-process, 1 appender, normal vs NATS sync", value: get("library-normal:1"), unit: "appends/s", baseline: syncRate },
    { case: "raw bun:sqlite, 1 row per commit, NORMAL vs NATS sync", value: get("raw:normal"), unit: "commits/s", baseline: syncRate },
    { case: "raw bun:sqlite, 1 row per commit, FULL (fsync) vs NATS sync", value: get("raw:full"), unit: "commits/s", baseline: syncRate },
    { case: `bare Bun.serve, unix, ${natsInFlight} conns (JSON body parsed, no store) vs NATS async (the HTTP ceiling)`, value: get("bare:unix:64"), unit: "requests/s", baseline: asyncRate },
    { case: `raw bun:sqlite, ${natsInFlight} rows per commit over ${natsInFlight} streams, FULL, vs NATS async (the ceiling under the 64-conn rows)`, value: get("raw:full:64"), unit: "rows/s", baseline: asyncRate },
    { case: `raw bun:sqlite, ${natsInFlight} rows per commit over ${natsInFlight} streams, NORMAL, vs NATS async`, value: get("raw:normal:64"), unit: "rows/s", baseline: asyncRate },
  ];
  printTable(`HTTP gateway vs NATS JetStream (file storage, loopback, ${payloadBytes} B payloads; both driven by a minimal raw-socket client in this process; best of ${rounds} alternating rounds of ${seconds} s)`, versus);
}

function parseRounds(fallback: number): number {
  const index = process.argv.indexOf("--rounds");
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

if (import.meta.main) {
  const onlyIndex = process.argv.indexOf("--only");
  await runHttpBench(parseSeconds(2), parseRounds(3), onlyIndex >= 0 ? new RegExp(process.argv[onlyIndex + 1] ?? "") : null);
}
