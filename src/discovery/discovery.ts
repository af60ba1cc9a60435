// Discovery: finds the cluster's nodes and keeps a peer table with up / down events. Three
// sources feed one path: mDNS / DNS-SD multicast on the LAN (multicast-dns), static peers, and
// DNS names (A / AAAA / SRV, as a Kubernetes headless service gives) re-resolved periodically.
// Static and DNS targets are asked by unicast DNS-SD queries to their discovery port, and answer
// with the same signed records, so every source is authenticated the same way (beacon.ts).
//
// Each node announces `<node>._edge-esdb._udp.local` with PTR, SRV, TXT and A / AAAA records,
// re-announces with jitter, answers queries, and says goodbye (TTL 0) when it stops. The records
// are standard DNS-SD, so avahi-browse or python3-zeroconf list the nodes.

import { createSocket, type Socket as DgramSocket } from "node:dgram";
import { lookup, Resolver } from "node:dns/promises";
import { createHash } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import os from "node:os";
import makeMdns from "multicast-dns";
import type { Answer, Packet } from "dns-packet";
import { DropCounter, protocolVersion, type ClusterKeys, type LogSink } from "../codec/index.ts";
import { assert, limits } from "../lib/index.ts";
import { BeaconGuard, newNonce, openBeacon, signBeacon, type Beacon } from "./beacon.ts";
import { resolveInterface } from "./interfaces.ts";
import { PeerTable, type PeerEvent, type PeerInfo } from "./peer-table.ts";

const {
  announceIntervalMsDefault,
  beaconWindowMsDefault,
  dnsRefreshIntervalMsDefault,
  missedAnnouncementsDownDefault,
  probeTargetsMax,
  queryAnswerIntervalMsMin,
  unicastAnswersPerSecondMax,
  unicastAnswersPerSourcePerSecondMax,
  unicastSourcesPerSecondMax,
} = limits;

export const serviceType = "_edge-esdb._udp.local";
const servicesMeta = "_services._dns-sd._udp.local";
/** A question our unicast probes carry, so the answer comes back by unicast. */
const probeMarker = "_probe._edge-esdb._udp.local";

export interface MdnsSettings {
  /** Multicast on the LAN (default true). Off: only static and DNS peers, by unicast. */
  enabled?: boolean;
  /** Interface name or IPv4 address; default: the default route's interface. */
  interface?: string;
  /** Multicast group (default 224.0.0.251). */
  address?: string;
  /** Discovery port (default 5353; 0 picks one, for tests without multicast). */
  port?: number;
  /** Address the discovery socket binds (default 0.0.0.0). */
  bindHost?: string;
}

export interface DnsSettings {
  /** Names to resolve: a host name (A / AAAA, probed at the discovery port) or an SRV name (`_x._udp.name`). */
  names: string[];
  /** DNS servers ("ip" or "ip:port"); default the system's. */
  servers?: string[];
  refreshIntervalMs?: number;
}

export interface DiscoveryOptions {
  nodeId: string;
  keys: ClusterKeys;
  udpPort: number;
  tcpPort: number;
  mdns?: MdnsSettings;
  /** Static peers: "host" or "host:port" (their discovery port; default this node's). */
  staticPeers?: string[];
  dns?: DnsSettings | null;
  /** Addresses to announce; default the multicast interface's (or every non-internal one). */
  addresses?: string[];
  announceIntervalMs?: number;
  missedAnnouncementsDown?: number;
  beaconWindowMs?: number;
  now?: () => number;
  random?: () => number;
  log?: LogSink;
}

interface Target {
  readonly host: string;
  readonly port: number;
}

export class Discovery {
  readonly nodeId: string;
  readonly drops: DropCounter;
  private readonly options: DiscoveryOptions;
  private readonly table: PeerTable;
  private readonly guard: BeaconGuard;
  private readonly handlers: Array<(event: PeerEvent) => void> = [];
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly intervalMs: number;
  private readonly instance: string;
  private readonly hostName: string;
  private mdns: makeMdns.MulticastDNS | null = null;
  private socket: DgramSocket | null = null;
  private multicast: boolean;
  private mdnsPort = 0;
  private addresses: string[] = [];
  private dnsTargets: Target[] = [];
  /** The configured static peers, parsed once the discovery port is known (their default port). */
  private staticTargets: Target[] = [];
  /** Static peers named by host name, resolved (system resolver, /etc/hosts too) to addresses. */
  private resolvedStatics: Target[] = [];
  private timers: Array<ReturnType<typeof setTimeout>> = [];
  private lastAnswerMs = Number.NEGATIVE_INFINITY;
  private unicastSecond = 0;
  /** Unicast answers this second to sources that are not configured targets. */
  private unicastAnswers = 0;
  /** Unicast answers this second per source ("address:port"); bounded, cleared every second. */
  private readonly unicastPerSource = new Map<string, number>();
  /** Who probed this node by unicast lately (they get the goodbye too); bounded, oldest first. */
  private readonly probers = new Map<string, Target>();
  private stopped = false;

  constructor(options: DiscoveryOptions) {
    this.options = options;
    this.nodeId = options.nodeId;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.intervalMs = options.announceIntervalMs ?? announceIntervalMsDefault;
    const missed = options.missedAnnouncementsDown ?? missedAnnouncementsDownDefault;
    this.table = new PeerTable(this.intervalMs * missed, this.now, (event) => {
      for (const handler of this.handlers) handler(event);
    });
    this.guard = new BeaconGuard(options.beaconWindowMs ?? beaconWindowMsDefault, this.now);
    this.drops = new DropCounter(options.log ?? ((line) => console.warn(line)), this.now, `discovery ${options.nodeId}`);
    this.multicast = options.mdns?.enabled ?? true;
    const label = options.nodeId.replace(/[.\s]/g, "-").slice(0, 63);
    this.instance = `${label}.${serviceType}`;
    this.hostName = `ees-${createHash("sha256").update(options.nodeId).digest("hex").slice(0, 12)}.local`;
  }

  /** Calls the handler on every `cluster node up` / `cluster node down` / `cluster node changed`. */
  on(handler: (event: PeerEvent) => void): void {
    this.handlers.push(handler);
  }

  peers(): PeerInfo[] {
    return this.table.up();
  }

  isUp(nodeId: string): boolean {
    return this.table.isUp(nodeId);
  }

  /** The discovery port bound (5353 unless set). */
  get port(): number {
    return this.mdnsPort;
  }

  async start(): Promise<void> {
    const settings = this.options.mdns ?? {};
    const group = settings.address ?? "224.0.0.251";
    const iface = this.multicast || settings.interface !== undefined ? resolveInterface(settings.interface) : null;
    this.addresses = this.options.addresses ?? iface?.addresses.slice() ?? allAddresses();
    const socket = createSocket({ type: "udp4", reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(settings.port ?? 5353, settings.bindHost ?? "0.0.0.0", () => {
        socket.off("error", reject);
        resolve();
      });
    });
    this.socket = socket;
    this.mdnsPort = socket.address().port;
    this.staticTargets = (this.options.staticPeers ?? []).map((entry) => parseTarget(entry, this.mdnsPort));
    const mdns = makeMdns({
      socket,
      bind: false,
      port: this.mdnsPort,
      ip: group,
      multicast: this.multicast,
      ...(iface === null ? {} : { interface: iface.ipv4 }),
    });
    this.mdns = mdns;
    mdns.on("warning", () => {});
    mdns.on("error", (error: Error) => this.options.log?.(`discovery ${this.nodeId}: ${error.message}`));
    mdns.on("response", (packet: Packet, rinfo: { address: string }) => this.receiveResponse(packet, rinfo.address));
    mdns.on("query", (packet: Packet, rinfo: { address: string; port: number }) => this.receiveQuery(packet, rinfo));
    if (this.multicast && iface !== null) {
      socket.setMulticastTTL(255);
      socket.setMulticastLoopback(true);
      (mdns as unknown as { update(): void }).update();
    }
    // DNS answers may be slow or missing: resolve in the background and probe once they are in.
    if (this.options.dns != null) void this.resolveDns().then(() => this.probe());
    // Static peers named by host: their addresses, so their queries count as configured.
    if (this.staticTargets.some((t) => !isIPv4(t.host) && !isIPv6(t.host))) {
      const loop = () => {
        void this.resolveStatics().finally(() => this.schedule(loop, staticResolveIntervalMs));
      };
      loop();
    }
    this.announce();
    if (this.multicast) mdns.query({ questions: [{ name: serviceType, type: "PTR" }] });
    this.probe();
    this.schedule(() => this.tick(), this.jittered(this.intervalMs / 2));
    if (this.options.dns != null) {
      const refresh = this.options.dns.refreshIntervalMs ?? dnsRefreshIntervalMsDefault;
      const loop = () => {
        void this.resolveDns().finally(() => this.schedule(loop, refresh));
      };
      this.schedule(loop, refresh);
    }
  }

  /** Says goodbye (TTL 0) and closes the socket. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    const mdns = this.mdns;
    if (mdns === null) return;
    const goodbye = this.records(0);
    const unicast = new Map<string, Target>(this.probers);
    for (const target of this.targets()) unicast.set(`${target.host}:${target.port}`, target);
    await new Promise<void>((resolve) => {
      let pending = 1 + (this.multicast ? 1 : 0) + unicast.size;
      const done = () => {
        pending -= 1;
        if (pending === 0) resolve();
      };
      if (this.multicast) mdns.respond(goodbye, () => done());
      for (const target of unicast.values()) mdns.respond(goodbye, { address: target.host, port: target.port }, () => done());
      done();
    });
    await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  // ---- announcing ----

  private tick(): void {
    if (this.stopped) return;
    this.announce();
    this.probe();
    this.table.check();
    this.schedule(() => this.tick(), this.jittered(this.intervalMs));
  }

  private announce(): void {
    if (this.multicast && this.mdns !== null) this.mdns.respond(this.records(120));
  }

  /** Unicast queries to every static and DNS target. */
  private probe(): void {
    const mdns = this.mdns;
    if (mdns === null) return;
    for (const target of this.targets()) {
      mdns.query(
        { questions: [{ name: serviceType, type: "PTR" }, { name: probeMarker, type: "TXT" }] },
        { address: target.host, port: target.port },
      );
    }
  }

  private async resolveStatics(): Promise<void> {
    const resolved: Target[] = [];
    for (const target of this.staticTargets) {
      if (isIPv4(target.host) || isIPv6(target.host)) continue;
      try {
        for (const { address } of await lookup(target.host, { all: true })) resolved.push({ host: address, port: target.port });
      } catch (error) {
        this.options.log?.(`discovery ${this.nodeId}: static peer '${target.host}' did not resolve: ${(error as Error).message}`);
      }
    }
    if (!this.stopped) this.resolvedStatics = resolved.slice(0, probeTargetsMax);
  }

  private targets(): Target[] {
    return [...this.staticTargets, ...this.dnsTargets].slice(0, probeTargetsMax);
  }

  /** Whether a query's source is a configured target (static, resolved static, or from DNS). */
  private isConfigured(source: { address: string; port: number }): boolean {
    const is = (t: Target) => t.host === source.address && t.port === source.port;
    return this.staticTargets.some(is) || this.resolvedStatics.some(is) || this.dnsTargets.some(is);
  }

  /** The records of this node; ttl 0 says goodbye. Each call signs a fresh beacon. */
  private records(ttl: number): { answers: Answer[]; additionals: Answer[] } {
    const txt = signBeacon(
      {
        nodeId: this.nodeId,
        clusterName: this.options.keys.clusterName,
        udpPort: this.options.udpPort,
        tcpPort: this.options.tcpPort,
        version: protocolVersion,
        timeMs: this.now(),
        nonce: newNonce(),
        addresses: this.addresses,
        goodbye: ttl === 0,
      },
      this.options.keys,
    );
    const hostTtl = ttl === 0 ? 0 : 120;
    const otherTtl = ttl === 0 ? 0 : 4500;
    const answers: Answer[] = [
      { name: serviceType, type: "PTR", ttl: otherTtl, data: this.instance },
      { name: this.instance, type: "SRV", ttl: hostTtl, flush: true, data: { port: this.options.udpPort, target: this.hostName, priority: 0, weight: 0 } },
      { name: this.instance, type: "TXT", ttl: otherTtl, flush: true, data: txt },
    ];
    const additionals: Answer[] = [
      { name: servicesMeta, type: "PTR", ttl: otherTtl, data: serviceType },
      ...this.addresses.filter((a) => isIPv4(a)).map((a): Answer => ({ name: this.hostName, type: "A", ttl: hostTtl, flush: true, data: a })),
      ...this.addresses.filter((a) => isIPv6(a)).map((a): Answer => ({ name: this.hostName, type: "AAAA", ttl: hostTtl, flush: true, data: a })),
    ];
    return { answers, additionals };
  }

  // ---- receiving ----

  private receiveQuery(packet: Packet, rinfo: { address: string; port: number }): void {
    if (this.stopped || this.mdns === null) return;
    const questions = packet.questions ?? [];
    const names = new Set([serviceType, servicesMeta, this.instance, this.hostName, probeMarker].map((n) => n.toLowerCase()));
    if (!questions.some((q) => names.has(q.name.toLowerCase()))) return;
    const isProbe = questions.some((q) => q.name.toLowerCase() === probeMarker);
    if ((isProbe || !this.multicast || rinfo.port !== this.mdnsPort) && this.unicastAllowed(rinfo)) {
      this.mdns.respond(this.records(120), { address: rinfo.address, port: rinfo.port });
      const key = `${rinfo.address}:${rinfo.port}`;
      this.probers.delete(key);
      this.probers.set(key, { host: rinfo.address, port: rinfo.port });
      if (this.probers.size > probeTargetsMax) this.probers.delete(this.probers.keys().next().value as string);
      if (isProbe) return;
    }
    const nowMs = this.now();
    if (this.multicast && nowMs - this.lastAnswerMs >= queryAnswerIntervalMsMin) {
      this.lastAnswerMs = nowMs;
      this.announce();
    }
  }

  /**
   * Whether to answer a unicast query from this source now. Each source (address and port, where
   * the answer goes) has its own budget per second, so one noisy source cannot use up the answers
   * that real peers need; and all sources together are capped, so spoofed queries from many
   * addresses cannot turn this node into a reflector. Configured targets (static peers, DNS
   * names) skip the shared cap: they are always answered within their own budget. A query that
   * spoofs one of them only sends that peer the answers it would get anyway.
   */
  private unicastAllowed(source: { address: string; port: number }): boolean {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.unicastSecond) {
      this.unicastSecond = second;
      this.unicastAnswers = 0;
      this.unicastPerSource.clear();
    }
    const key = `${source.address}:${source.port}`;
    const answered = this.unicastPerSource.get(key) ?? 0;
    if (answered >= unicastAnswersPerSourcePerSecondMax) return false;
    const configured = this.isConfigured(source);
    if (!configured && this.unicastAnswers >= unicastAnswersPerSecondMax) return false;
    if (!this.unicastPerSource.has(key) && this.unicastPerSource.size >= unicastSourcesPerSecondMax) {
      if (!configured) return false;
    }
    this.unicastPerSource.set(key, answered + 1);
    if (!configured) this.unicastAnswers += 1;
    return true;
  }

  private receiveResponse(packet: Packet, source: string): void {
    if (this.stopped) return;
    for (const record of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
      if (record.type !== "TXT" || !record.name.toLowerCase().endsWith(`.${serviceType}`)) continue;
      const data = record.data as unknown;
      const txt = Array.isArray(data) ? (data as Array<string | Uint8Array>) : [data as string | Uint8Array];
      this.receiveBeacon(txt, record.ttl ?? 0, source);
    }
  }

  private receiveBeacon(txt: Array<string | Uint8Array>, ttl: number, source: string): void {
    const opened = openBeacon(txt, this.options.keys);
    if (!opened.ok) {
      this.drops.drop({
        peer: opened.nodeId ?? source,
        reason: opened.reason,
        address: source,
        authenticated: opened.authenticated && opened.nodeId !== undefined,
        ...(opened.version === undefined ? {} : { version: opened.version }),
      });
      return;
    }
    const beacon = opened.beacon;
    if (beacon.nodeId === this.nodeId) return;
    const refused = this.guard.check(beacon);
    if (refused !== null) {
      this.drops.drop({ peer: beacon.nodeId, reason: refused, address: source, authenticated: true });
      return;
    }
    // Only the signed goodbye counts; a TTL of 0 on an announcement is someone's edit.
    if (beacon.goodbye) {
      this.table.goodbye(beacon.nodeId);
      return;
    }
    if (ttl === 0) {
      this.drops.drop({ peer: beacon.nodeId, reason: "malformed_body", address: source, authenticated: true });
      return;
    }
    this.table.seen({
      nodeId: beacon.nodeId,
      addresses: peerAddresses(beacon, source),
      udpPort: beacon.udpPort,
      tcpPort: beacon.tcpPort,
      version: beacon.version,
    });
  }

  // ---- DNS ----

  private async resolveDns(): Promise<void> {
    const settings = this.options.dns;
    if (settings == null) return;
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    if (settings.servers !== undefined) resolver.setServers(settings.servers);
    const targets: Target[] = [];
    for (const name of settings.names) {
      try {
        if (name.startsWith("_")) {
          for (const srv of await resolver.resolveSrv(name)) {
            for (const address of await resolveHost(resolver, srv.name)) targets.push({ host: address, port: srv.port });
          }
        } else {
          for (const address of await resolveHost(resolver, name)) targets.push({ host: address, port: this.mdnsPort });
        }
      } catch (error) {
        this.options.log?.(`discovery ${this.nodeId}: DNS name '${name}' did not resolve: ${(error as Error).message}`);
      }
    }
    const own = new Set(this.addresses);
    this.dnsTargets = targets.filter((t) => !(own.has(t.host) && t.port === this.mdnsPort)).slice(0, probeTargetsMax);
  }

  private schedule(fn: () => void, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers = this.timers.filter((t) => t !== timer);
      fn();
    }, delayMs);
    this.timers.push(timer);
  }

  /** An interval jittered by up to a fifth either way, so nodes do not announce in step. */
  private jittered(ms: number): number {
    return ms * (0.8 + 0.4 * this.random());
  }
}

/**
 * Where to reach the node of a beacon: the addresses it signed, or, when it signed none (a node
 * that knows no address of its own to announce, so it sends no A / AAAA records either), the
 * source address of the packet that carried it. The source is not covered by the tag, so it is
 * used only here, for a beacon that passed every check (tag, cluster, time window, fresh nonce):
 * a forged beacon never gets this far, and a captured one relayed from elsewhere is a replay of
 * a nonce already seen. A relay that wins the race with the original can still point peers at
 * itself until the next beacon, but learns nothing by it: the TCP handshake and every frame are
 * authenticated, so it can only drop the traffic, which a relay on the path can do anyway.
 */
function peerAddresses(beacon: Beacon, source: string): readonly string[] {
  return beacon.addresses.length > 0 ? beacon.addresses : [source];
}

/** How often static peers named by host name are resolved again. */
const staticResolveIntervalMs = 60_000;

async function resolveHost(resolver: Resolver, name: string): Promise<string[]> {
  if (isIPv4(name) || isIPv6(name)) return [name];
  const results = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  const addresses = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
  if (addresses.length === 0) throw new Error(`no A or AAAA records for '${name}'`);
  return addresses;
}

function parseTarget(entry: string, defaultPort: number): Target {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1] as string, port: Number(bracketed[2] ?? defaultPort) };
  const parts = entry.split(":");
  if (parts.length === 2) return { host: parts[0] as string, port: Number(parts[1]) };
  assert(entry.length > 0, "a static peer is not empty");
  return { host: entry, port: defaultPort };
}

function allAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal && i.family === "IPv4")
    .map((i) => i.address);
}
