// The socket transport: UDP (Bun.udpSocket) for small messages, TCP (Bun.listen / Bun.connect,
// optionally TLS) for bulk, behind the Transport interface. Every datagram and TCP frame is
// sealed and opened by src/codec (HMAC tags, replay window, handshake), with or without TLS.
//
// One TCP connection per peer pair: both sides dial when they learn of each other, and when two
// connections between the same pair authenticate, both sides keep the one dialed by the lower
// node id and close the other. A lost connection is redialed with back-off and jitter while the
// peer is known. Per peer, a bounded small queue (drops oldest) holds datagrams the socket could
// not take yet, and a bounded bulk queue (senders wait) holds messages for TCP; at most one
// partly written frame per connection waits for the socket to drain.

import type { Socket, TCPSocketListener, udp } from "bun";
import {
  DatagramCodec,
  DropCounter,
  encodeCborView,
  fixedHeaderBytes,
  nodeIdBytes,
  prepareFrame,
  prepareFrameOf,
  tagBytes,
  TcpChannel,
  type Clock,
  type ClusterKeys,
  type LogSink,
  type Message,
  type MessageRegistry,
} from "../codec/index.ts";
import { assert, EdgeEsdbError, limits, TooLargeError } from "../lib/index.ts";
import { Backoff, BulkQueue, SmallQueue } from "./queues.ts";
import type { MessageHandler, PeerAddress, PeerStats, Transport } from "./types.ts";

const { handshakeTimeoutMs, tcpBodyBytesMax, transportPeersMax } = limits;

export interface TlsSettings {
  /** PEM certificate chain and key this node presents. */
  readonly cert: string;
  readonly key: string;
  /**
   * PEM CA that peers' certificates must chain to. Without it the connection is encrypted but
   * the peer's certificate is not checked (the HMAC handshake still authenticates the peer, but
   * a man in the middle could read the traffic): set it when confidentiality matters.
   */
  readonly ca?: string;
}

export interface NetTransportOptions {
  nodeId: string;
  keys: ClusterKeys;
  registry: MessageRegistry;
  /** Address both sockets bind (default all IPv4 addresses). */
  host?: string;
  /** Ports to bind; 0 (the default) lets the kernel pick. */
  udpPort?: number;
  tcpPort?: number;
  tls?: TlsSettings | null;
  log?: LogSink;
  now?: Clock;
  /** Uniform [0, 1) for reconnect jitter. */
  random?: () => number;
  drops?: DropCounter;
}

interface Conn {
  readonly role: "dialer" | "listener";
  /** The other end, "ip:port" (for drop counts and logs). */
  readonly address: string;
  readonly channel: TcpChannel;
  /** The peer this connection is for: the dialed one, or the one that authenticated. */
  peer: string | null;
  socket: Socket<Conn> | null;
  pendingWrite: Uint8Array | null;
  timer: ReturnType<typeof setTimeout> | null;
  closed: boolean;
}

/** A bulk frame waiting in a peer's queue: built, but numbered and tagged only when written. */
interface Outgoing {
  readonly frame: Uint8Array;
}

interface Link {
  readonly peer: string;
  address: PeerAddress | null;
  conn: Conn | null;
  dialing: Conn | null;
  readonly small: SmallQueue<Uint8Array>;
  readonly bulk: BulkQueue<Outgoing>;
  readonly backoff: Backoff;
  reconnectTimer: ReturnType<typeof setTimeout> | null;
}

/** "ip:port", with an IPv6 address in brackets (so drop counting can take the IP back out). */
const hostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

const frameOverheadBytes = (senderBytes: Uint8Array) => fixedHeaderBytes + senderBytes.length + tagBytes;

export class NetTransport implements Transport {
  readonly nodeId: string;
  readonly drops: DropCounter;
  private readonly options: NetTransportOptions;
  private readonly datagrams: DatagramCodec;
  private readonly links = new Map<string, Link>();
  private readonly conns = new Set<Conn>();
  private readonly random: () => number;
  private handler: MessageHandler = () => {};
  private udp!: udp.Socket<"uint8array">;
  private listener!: TCPSocketListener<Conn>;
  private closed = false;
  private failedConnections = 0;
  private readonly senderBytes: Uint8Array;

  private constructor(options: NetTransportOptions) {
    this.options = options;
    this.nodeId = options.nodeId;
    this.random = options.random ?? Math.random;
    this.senderBytes = nodeIdBytes(options.nodeId);
    this.drops = options.drops ?? new DropCounter(options.log ?? ((line) => console.warn(line)), options.now ?? Date.now, `transport ${options.nodeId}`);
    this.datagrams = new DatagramCodec({
      nodeId: options.nodeId,
      keys: options.keys,
      registry: options.registry,
      drops: this.drops,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }

  /** Binds both sockets and returns the running transport (see udpPort / tcpPort for the ports). */
  static async start(options: NetTransportOptions): Promise<NetTransport> {
    const transport = new NetTransport(options);
    await transport.bind();
    return transport;
  }

  get udpPort(): number {
    return this.udp.port;
  }

  get tcpPort(): number {
    return this.listener.port;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  setPeer(peer: string, address: PeerAddress): void {
    assert(peer !== this.nodeId, "a node is not its own peer");
    const link = this.linkFor(peer);
    if (link === null) return;
    const moved = link.address !== null && (link.address.host !== address.host || link.address.tcpPort !== address.tcpPort);
    link.address = address;
    if (moved && link.conn !== null && link.conn.role === "dialer") this.closeConn(link.conn);
    if (link.conn === null && link.dialing === null) this.dial(link);
  }

  removePeer(peer: string): void {
    const link = this.links.get(peer);
    if (link === undefined) return;
    this.links.delete(peer);
    this.retire(link, new EdgeEsdbError("unavailable", `peer '${peer}' was removed`));
  }

  send(peer: string, message: Message): Promise<void> {
    if (this.closed) return Promise.reject(new EdgeEsdbError("unavailable", "the transport is closed"));
    const link = this.links.get(peer);
    if (link === undefined || (link.address === null && link.conn === null)) {
      return Promise.reject(new EdgeEsdbError("unavailable", `no address for peer '${peer}'`));
    }
    const type = this.options.registry.require(message.type);
    assert(type.validate(message.body), `message of type ${type.name} is valid`);
    let frame: Uint8Array;
    if (type.sizeClass === "small") {
      // A view of the encoder's buffer, copied into the datagram or frame right here.
      const body = encodeCborView(message.body);
      const datagram = link.address === null ? null : this.datagrams.sealTo(link.peer, message, body);
      if (datagram !== null) {
        this.sendDatagram(link, datagram);
        return Promise.resolve();
      }
      frame = prepareFrame(message.type, this.options.keys.clusterId, this.nodeId, body, this.senderBytes);
    } else {
      // Encoded straight into the frame: the body is written once.
      frame = prepareFrameOf(message.type, this.options.keys.clusterId, this.nodeId, message.body, this.senderBytes);
    }
    const bodyBytes = frame.length - frameOverheadBytes(this.senderBytes);
    if (bodyBytes > tcpBodyBytesMax) {
      return Promise.reject(new TooLargeError(`message ${type.name}`, "tcpBodyBytesMax", tcpBodyBytesMax, bodyBytes));
    }
    const queued = link.bulk.push({ frame }, frame.length);
    if (link.conn !== null) this.pump(link);
    else if (link.dialing === null && link.reconnectTimer === null) this.dial(link);
    return queued;
  }

  peerStats(peer: string): PeerStats | null {
    const link = this.links.get(peer);
    if (link === undefined) return null;
    return {
      connected: link.conn !== null,
      smallQueued: link.small.length,
      smallDropped: link.small.dropped,
      bulkQueued: link.bulk.length,
      bulkQueuedBytes: link.bulk.bytes,
      bulkWaiters: link.bulk.waiters,
    };
  }

  /** TCP connections that closed before their handshake completed (refused, failed, timed out). */
  get unauthenticatedCloses(): number {
    return this.failedConnections;
  }

  /** TCP connections open now (authenticated or still in their handshake). */
  get openConnections(): number {
    return this.conns.size;
  }

  /** True when an authenticated TCP connection to the peer is up. */
  isConnected(peer: string): boolean {
    return this.links.get(peer)?.conn != null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) this.retire(link, new EdgeEsdbError("unavailable", "the transport is closed"));
    this.links.clear();
    this.listener.stop(true);
    this.udp.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- UDP ----

  private async bind(): Promise<void> {
    const host = this.options.host ?? "0.0.0.0";
    this.udp = await Bun.udpSocket({
      hostname: host,
      port: this.options.udpPort ?? 0,
      binaryType: "uint8array",
      socket: {
        data: (_socket, data, port, address) => this.receiveDatagram(data, address, port),
        drain: () => {
          for (const link of this.links.values()) this.flushSmall(link);
        },
        // ICMP errors (a peer's port closed: ECONNREFUSED on the error queue) are normal for
        // UDP: the datagram is lost, raft resends. Without this handler they end the process.
        error: () => {},
      },
    });
    const tls = this.options.tls ?? null;
    this.listener = Bun.listen<Conn>({
      hostname: host,
      port: this.options.tcpPort ?? 0,
      ...(tls === null ? {} : { tls: { cert: tls.cert, key: tls.key } }),
      socket: this.socketHandlers(),
    });
  }

  private receiveDatagram(data: Uint8Array, address: string, port: number): void {
    if (this.closed) return;
    // A copy (the message may keep views into it), made on its own ArrayBuffer: the codec reads
    // it through DataViews, and asking a fresh slice() for its .buffer costs JSC an allocation
    // per datagram (a fifth of open() in a profile).
    const copy = new Uint8Array(new ArrayBuffer(data.byteLength));
    copy.set(data);
    const opened = this.datagrams.open(copy, hostPort(address, port));
    if (opened.ok) this.handler(opened.sender, opened.message);
  }

  private sendDatagram(link: Link, datagram: Uint8Array): void {
    if (link.small.length > 0) {
      link.small.push(datagram);
      this.flushSmall(link);
      return;
    }
    if (!this.trySendDatagram(link, datagram)) link.small.push(datagram);
  }

  private flushSmall(link: Link): void {
    for (;;) {
      const next = link.small.shift();
      if (next === undefined) return;
      if (!this.trySendDatagram(link, next)) {
        link.small.unshift(next);
        return;
      }
    }
  }

  private trySendDatagram(link: Link, datagram: Uint8Array): boolean {
    const address = link.address as PeerAddress;
    try {
      return this.udp.send(datagram, address.udpPort, address.host);
    } catch {
      return true; // an unroutable address: the datagram is lost, as UDP may lose it anyway
    }
  }

  // ---- TCP ----

  private socketHandlers() {
    return {
      open: (socket: Socket<Conn>) => {
        // Frames are written whole, often as the tail of a partial write: Nagle's algorithm would
        // hold such a tail back until the peer's delayed ACK (tens of milliseconds).
        socket.setNoDelay(true);
        if (socket.data === undefined) {
          // An accepted connection: the listener side of a handshake.
          socket.data = this.newConn("listener", null, hostPort(socket.remoteAddress, socket.remotePort));
          socket.data.socket = socket;
          this.startHandshakeTimer(socket.data);
        } else {
          socket.data.socket = socket;
          this.startHandshakeTimer(socket.data);
          this.write(socket.data, socket.data.channel.start());
        }
        if (this.closed) socket.terminate();
      },
      data: (socket: Socket<Conn>, chunk: Uint8Array) => this.receiveBytes(socket.data, chunk),
      drain: (socket: Socket<Conn>) => this.drain(socket.data),
      close: (socket: Socket<Conn>) => this.connClosed(socket.data),
      error: (socket: Socket<Conn>) => {
        if (socket.data !== undefined) this.closeConn(socket.data);
      },
      connectError: (socket: Socket<Conn>) => {
        if (socket.data !== undefined) this.connClosed(socket.data);
      },
      binaryType: "uint8array" as const,
    };
  }

  private newConn(role: "dialer" | "listener", peer: string | null, address: string): Conn {
    const conn: Conn = {
      role,
      address,
      channel: new TcpChannel({
        role,
        nodeId: this.nodeId,
        keys: this.options.keys,
        registry: this.options.registry,
        drops: this.drops,
        udpSequence: () => this.datagrams.sequence,
        udpRun: this.datagrams.run,
        address,
        ...(peer === null ? {} : { peer }),
      }),
      peer,
      socket: null,
      pendingWrite: null,
      timer: null,
      closed: false,
    };
    this.conns.add(conn);
    return conn;
  }

  private dial(link: Link): void {
    if (this.closed || link.address === null || link.conn !== null || link.dialing !== null) return;
    if (link.reconnectTimer !== null) {
      clearTimeout(link.reconnectTimer);
      link.reconnectTimer = null;
    }
    const conn = this.newConn("dialer", link.peer, hostPort(link.address.host, link.address.tcpPort));
    link.dialing = conn;
    const tls = this.options.tls ?? null;
    Bun.connect<Conn>({
      hostname: link.address.host,
      port: link.address.tcpPort,
      data: conn,
      ...(tls === null
        ? {}
        : { tls: tls.ca === undefined ? { rejectUnauthorized: false } : { ca: tls.ca, rejectUnauthorized: true } }),
      socket: this.socketHandlers(),
    }).catch(() => this.connClosed(conn));
  }

  private startHandshakeTimer(conn: Conn): void {
    conn.timer = setTimeout(() => {
      conn.timer = null;
      if (!conn.channel.session.isOpen && !conn.closed) {
        this.drops.drop({ peer: conn.peer ?? "unknown", reason: "handshake_failed", address: conn.address });
        this.closeConn(conn);
      }
    }, handshakeTimeoutMs);
  }

  private receiveBytes(conn: Conn, chunk: Uint8Array): void {
    if (conn.closed) return;
    const out = conn.channel.receiveBytes(chunk);
    for (const frame of out.writes) this.write(conn, frame);
    if (out.established !== null) this.established(conn, out.established.peer, out.established.peerUdpSequence, out.established.peerUdpRun);
    if (out.failed !== null) {
      this.closeConn(conn);
      return;
    }
    const peer = conn.peer;
    if (peer === null || conn.closed) return;
    for (const message of out.messages) this.handler(peer, message);
  }

  private established(conn: Conn, peer: string, peerUdpSequence: number, peerUdpRun: number | undefined): void {
    if (conn.timer !== null) clearTimeout(conn.timer);
    conn.timer = null;
    conn.peer = peer;
    this.datagrams.replay.resync(peer, peerUdpSequence, peerUdpRun);
    const link = this.linkFor(peer);
    if (link === null) return this.closeConn(conn);
    if (link.dialing === conn) link.dialing = null;
    const existing = link.conn;
    if (existing !== null && existing !== conn && !existing.closed) {
      const lowerDials = this.nodeId < peer ? "dialer" : "listener";
      if (conn.role !== lowerDials) return this.closeConn(conn);
      link.conn = null;
      this.closeConn(existing);
    }
    link.conn = conn;
    link.backoff.reset();
    this.pump(link);
  }

  private pump(link: Link): void {
    const conn = link.conn;
    if (conn === null || conn.closed) return;
    while (conn.pendingWrite === null) {
      const next = link.bulk.shift();
      if (next === undefined) return;
      this.write(conn, conn.channel.session.sealPrepared(next.frame));
    }
  }

  private write(conn: Conn, frame: Uint8Array): void {
    const socket = conn.socket;
    if (socket === null || conn.closed) return;
    if (conn.pendingWrite !== null) {
      const joined = new Uint8Array(conn.pendingWrite.length + frame.length);
      joined.set(conn.pendingWrite);
      joined.set(frame, conn.pendingWrite.length);
      conn.pendingWrite = joined;
      return;
    }
    const written = socket.write(frame);
    if (written < frame.length) conn.pendingWrite = frame.subarray(Math.max(0, written));
  }

  private drain(conn: Conn): void {
    const pending = conn.pendingWrite;
    if (pending === null || conn.socket === null) return;
    const written = conn.socket.write(pending);
    conn.pendingWrite = written < pending.length ? pending.subarray(Math.max(0, written)) : null;
    if (conn.pendingWrite === null && conn.peer !== null) {
      const link = this.links.get(conn.peer);
      if (link !== undefined && link.conn === conn) this.pump(link);
    }
  }

  private closeConn(conn: Conn): void {
    if (conn.closed) return;
    conn.socket?.end();
    this.connClosed(conn);
  }

  private connClosed(conn: Conn | undefined): void {
    if (conn === undefined || conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    if (!conn.channel.session.isOpen) this.failedConnections += 1;
    conn.pendingWrite = null;
    if (conn.timer !== null) clearTimeout(conn.timer);
    conn.timer = null;
    const link = conn.peer === null ? undefined : this.links.get(conn.peer);
    if (link === undefined) return;
    if (link.conn === conn) link.conn = null;
    if (link.dialing === conn) link.dialing = null;
    if (!this.closed && link.conn === null && link.dialing === null) this.scheduleReconnect(link);
  }

  private scheduleReconnect(link: Link): void {
    if (link.address === null || link.reconnectTimer !== null) return;
    link.reconnectTimer = setTimeout(() => {
      link.reconnectTimer = null;
      if (this.links.get(link.peer) === link) this.dial(link);
    }, link.backoff.next());
  }

  private linkFor(peer: string): Link | null {
    const existing = this.links.get(peer);
    if (existing !== undefined) return existing;
    if (this.links.size >= transportPeersMax) return null;
    const link: Link = {
      peer,
      address: null,
      conn: null,
      dialing: null,
      small: new SmallQueue<Uint8Array>(),
      bulk: new BulkQueue<Outgoing>(),
      backoff: new Backoff(this.random),
      reconnectTimer: null,
    };
    this.links.set(peer, link);
    return link;
  }

  private retire(link: Link, error: Error): void {
    if (link.reconnectTimer !== null) clearTimeout(link.reconnectTimer);
    link.reconnectTimer = null;
    link.small.clear();
    link.bulk.clear(error);
    const conns = [link.conn, link.dialing];
    link.conn = null;
    link.dialing = null;
    for (const conn of conns) if (conn !== null) this.closeConn(conn);
  }
}
