// An in-memory transport with the same interface, for tests and the simulator. Every message is
// checked against the registry when sent and goes through CBOR and the type's validator on the
// way, so what arrives is what the real wire would deliver. Delivery is either automatic (a
// microtask per message) or manual: messages wait in `pending` until the test or the simulator
// delivers, drops, reorders or duplicates them, deterministically.

import { decodeCbor, encodeCbor, type Message, type MessageRegistry } from "../codec/index.ts";
import { assert, EdgeEsdbError } from "../lib/index.ts";
import type { MessageHandler, PeerAddress, Transport } from "./types.ts";

export interface InFlight {
  readonly from: string;
  readonly to: string;
  readonly type: number;
  readonly body: Uint8Array;
}

export interface MemoryNetworkOptions {
  registry: MessageRegistry;
  /** true (default): deliver each message in a microtask; false: wait for deliver(). */
  autoDeliver?: boolean;
  /** Messages held in manual mode at most; beyond, the oldest is dropped (and counted). */
  pendingMax?: number;
}

export class MemoryNetwork {
  readonly pending: InFlight[] = [];
  droppedCount = 0;
  /** Return false to drop a message (partitions, loss). */
  filter: (from: string, to: string, message: Message) => boolean = () => true;
  private readonly nodes = new Map<string, MemoryTransport>();
  private readonly options: Required<MemoryNetworkOptions>;

  constructor(options: MemoryNetworkOptions) {
    this.options = { autoDeliver: true, pendingMax: 100_000, ...options };
  }

  get registry(): MessageRegistry {
    return this.options.registry;
  }

  transport(nodeId: string): MemoryTransport {
    assert(!this.nodes.has(nodeId), `node '${nodeId}' is on the network once`);
    const transport = new MemoryTransport(this, nodeId);
    this.nodes.set(nodeId, transport);
    return transport;
  }

  /** Delivers the pending message at index (default the oldest). False when there is none. */
  deliver(index = 0): boolean {
    const [flight] = this.pending.splice(index, 1);
    if (flight === undefined) return false;
    this.arrive(flight);
    return true;
  }

  deliverAll(): number {
    let n = 0;
    while (this.deliver()) n += 1;
    return n;
  }

  /** @internal */
  post(from: string, to: string, message: Message): void {
    if (!this.filter(from, to, message)) {
      this.droppedCount += 1;
      return;
    }
    const flight: InFlight = { from, to, type: message.type, body: encodeCbor(message.body) };
    if (this.options.autoDeliver) {
      queueMicrotask(() => this.arrive(flight));
      return;
    }
    this.pending.push(flight);
    if (this.pending.length > this.options.pendingMax) {
      this.pending.shift();
      this.droppedCount += 1;
    }
  }

  /** @internal */
  has(nodeId: string): boolean {
    return this.nodes.has(nodeId);
  }

  /** @internal */
  remove(nodeId: string): void {
    this.nodes.delete(nodeId);
  }

  private arrive(flight: InFlight): void {
    const target = this.nodes.get(flight.to);
    if (target === undefined) return;
    const decoded = decodeCbor(flight.body);
    const type = this.options.registry.get(flight.type);
    assert(decoded !== null && type !== undefined && type.validate(decoded.value), "what was sent decodes and validates");
    target.receive(flight.from, { type: flight.type, body: decoded.value });
  }
}

export class MemoryTransport implements Transport {
  private handler: MessageHandler = () => {};
  private closed = false;
  readonly peers = new Map<string, PeerAddress>();

  constructor(
    private readonly network: MemoryNetwork,
    readonly nodeId: string,
  ) {}

  send(peer: string, message: Message): Promise<void> {
    assert(this.network.registry.isValid(message), `message of type ${message.type} is registered and valid`);
    if (this.closed) return Promise.reject(new EdgeEsdbError("unavailable", "the transport is closed"));
    if (!this.network.has(peer)) return Promise.reject(new EdgeEsdbError("unavailable", `no peer '${peer}'`));
    this.network.post(this.nodeId, peer, message);
    return Promise.resolve();
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  setPeer(peer: string, address: PeerAddress): void {
    this.peers.set(peer, address);
  }

  removePeer(peer: string): void {
    this.peers.delete(peer);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.network.remove(this.nodeId);
  }

  /** @internal */
  receive(from: string, message: Message): void {
    if (!this.closed) this.handler(from, message);
  }
}
