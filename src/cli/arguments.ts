// Integers typed on the command line (and in settings): decimal digits with an optional '-',
// nothing else. Number() alone would take '' and ' ' as 0 and accept '0x1', '1e2', ' 5 ', '1.0'.

import { InvalidArgumentError } from "../lib/index.ts";
import type { ExpectedVersion } from "../events/index.ts";

const decimalInteger = /^-?[0-9]+$/;

/** The integer `text` spells in decimal, or null when it spells none or one beyond the safe range. */
export function decimalIntegerOrNull(text: string): number | null {
  if (!decimalInteger.test(text)) return null;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) return null;
  // "-0" is 0.
  return n === 0 ? 0 : n;
}

/** `value` of option `name` as an integer of at least `min`; an InvalidArgumentError naming both otherwise. */
export function parseInteger(value: string, name: string, min?: number): number {
  const n = decimalIntegerOrNull(value);
  if (n === null || (min !== undefined && n < min)) {
    const wanted = min === undefined ? "an integer" : `an integer >= ${min}`;
    throw new InvalidArgumentError(`${name} must be ${wanted}, got '${value}'`);
  }
  return n;
}

/** An expected version: any, no_stream, stream_exists, or -1 (no stream) or a version. */
export function parseExpectedVersion(value: string, name: string): ExpectedVersion {
  if (value === "any" || value === "no_stream" || value === "stream_exists") return value;
  const n = decimalIntegerOrNull(value);
  if (n === null || n < -1) throw new InvalidArgumentError(`${name} must be any, no_stream, stream_exists, -1 or a version (an integer >= 0), got '${value}'`);
  return n;
}
