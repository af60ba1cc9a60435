// The transport's interface, shared by the socket transport and the in-memory one: send a typed
// message to a peer by node id, receive (peer, message). node/ wires raft to it; the simulator
// swaps in the in-memory transport.

import type { Message } from "../codec/index.ts";

export interface PeerAddress {
  /** IPv4 or IPv6 address (or a name the runtime resolves). */
  readonly host: string;
  readonly udpPort: number;
  readonly tcpPort: number;
}

export type MessageHandler = (peer: string, message: Message) => void;

export interface Transport {
  readonly nodeId: string;
  /**
   * Queues a message for a peer. The channel follows the type's size class: small messages go
   * by UDP when their frame fits in a datagram, everything else by the peer's TCP connection.
   * Resolves when the message is queued: at once for small messages (a full small queue drops
   * its oldest), after room frees up for bulk ones (back-pressure). Delivery is best effort:
   * a peer that is down loses what was in flight, and raft resends. Rejects with `unavailable`
   * for an unknown peer, a closed transport, or too many senders already waiting.
   */
  send(peer: string, message: Message): Promise<void>;
  /** Sets the handler of received messages (one handler; a later call replaces it). */
  onMessage(handler: MessageHandler): void;
  /** Adds or moves a peer. */
  setPeer(peer: string, address: PeerAddress): void;
  /** Forgets a peer: its queues are dropped, its waiting senders rejected, its connection closed. */
  removePeer(peer: string): void;
  close(): Promise<void>;
}

export interface PeerStats {
  readonly connected: boolean;
  readonly smallQueued: number;
  readonly smallDropped: number;
  readonly bulkQueued: number;
  readonly bulkQueuedBytes: number;
  readonly bulkWaiters: number;
}
