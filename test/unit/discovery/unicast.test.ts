// Discovery over unicast on loopback (no multicast; sockets on 127.0.0.x, port 0): the answer
// budget is per source, so one noisy source cannot starve the others and configured static peers
// are always answered; and a beacon that signs no address is reached at its packet's source only
// when the beacon itself passed every check.

import { afterEach, describe, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import makeMdns from "multicast-dns";
import { Discovery, newNonce, serviceType, signBeacon, type Beacon } from "../../../src/discovery/index.ts";
import { unicastAnswersPerSecondMax, unicastAnswersPerSourcePerSecondMax } from "../../../src/lib/limits-wire.ts";
import { keys, secretB, TestClock } from "../codec/fixtures.ts";
import { waitFor } from "../../helpers/wait.ts";

/** How long a wait here may take before the test fails. */
const waitMs = 5_000;

type Client = ReturnType<typeof makeMdns> & { responses: number; port: number };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A raw mDNS client on its own socket (so its port is known) that counts the answers it gets. */
async function client(host = "127.0.0.1"): Promise<Client> {
  const socket = createSocket({ type: "udp4" });
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
  const port = socket.address().port;
  const mdns = makeMdns({ socket, bind: false, port, multicast: false } as never) as Client;
  mdns.port = port;
  mdns.responses = 0;
  mdns.on("response", () => {
    mdns.responses += 1;
  });
  mdns.on("warning", () => {});
  cleanups.push(() => new Promise<void>((resolve) => mdns.destroy(() => resolve())));
  return mdns;
}

/** A discovery node on 127.0.0.1 whose clock stands still (one budget second for the whole test). */
async function node(staticPeers: string[] = []): Promise<{ d: Discovery; clock: TestClock }> {
  const clock = new TestClock(Date.now());
  const d = new Discovery({
    nodeId: "node-a",
    keys: keys(),
    udpPort: 7000,
    tcpPort: 7001,
    mdns: { enabled: false, port: 0, bindHost: "127.0.0.1" },
    addresses: ["127.0.0.1"],
    staticPeers,
    announceIntervalMs: 60_000,
    now: clock.now,
    log: () => {},
  });
  cleanups.push(() => d.stop());
  await d.start();
  return { d, clock };
}

function probe(from: Client, port: number, times = 1): void {
  for (let i = 0; i < times; i++) {
    from.query({ questions: [{ name: serviceType, type: "PTR" }, { name: "_probe._edge-esdb._udp.local", type: "TXT" }] }, { address: "127.0.0.1", port } as never);
  }
}

describe("unicast answers", () => {
  test("one noisy source gets its own budget, and another source is still answered", async () => {
    const { d } = await node();
    const noisy = await client();
    probe(noisy, d.port, 200);
    await waitFor(() => noisy.responses >= unicastAnswersPerSourcePerSecondMax, "the noisy source's budget of answers", waitMs);
    const real = await client();
    probe(real, d.port);
    await waitFor(() => real.responses === 1, "an answer to the real peer", waitMs);
    await Bun.sleep(50);
    expect(noisy.responses).toBe(unicastAnswersPerSourcePerSecondMax);
  });

  for (const named of [false, true]) {
  test(`a configured static peer${named ? " named by host name" : ""} is answered even when many sources used up the shared budget`, async () => {
    const staticPeer = await client();
    const { d } = await node([`${named ? "localhost" : "127.0.0.1"}:${staticPeer.port}`]);
    // A peer named by host name is known by its resolved address (resolved in the background).
    if (named) await Bun.sleep(300);
    const noisy = await Promise.all(Array.from({ length: 8 }, () => client()));
    for (const c of noisy) probe(c, d.port, unicastAnswersPerSourcePerSecondMax);
    await waitFor(() => noisy.reduce((n, c) => n + c.responses, 0) >= unicastAnswersPerSecondMax, "the shared budget used up", waitMs);
    const before = staticPeer.responses;
    probe(staticPeer, d.port);
    await waitFor(() => staticPeer.responses > before, "an answer to the static peer", waitMs);
    const late = await client();
    probe(late, d.port);
    await Bun.sleep(200);
    expect(late.responses).toBe(0); // anyone else waits for the next second
  });
  }
});

describe("a beacon without addresses", () => {
  const beacon = (clock: TestClock, overrides: Partial<Beacon> = {}): Beacon => ({
    nodeId: "node-z",
    clusterName: "test-cluster",
    udpPort: 4000,
    tcpPort: 4001,
    version: 1,
    timeMs: clock.ms,
    nonce: newNonce(),
    addresses: [],
    goodbye: false,
    ...overrides,
  });
  const send = (from: Client, port: number, txt: string[]) =>
    from.respond({ answers: [{ name: `node-z.${serviceType}`, type: "TXT", ttl: 120, data: txt }] } as never, { address: "127.0.0.1", port } as never);

  test("is reached at its packet's source only when it passed every check", async () => {
    const { d, clock } = await node();
    const two = await client("127.0.0.2");
    const three = await client("127.0.0.3");
    // A forged one (another secret): never used, counted under its address.
    send(two, d.port, signBeacon(beacon(clock), keys(secretB)));
    await waitFor(() => d.drops.count("127.0.0.2", "bad_tag") === 1, "the forged beacon refused", waitMs);
    expect(d.isUp("node-z")).toBe(false);
    // An authentic one: reached where it came from.
    const authentic = signBeacon(beacon(clock), keys());
    send(two, d.port, authentic);
    await waitFor(() => d.isUp("node-z"), "node-z up", waitMs);
    expect(d.peers()[0]?.addresses).toEqual(["127.0.0.2"]);
    // The same beacon relayed from elsewhere: a replay, and the address stays.
    send(three, d.port, authentic);
    await waitFor(() => d.drops.count("node-z", "replayed") === 1, "the relayed beacon refused", waitMs);
    expect(d.peers()[0]?.addresses).toEqual(["127.0.0.2"]);
    // A beacon that signs its addresses: those, never the source.
    send(three, d.port, signBeacon(beacon(clock, { addresses: ["10.1.2.3"] }), keys()));
    await waitFor(() => d.peers()[0]?.addresses[0] === "10.1.2.3", "the signed address", waitMs);
    expect(d.peers()[0]?.addresses).toEqual(["10.1.2.3"]);
  });
});
