// One cluster node for the namespace tests, run inside a namespace with
// `ip netns exec NS bun test/cluster/node-child.ts '<json config>'`. It starts the socket
// transport and discovery (interface pinned by the config), connects to every peer discovery
// reports, sends each a ping every 100 ms and a 100 kB bulk message every second, and prints JSON lines:
// {"event":"cluster node up"|"cluster node down","peer":...}, {"event":"message","from":...,
// "type":...}, and every 250 ms {"event":"drops","transport":{...},"discovery":{...},"links":{...}}
// (links: the transport's stats for each peer that is up).
// A "blast" list makes it send to addresses it was given, whether it discovered them or not
// (the wrong-secret node does this).

import { Discovery } from "../../src/discovery/index.ts";
import { NetTransport } from "../../src/transport/index.ts";
import { deriveClusterKeys } from "../../src/codec/index.ts";
import { blobType, pingType, testRegistry } from "../unit/codec/fixtures.ts";

export interface ChildConfig {
  nodeId: string;
  secret: string;
  clusterName?: string;
  interface?: string;
  multicast?: boolean;
  staticPeers?: string[];
  dns?: { names: string[]; servers: string[]; refreshIntervalMs: number } | null;
  announceIntervalMs?: number;
  beaconWindowMs?: number;
  blast?: Array<{ host: string; udpPort: number; tcpPort: number }>;
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildConfig;
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const keys = deriveClusterKeys({ clusterName: config.clusterName ?? "ns-cluster", secret: config.secret });
const registry = testRegistry();
const transport = await NetTransport.start({ nodeId: config.nodeId, keys, registry, host: "0.0.0.0", udpPort: 7400, tcpPort: 7401, log: () => {} });
transport.onMessage((from, message) => print({ event: "message", from, type: message.type }));
const discovery = new Discovery({
  nodeId: config.nodeId,
  keys,
  udpPort: transport.udpPort,
  tcpPort: transport.tcpPort,
  mdns: { enabled: config.multicast ?? true, ...(config.interface === undefined ? {} : { interface: config.interface }) },
  staticPeers: config.staticPeers ?? [],
  dns: config.dns ?? null,
  announceIntervalMs: config.announceIntervalMs ?? 500,
  beaconWindowMs: config.beaconWindowMs ?? 30_000,
  log: () => {},
});
const peers = new Set<string>();
discovery.on((event) => {
  print({ event: event.name, peer: event.peer.nodeId, reason: event.reason ?? null });
  const address = { host: event.peer.addresses[0] as string, udpPort: event.peer.udpPort, tcpPort: event.peer.tcpPort };
  if (event.name === "cluster node down") {
    peers.delete(event.peer.nodeId);
    return;
  }
  transport.setPeer(event.peer.nodeId, address);
  peers.add(event.peer.nodeId);
});
await discovery.start();
print({ event: "started", nodeId: config.nodeId, udpPort: transport.udpPort, tcpPort: transport.tcpPort });
(config.blast ?? []).forEach((target, i) => transport.setPeer(`blast-${i}`, target));

let n = 0;
setInterval(() => {
  n += 1;
  for (const peer of peers) {
    void transport.send(peer, { type: pingType.id, body: { n, text: "ping" } }).catch(() => {});
    if (n % 10 === 1) void transport.send(peer, { type: blobType.id, body: { id: n, data: new Uint8Array(100_000) } }).catch(() => {});
  }
  (config.blast ?? []).forEach((_, i) => {
    void transport.send(`blast-${i}`, { type: pingType.id, body: { n, text: "evil" } }).catch(() => {});
    if (n % 5 === 0) void transport.send(`blast-${i}`, { type: blobType.id, body: { id: n, data: new Uint8Array(2000) } }).catch(() => {});
  });
}, 100);
setInterval(() => {
  const links = Object.fromEntries([...peers].map((peer) => [peer, transport.peerStats(peer)]));
  print({ event: "drops", transport: transport.drops.snapshot(), discovery: discovery.drops.snapshot(), links });
}, 250);

const shutdown = async () => {
  await discovery.stop();
  await transport.close();
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
