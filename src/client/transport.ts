// How the client reaches the gateway, isolated here (Hono's adapter idea): fetch for TCP in any
// runtime, fetch with Bun's `unix` option for a unix socket in Bun, and node:http with
// `socketPath` for a unix socket in Node (Node 20's fetch cannot use a unix socket).

export interface RawResponse {
  status: number;
  header(name: string): string | null;
  /** The body as it arrives (for SSE). */
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  /** Drops the connection (ends a live read). */
  close(): void;
}

export interface RequestInit {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface Transport {
  request(init: RequestInit): Promise<RawResponse>;
  close(): void;
}

const emptyBody: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

export function isBun(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
}

/** fetch over TCP (`baseUrl`), or over a unix socket in Bun. */
export function fetchTransport(baseUrl: string, socketPath?: string): Transport {
  return {
    async request(init) {
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      init.signal?.addEventListener("abort", onAbort, { once: true });
      const options: Record<string, unknown> = { method: init.method, headers: init.headers, signal: controller.signal };
      if (init.body !== undefined) options.body = init.body;
      if (socketPath !== undefined) options.unix = socketPath;
      const response = await fetch(`${baseUrl}${init.path}`, options as globalThis.RequestInit);
      const stream = response.body;
      return {
        status: response.status,
        header: (name) => response.headers.get(name),
        body: stream === null ? emptyBody : (stream as unknown as AsyncIterable<Uint8Array>),
        text: () => response.text(),
        close: () => {
          init.signal?.removeEventListener("abort", onAbort);
          controller.abort();
        },
      };
    },
    close() {},
  };
}

type NodeHttp = typeof import("node:http");

/** node:http over a unix socket, with a keep-alive agent (closed by close()). */
export function nodeSocketTransport(socketPath: string): Transport {
  let loaded: Promise<{ http: NodeHttp; agent: import("node:http").Agent }> | null = null;
  const load = () =>
    (loaded ??= import("node:http").then((http) => ({ http, agent: new http.Agent({ keepAlive: true }) })));
  return {
    async request(init) {
      const { http, agent } = await load();
      return await new Promise<RawResponse>((resolve, reject) => {
        const request = http.request({ socketPath, agent, path: init.path, method: init.method, headers: init.headers }, (response) => {
          resolve({
            status: response.statusCode ?? 0,
            header: (name) => {
              const value = response.headers[name.toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
            },
            body: response as AsyncIterable<Uint8Array>,
            async text() {
              const chunks: Buffer[] = [];
              for await (const chunk of response) chunks.push(chunk as Buffer);
              return Buffer.concat(chunks).toString("utf8");
            },
            close: () => {
              response.destroy();
              request.destroy();
            },
          });
        });
        request.on("error", reject);
        init.signal?.addEventListener("abort", () => request.destroy(new Error("aborted")), { once: true });
        request.end(init.body);
      });
    },
    close() {
      void loaded?.then(({ agent }) => agent.destroy());
    },
  };
}

export function chooseTransport(options: { socketPath?: string; url?: string }): Transport {
  if (options.url !== undefined) return fetchTransport(options.url.replace(/\/+$/, ""));
  if (options.socketPath === undefined) throw new TypeError("edge-esdb client: give socketPath or url");
  return isBun() ? fetchTransport("http://localhost", options.socketPath) : nodeSocketTransport(options.socketPath);
}
