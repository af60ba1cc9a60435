// UUID parsing and UUID v7 generation. Generation takes its time and random bytes as arguments,
// so pure code (events/) can validate ids and callers at the edge can make them.

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a UUID in its canonical lower-case 8-4-4-4-12 form. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && uuidPattern.test(value);
}

const hexByte = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A UUID v7 (RFC 9562) from a millisecond time and at least 10 random bytes. */
export function uuidV7(timeMs: number, random: Uint8Array): string {
  // Written out byte by byte: this runs once per appended event, so no arrays or iterators.
  const high = Math.floor(timeMs / 0x1_0000_0000);
  const low = timeMs >>> 0;
  const h = (byte: number | undefined): string => hexByte[(byte ?? 0) & 0xff] as string;
  const r = random;
  return (
    h(high >>> 8) + h(high) + h(low >>> 24) + h(low >>> 16) + "-" + h(low >>> 8) + h(low) + "-" +
    h(((r[0] ?? 0) & 0x0f) | 0x70) + h(r[1]) + "-" + h(((r[2] ?? 0) & 0x3f) | 0x80) + h(r[3]) + "-" +
    h(r[4]) + h(r[5]) + h(r[6]) + h(r[7]) + h(r[8]) + h(r[9])
  );
}
