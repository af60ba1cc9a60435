// Keys of the wire. The shared secret never travels: each purpose (discovery beacons, UDP frames,
// TCP handshakes) gets its own key, derived with HKDF-SHA256 and bound to the cluster name, so a
// tag made for one purpose never verifies for another. Two secrets may be live at once (current
// and previous) while a cluster rotates: sign with the current one, accept either.

import { createHash, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { InvalidArgumentError, limits } from "../lib/index.ts";

const { clusterNameBytesMax, secretBytesMax, secretBytesMin } = limits;

export type KeyPurpose = "discovery" | "udp" | "tcp";

/** Bytes of one HMAC-SHA256 tag. */
export const tagBytes = 32;
/** Bytes of the cluster id carried in every frame header. */
export const clusterIdBytes = 8;

export interface PurposeKeys {
  readonly discovery: Uint8Array;
  readonly udp: Uint8Array;
  readonly tcp: Uint8Array;
}

/** The keys of one cluster: `current` signs, `current` and `previous` verify. */
export interface ClusterKeys {
  readonly clusterName: string;
  readonly clusterId: Uint8Array;
  readonly current: PurposeKeys;
  readonly previous: PurposeKeys | null;
}

export interface ClusterSecrets {
  clusterName: string;
  secret: string | Uint8Array;
  /** The secret being rotated out, still accepted. */
  previousSecret?: string | Uint8Array | null;
}

const encoder = new TextEncoder();

export function deriveClusterKeys(secrets: ClusterSecrets): ClusterKeys {
  validateClusterName(secrets.clusterName);
  const previous = secrets.previousSecret ?? null;
  return {
    clusterName: secrets.clusterName,
    clusterId: clusterIdOf(secrets.clusterName),
    current: derivePurposeKeys(secrets.secret, secrets.clusterName),
    previous: previous === null ? null : derivePurposeKeys(previous, secrets.clusterName),
  };
}

export function validateClusterName(name: string): void {
  const bytes = encoder.encode(name).length;
  if (bytes === 0 || bytes > clusterNameBytesMax || !/^[\x21-\x7e]+$/.test(name) || name.includes("=")) {
    throw new InvalidArgumentError(
      `cluster name '${name}' must be 1..${clusterNameBytesMax} printable ASCII characters without '=' or spaces`,
    );
  }
}

function derivePurposeKeys(secret: string | Uint8Array, clusterName: string): PurposeKeys {
  const ikm = typeof secret === "string" ? encoder.encode(secret) : secret;
  if (ikm.length < secretBytesMin || ikm.length > secretBytesMax) {
    throw new InvalidArgumentError(`the cluster secret must be ${secretBytesMin}..${secretBytesMax} bytes, not ${ikm.length}`);
  }
  const salt = encoder.encode(`edge-esdb cluster ${clusterName}`);
  const key = (purpose: KeyPurpose) => new Uint8Array(hkdfSync("sha256", ikm, salt, `edge-esdb ${purpose} key v1`, 32));
  return { discovery: key("discovery"), udp: key("udp"), tcp: key("tcp") };
}

/** The 8-byte cluster id of a cluster name: a hash, so frames of another cluster are told apart cheaply. */
export function clusterIdOf(clusterName: string): Uint8Array {
  const digest = createHash("sha256").update(`edge-esdb cluster id ${clusterName}`).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, clusterIdBytes).slice();
}

/** HMAC-SHA256 of the parts, in order. Bun's native hasher when there is one, node:crypto
 * elsewhere. Under Bun 1.4.5 on a CPU with SHA-NI both run at the hardware's SHA-256 speed (about
 * 2 GB/s, what `openssl speed sha256` gives), while WebCrypto's async sign is about 30% slower
 * per 64 KiB tag: the tag costs what SHA-256 costs, nothing here to win. */
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  if (bunHasher !== null) {
    const h = new bunHasher("sha256", key);
    for (const part of parts) h.update(part);
    return h.digest() as Uint8Array;
  }
  const h = createHmac("sha256", key);
  for (const part of parts) h.update(part);
  const digest = h.digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}

type Hasher = { update(data: Uint8Array): unknown; digest(): unknown };
const bunHasher: (new (algorithm: "sha256", key: Uint8Array) => Hasher) | null =
  typeof Bun === "undefined" ? null : (Bun.CryptoHasher as unknown as new (algorithm: "sha256", key: Uint8Array) => Hasher);

/** Constant-time comparison of two tags. */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The keys that verify for one purpose: current first, then previous. */
export function verifyingKeys(keys: ClusterKeys, purpose: KeyPurpose): Uint8Array[] {
  return keys.previous === null ? [keys.current[purpose]] : [keys.current[purpose], keys.previous[purpose]];
}
