// The client resends an append or a read when the connection fails before the answer arrives,
// and an append resent that way is stored once: the client gives each event an id before the
// first attempt, and the store answers a batch it already holds with the original result. A
// loopback proxy between client and gateway loses answers on purpose.

import { describe, expect, test } from "bun:test";
import { EdgeEsdbClient, WrongExpectedVersionError } from "../../../src/client/index.ts";
import { startTestGateway } from "../api/harness.ts";

interface LossyProxy {
  url: string;
  /** Requests (first chunks of each) that the proxy passed on to the gateway. */
  readonly requests: number;
  /** The next `n` requests reach the gateway, but their connection closes before any byte of the answer. */
  loseAnswers(n: number): void;
  stop(): void;
}

async function lossyProxy(upstreamUrl: string): Promise<LossyProxy> {
  const upstream = new URL(upstreamUrl);
  let requests = 0;
  let toLose = 0;
  interface Side {
    upstream: Promise<import("bun").Socket<undefined>>;
    lose: boolean;
  }
  const listener = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const side: Side = {
          lose: false,
          upstream: Bun.connect({
            hostname: upstream.hostname,
            port: Number(upstream.port),
            socket: {
              data(_up, chunk) {
                if (side.lose) client.end();
                else client.write(chunk);
              },
              close() {
                client.end();
              },
            },
          }),
        };
        client.data = side;
      },
      async data(client, chunk) {
        // Every request here is small: one chunk starting with the method is one request.
        if (/^(GET|POST|HEAD|PUT|DELETE) /.test(Buffer.from(chunk.subarray(0, 8)).toString("latin1"))) {
          requests++;
          if (toLose > 0) {
            toLose--;
            client.data.lose = true;
          }
        }
        (await client.data.upstream).write(chunk);
      },
      async close(client) {
        (await client.data.upstream).end();
      },
    },
  });
  return {
    url: `http://127.0.0.1:${listener.port}`,
    get requests() {
      return requests;
    },
    loseAnswers(n) {
      toLose = n;
    },
    stop() {
      listener.stop(true);
    },
  };
}

describe("client retries after a lost answer", () => {
  test("an append whose answer was lost is resent and stored once, with its original result", async () => {
    await using gw = await startTestGateway({ token: "t0ken" });
    const proxy = await lossyProxy(gw.gateway.url as string);
    using client = new EdgeEsdbClient({ url: proxy.url, token: "t0ken" });
    try {
      proxy.loseAnswers(1);
      // no_stream: a resend that the store did not recognise would fail with wrong_expected_version.
      expect(await client.append("order-1", "no_stream", [{ type: "Placed", data: { n: 1 } }, { type: "Paid", data: { n: 2 } }])).toEqual({ nextVersion: 1, position: 1 });
      expect(proxy.requests).toBe(2);
      using direct = new EdgeEsdbClient({ socketPath: gw.socketPath });
      const events = await direct.read("order-1");
      expect(events.map((e) => [e.version, e.type])).toEqual([
        [0, "Placed"],
        [1, "Paid"],
      ]);
      expect(await direct.readAll()).toHaveLength(2);
    } finally {
      proxy.stop();
    }
  });

  test("with retries off, the caller sees the connection error (and the event may be stored)", async () => {
    await using gw = await startTestGateway({ token: "t0ken" });
    const proxy = await lossyProxy(gw.gateway.url as string);
    using client = new EdgeEsdbClient({ url: proxy.url, token: "t0ken", retries: 0 });
    try {
      proxy.loseAnswers(1);
      const error = await client.append("s", "any", [{ type: "T", data: 1 }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(proxy.requests).toBe(1);
      using direct = new EdgeEsdbClient({ socketPath: gw.socketPath });
      expect(await direct.read("s")).toHaveLength(1);
    } finally {
      proxy.stop();
    }
  });

  test("reads are resent after a lost answer; an error answer is never resent", async () => {
    await using gw = await startTestGateway({ token: "t0ken" });
    const proxy = await lossyProxy(gw.gateway.url as string);
    using client = new EdgeEsdbClient({ url: proxy.url, token: "t0ken" });
    try {
      await client.append("s", "any", [{ type: "T", data: 1 }]);
      let before = proxy.requests;
      proxy.loseAnswers(2);
      expect((await client.read("s")).map((e) => e.type)).toEqual(["T"]);
      expect(proxy.requests - before).toBe(3);
      before = proxy.requests;
      proxy.loseAnswers(1);
      expect((await client.readAll()).map((e) => e.streamId)).toEqual(["s"]);
      expect(proxy.requests - before).toBe(2);
      // Answers that keep being lost: the retries are bounded and the error reaches the caller
      // (three attempts of ours; Bun's fetch may itself resend once on a reused connection).
      proxy.loseAnswers(100);
      before = proxy.requests;
      expect(await client.read("s").catch((e: unknown) => e)).toBeInstanceOf(Error);
      expect(proxy.requests - before).toBeGreaterThanOrEqual(3);
      expect(proxy.requests - before).toBeLessThanOrEqual(6);
      proxy.loseAnswers(0);
      before = proxy.requests;
      const wrong = await client.append("s", 5, [{ type: "T", data: 2 }]).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(WrongExpectedVersionError);
      expect(proxy.requests - before).toBe(1);
    } finally {
      proxy.stop();
    }
  });

  test("a client refuses a retries setting out of range", () => {
    expect(() => new EdgeEsdbClient({ url: "http://127.0.0.1:1", retries: -1 })).toThrow(/retries/);
    expect(() => new EdgeEsdbClient({ url: "http://127.0.0.1:1", retries: 1.5 })).toThrow(/retries/);
  });
});
