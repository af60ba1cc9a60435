// UUID parsing and UUID v7 generation. Generation takes its time and random bytes as arguments,
// so pure code (events/) can validate ids and callers at the edge can make them.

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a UUID in its canonical lower-case 8-4-4-4-12 form. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && uuidPattern.test(value);
}

const hexByte = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The 48-bit time part of the last id made ("xxxxxxxx-xxxx-"), which every id of the same millisecond shares. */
let prefixTimeMs = -1;
let prefix = "";

/**
 * A UUID v7 (RFC 9562) from a millisecond time and 10 random bytes, read from `random` at
 * `offset` (so a caller with a pool of random bytes needs no view per id).
 */
export function uuidV7(timeMs: number, random: Uint8Array, offset = 0): string {
  // Written out byte by byte: this runs once per appended event, so no arrays or iterators.
  const h = (byte: number | undefined): string => hexByte[(byte ?? 0) & 0xff] as string;
  if (timeMs !== prefixTimeMs) {
    const high = Math.floor(timeMs / 0x1_0000_0000);
    const low = timeMs >>> 0;
    prefix = h(high >>> 8) + h(high) + h(low >>> 24) + h(low >>> 16) + "-" + h(low >>> 8) + h(low) + "-";
    prefixTimeMs = timeMs;
  }
  const r = random;
  const o = offset;
  return (
    prefix + h(((r[o] ?? 0) & 0x0f) | 0x70) + h(r[o + 1]) + "-" + h(((r[o + 2] ?? 0) & 0x3f) | 0x80) + h(r[o + 3]) + "-" +
    h(r[o + 4]) + h(r[o + 5]) + h(r[o + 6]) + h(r[o + 7]) + h(r[o + 8]) + h(r[o + 9])
  );
}
