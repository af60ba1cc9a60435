// Discovery's public face: the Discovery service (mDNS / DNS-SD, static peers, DNS), its peer
// table and events, and the signed beacon format.
export { Discovery, serviceType, type DiscoveryOptions, type DnsSettings, type MdnsSettings } from "./discovery.ts";
export { PeerTable, type PeerEvent, type PeerEventName, type PeerInfo } from "./peer-table.ts";
export { BeaconGuard, openBeacon, signBeacon, newNonce, type Beacon, type BeaconCheck } from "./beacon.ts";
export { defaultRouteInterface, resolveInterface, type ResolvedInterface } from "./interfaces.ts";
