// The transport's public face: the Transport interface, the socket transport (UDP + TCP with
// optional TLS) and the in-memory transport for tests and the simulator.
export type { MessageHandler, PeerAddress, PeerStats, Transport } from "./types.ts";
export { NetTransport, type NetTransportOptions, type TlsSettings } from "./net-transport.ts";
export { MemoryNetwork, MemoryTransport, type InFlight, type MemoryNetworkOptions } from "./memory-transport.ts";
export { Backoff, BulkQueue, SmallQueue } from "./queues.ts";
