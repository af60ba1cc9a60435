// Discovery beacons: the TXT record of a node's DNS-SD service, signed. Fields (one "key=value"
// string each): id node id, c cluster name, u UDP port, t TCP port, v protocol version, ts time
// (ms since 1970), n nonce (hex), a addresses (comma-separated), h HMAC-SHA256 (hex) with the
// discovery key over all the others in this order. A receiver ignores a beacon with a bad tag,
// another cluster, a time outside its window, or a nonce it has seen (a replay).

import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import {
  hmac,
  isValidNodeId,
  protocolVersionsSupported,
  tagsEqual,
  verifyingKeys,
  type ClusterKeys,
  type DropReason,
} from "../codec/index.ts";
import { limits } from "../lib/index.ts";

const { beaconAddressesMax, beaconNoncesMax, nonceBytes } = limits;

export interface Beacon {
  readonly nodeId: string;
  readonly clusterName: string;
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly version: number;
  readonly timeMs: number;
  readonly nonce: string;
  readonly addresses: readonly string[];
  /**
   * A signed goodbye. A record's TTL is outside the tag, so a TTL of 0 alone proves nothing: an
   * outsider could set it on a beacon it obtained and make peers drop this node.
   */
  readonly goodbye: boolean;
}

const signedKeys = ["id", "c", "u", "t", "v", "ts", "n", "a", "b"] as const;
const encoder = new TextEncoder();

function fieldsOf(beacon: Beacon): Record<(typeof signedKeys)[number], string> {
  return {
    id: beacon.nodeId,
    c: beacon.clusterName,
    u: String(beacon.udpPort),
    t: String(beacon.tcpPort),
    v: String(beacon.version),
    ts: String(beacon.timeMs),
    n: beacon.nonce,
    a: beacon.addresses.join(","),
    b: beacon.goodbye ? "1" : "0",
  };
}

function signature(key: Uint8Array, fields: Record<string, string>): Uint8Array {
  const text = ["edge-esdb beacon v1", ...signedKeys.map((k) => `${k}=${fields[k]}`)].join("\n");
  return hmac(key, encoder.encode(text));
}

export function newNonce(): string {
  return Buffer.from(randomBytes(nonceBytes)).toString("hex");
}

/** The TXT strings of a beacon, signed with the current discovery key. */
export function signBeacon(beacon: Beacon, keys: ClusterKeys): string[] {
  const fields = fieldsOf(beacon);
  const tag = Buffer.from(signature(keys.current.discovery, fields)).toString("hex");
  return [...signedKeys.map((k) => `${k}=${fields[k]}`), `h=${tag}`];
}

export type BeaconCheck =
  | { readonly ok: true; readonly beacon: Beacon }
  | {
      readonly ok: false;
      readonly reason: DropReason;
      readonly nodeId?: string;
      readonly version?: number;
      /** True when the tag verified (the node id is the sender's), false when it is only a claim. */
      readonly authenticated: boolean;
    };

/** Parses and checks TXT strings (time window and nonce are the BeaconGuard's). */
export function openBeacon(txt: readonly (string | Uint8Array)[], keys: ClusterKeys): BeaconCheck {
  const fields = new Map<string, string>();
  for (const entry of txt) {
    const text = typeof entry === "string" ? entry : Buffer.from(entry).toString("utf8");
    const eq = text.indexOf("=");
    if (eq <= 0 || fields.has(text.slice(0, eq))) return { ok: false, reason: "malformed_body", authenticated: false };
    fields.set(text.slice(0, eq), text.slice(eq + 1));
  }
  const id = fields.get("id");
  const nodeId = isValidNodeId(id) ? id : undefined;
  let authenticated = false;
  const bad = (reason: DropReason, version?: number): BeaconCheck =>
    ({ ok: false, reason, authenticated, ...(nodeId === undefined ? {} : { nodeId }), ...(version === undefined ? {} : { version }) });
  for (const k of [...signedKeys, "h"]) if (!fields.has(k)) return bad("malformed_body");
  if (fields.get("c") !== keys.clusterName) return bad("wrong_cluster");
  const tag = Buffer.from(fields.get("h") as string, "hex");
  const record = Object.fromEntries(fields);
  if (tag.length !== 32 || !verifyingKeys(keys, "discovery").some((key) => tagsEqual(signature(key, record), tag))) {
    return bad("bad_tag");
  }
  authenticated = true;
  const udpPort = Number(fields.get("u"));
  const tcpPort = Number(fields.get("t"));
  const version = Number(fields.get("v"));
  const timeMs = Number(fields.get("ts"));
  const nonce = fields.get("n") as string;
  const addressList = fields.get("a") as string;
  const addresses = addressList === "" ? [] : addressList.split(",");
  const goodbyeField = fields.get("b");
  const port = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (nodeId === undefined || !port(udpPort) || !port(tcpPort) || !Number.isSafeInteger(timeMs) || !/^[0-9a-f]{32}$/.test(nonce)) {
    return bad("malformed_body");
  }
  if (addresses.length > beaconAddressesMax || !addresses.every((a) => isIP(a) !== 0)) return bad("malformed_body");
  if (goodbyeField !== "0" && goodbyeField !== "1") return bad("malformed_body");
  if (!Number.isInteger(version) || !protocolVersionsSupported.includes(version)) return bad("unsupported_version", version);
  return { ok: true, beacon: { nodeId, clusterName: keys.clusterName, udpPort, tcpPort, version, timeMs, nonce, addresses, goodbye: goodbyeField === "1" } };
}

/** Refuses stale beacons (outside the window) and replays (a nonce seen before, bounded memory). */
export class BeaconGuard {
  // Insertion order is age order: the oldest nonce is forgotten first.
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  check(beacon: Beacon): DropReason | null {
    const nowMs = this.now();
    if (Math.abs(nowMs - beacon.timeMs) > this.windowMs) return "stale";
    const key = `${beacon.nodeId}/${beacon.nonce}`;
    if (this.seen.has(key)) return "replayed";
    this.seen.set(key, beacon.timeMs);
    while (this.seen.size > beaconNoncesMax) this.seen.delete(this.seen.keys().next().value as string);
    return null;
  }
}
