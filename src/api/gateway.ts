// The HTTP gateway on Bun.serve: a unix socket (by default) and optionally TCP. TCP requests
// carry a bearer token when one is configured, and a non-loopback host without a token is
// refused at start. stop() stops accepting, ends live reads, waits for in-flight requests (up
// to httpShutdownMsMax), then closes what is left; closing the node is the caller's step.

import { existsSync, unlinkSync } from "node:fs";
import type { Server } from "bun";
import { InvalidArgumentError, limits } from "../lib/index.ts";
import type { EdgeNode } from "../node/index.ts";
import { BusyPoll } from "./busy-poll.ts";
import type { Context, GatewayState } from "./context.ts";
import { HttpError, errorResponse } from "./http-error.ts";
import { isLoopbackHost, prepareSocketPath } from "./listen.ts";
import { LiveHub } from "./live.ts";
import { GatewayMetrics } from "./metrics.ts";
import { route } from "./router.ts";
import { DeliveryBook } from "./subscriptions.ts";

export interface GatewayOptions {
  /** Unix socket path; empty or undefined for none. */
  socketPath?: string;
  /** TCP host; empty or undefined for no TCP listener. */
  host?: string;
  /** TCP port (0 picks a free one). */
  port?: number;
  /** Bearer token for TCP requests; required when the host is not loopback. */
  token?: string;
  bodyBytesMax?: number;
  heartbeatIntervalMs?: number;
  /** Idle kept-alive TCP connections close after this (live reads are exempt); the unix socket has none. */
  idleTimeoutSeconds?: number;
  /** Extra Prometheus text for /metrics, after the gateway's and the node's (src/telemetry). */
  metricsText?: () => string | Promise<string>;
  /** After a response to a quick client the event loop keeps polling this many µs (0: never; busy-poll.ts). */
  busyPollUs?: number;
}

export interface Gateway {
  readonly socketPath: string | null;
  /** `http://host:port` of the TCP listener, or null. */
  readonly url: string | null;
  readonly port: number | null;
  /** Open SSE live reads. */
  readonly liveCount: number;
  /** Requests being handled now (live reads count only while they open). */
  readonly inFlightCount: number;
  stop(): Promise<void>;
}

/** How often shutdown looks whether the last responses are out. */
const shutdownPollMs = 5;

// Bun.CryptoHasher, not node:crypto: importing node:crypto keeps about 1.2 MiB more resident in
// the idle daemon, and the token check needs only a hash and a constant-time comparison.
function digest(text: string): Uint8Array {
  return new Bun.CryptoHasher("sha256").update(text).digest();
}

/** Compares two SHA-256 digests in time that does not depend on where they differ. */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let difference = 0;
  for (let i = 0; i < a.byteLength; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}

export async function startGateway(node: EdgeNode, options: GatewayOptions = {}): Promise<Gateway> {
  const socketPath = options.socketPath === undefined || options.socketPath === "" ? null : options.socketPath;
  const host = options.host === undefined || options.host === "" ? null : options.host;
  const token = options.token === undefined || options.token === "" ? null : options.token;
  if (socketPath === null && host === null) throw new InvalidArgumentError("the gateway needs a unix socket or a TCP host to listen on");
  if (host !== null && !isLoopbackHost(host) && token === null) {
    throw new InvalidArgumentError(`host '${host}' is reachable from other machines: set a token (setting token, EDGE_ESDB_TOKEN) to serve TCP there`);
  }
  const bodyBytesMax = options.bodyBytesMax ?? limits.httpBodyBytesDefault;
  if (!Number.isSafeInteger(bodyBytesMax) || bodyBytesMax < 1 || bodyBytesMax > limits.httpBodyBytesMax) {
    throw new InvalidArgumentError(`bodyBytesMax must be from 1 to ${limits.httpBodyBytesMax} (httpBodyBytesMax), got ${bodyBytesMax}`);
  }
  const busyPollUs = options.busyPollUs ?? limits.httpBusyPollUsDefault;
  if (!Number.isSafeInteger(busyPollUs) || busyPollUs < 0 || busyPollUs > limits.httpBusyPollUsMax) {
    throw new InvalidArgumentError(`busyPollUs must be an integer from 0 to ${limits.httpBusyPollUsMax} (httpBusyPollUsMax), got ${busyPollUs}`);
  }
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? limits.sseHeartbeatIntervalMsDefault;
  const metrics = new GatewayMetrics();
  const state: GatewayState = {
    node,
    settings: { bodyBytesMax, heartbeatIntervalMs, ...(options.metricsText === undefined ? {} : { metricsText: options.metricsText }) },
    metrics,
    live: new LiveHub(node, metrics, heartbeatIntervalMs),
    deliveries: new DeliveryBook(),
    stopping: false,
  };
  const tokenDigest = token === null ? null : digest(`Bearer ${token}`);
  let inFlight = 0;
  let idle: (() => void) | null = null;
  // On a single CPU (a one-core board, or a CPUAffinity of one) the client waits for the core a poll
  // holds: a reviewer measured 15% fewer requests per second with it. Polling pays only when the
  // client runs on another CPU. navigator.hardwareConcurrency counts the CPUs this process may
  // run on (it follows taskset) without importing node:os into the daemon (with that import the
  // idle RSS over hello-world measured 15.3 MiB; without it 14.9-15.1, at the 15 MiB target).
  const busyPoll = new BusyPoll(navigator.hardwareConcurrency > 1 ? busyPollUs / 1000 : 0);

  async function handle(request: Request, server: Server<undefined>, tcp: boolean): Promise<Response> {
    const startMs = busyPoll.now();
    inFlight++;
    let response: Response;
    try {
      if (tcp && tokenDigest !== null) {
        const given = request.headers.get("authorization");
        if (given === null || !digestsEqual(digest(given), tokenDigest)) {
          throw new HttpError(401, "unauthorized", "a valid bearer token is required (Authorization: Bearer <token>)", { "www-authenticate": 'Bearer realm="edge-esdb"' });
        }
      }
      const ctx: Context = { request, url: new URL(request.url), state, keepOpen: () => server.timeout(request, 0) };
      response = await route(ctx);
    } catch (error) {
      response = errorResponse(error);
    } finally {
      inFlight--;
      if (inFlight === 0) idle?.();
    }
    metrics.countResponse(response.status);
    busyPoll.responded(startMs);
    return response;
  }

  // Our own limit answers 413 with a JSON body; Bun's must never fire before it.
  const bunBodyBytesMax = Number.MAX_SAFE_INTEGER;
  const idleTimeoutSeconds = options.idleTimeoutSeconds ?? limits.httpIdleTimeoutSecondsDefault;
  const servers: Array<Server<undefined>> = [];
  try {
    if (socketPath !== null) {
      await prepareSocketPath(socketPath);
      // On a unix socket Bun applies its idle timeout (default 10 s) even to a streaming response
      // and server.timeout(request, 0) does not lift it (Bun 1.4.5): live reads would be cut.
      // Only local processes reach this socket, so it has no idle timeout at all (0). Bun's
      // types allow idleTimeout on TCP only; it applies here too.
      const unixOptions = { maxRequestBodySize: bunBodyBytesMax, idleTimeout: 0, unix: socketPath, fetch: (request: Request, server: Server<undefined>) => handle(request, server, false) };
      servers.push(Bun.serve(unixOptions as unknown as Bun.Serve.Options<undefined>));
    }
    if (host !== null) {
      servers.push(Bun.serve({ maxRequestBodySize: bunBodyBytesMax, idleTimeout: idleTimeoutSeconds, hostname: host, port: options.port ?? 2113, fetch: (request, server) => handle(request, server, true) }));
    }
  } catch (error) {
    for (const server of servers) void server.stop(false);
    state.live.endAll();
    throw error;
  }
  const tcpServer = host === null ? null : (servers[servers.length - 1] as Server<undefined>);
  const port = tcpServer?.port ?? null;
  const urlHost = host === null ? null : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;

  let stopping: Promise<void> | null = null;
  async function stop(): Promise<void> {
    state.stopping = true;
    busyPoll.stop();
    // Stop accepting; in-flight requests finish and live reads end (endAll) and flush their
    // last bytes. Idle kept-alive connections would hold stop(false) open, so once no request
    // or response is pending, the rest are closed.
    for (const server of servers) void server.stop(false);
    state.live.endAll();
    const inFlightDone = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
    const deadlineMs = Date.now() + limits.httpShutdownMsMax;
    // A pending timer would hold the process open after a clean stop: clear it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([inFlightDone, new Promise<void>((resolve) => (timer = setTimeout(resolve, limits.httpShutdownMsMax)))]);
    clearTimeout(timer);
    while (Date.now() < deadlineMs && servers.some((server) => server.pendingRequests > 0)) await Bun.sleep(shutdownPollMs);
    await Promise.all(servers.map((server) => server.stop(true)));
    if (socketPath !== null && existsSync(socketPath)) {
      try {
        unlinkSync(socketPath);
      } catch {
        // Gone already, or not ours to remove.
      }
    }
  }

  return {
    socketPath,
    url: urlHost === null ? null : `http://${urlHost}:${port}`,
    port,
    get liveCount() {
      return state.live.size;
    },
    get inFlightCount() {
      return inFlight;
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}
