// CBOR bodies with cbor-x on its pure-JS path ("cbor-x/encode" and "cbor-x/decode" never load the
// native cbor-extract addon, which compiled cross-arch binaries do not have). Before cbor-x sees a
// body, a small scan checks that it is well-formed, definite-length, tag-free CBOR whose declared
// lengths fit in the bytes at hand and whose nesting is bounded: a lying length cannot make the
// decoder allocate a huge array, and deep nesting cannot overflow the stack.

import { Encoder } from "cbor-x/encode";
import { Decoder } from "cbor-x/decode";
import { limits } from "../lib/index.ts";

const { cborDepthMax } = limits;

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });
// cbor-x keeps its output buffer and position in module state shared by every Encoder: an
// encode appends after the previous one, and a full buffer is replaced by a fresh one, so a view
// it returned is never written again. encodeCborInto points that shared state at a caller's
// buffer, then at a fresh buffer again, keeping that promise for every encoder. (useBuffer is
// cbor-x API, missing from its typings; the buffer must be a Buffer: cbor-x calls utf8Write.)
const placingEncoder = encoder as Encoder & { useBuffer(buffer: Buffer): void };
const scratchBytes = 8192;

/** The CBOR encoding of a body (a fresh copy, safe to keep). */
export function encodeCbor(value: unknown): Uint8Array {
  const encoded = encoder.encode(value);
  // A copy (the encoder reuses its buffer); alloc + set is faster than slice() under Bun.
  const copy = new Uint8Array(encoded.length);
  copy.set(encoded);
  return copy;
}

/**
 * The CBOR encoding of a body as a view of the encoder's buffer: valid only until the next
 * encode, for a caller that copies it at once (into a frame).
 */
export function encodeCborView(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/**
 * Encodes a body into the start of `target` (a frame's body, so the body is never copied). Returns
 * the encoding: a view of `target` when it fit, else a view of a buffer of cbor-x's own, which the
 * caller copies. Bytes of `target` after the encoding may have been written too.
 */
export function encodeCborInto(value: unknown, target: Buffer): Uint8Array {
  placingEncoder.useBuffer(target);
  try {
    return placingEncoder.encode(value);
  } finally {
    placingEncoder.useBuffer(Buffer.allocUnsafeSlow(scratchBytes));
  }
}

/** The decoded body, or null when the bytes are not one well-formed CBOR item this wire accepts. */
export function decodeCbor(bytes: Uint8Array): { value: unknown } | null {
  if (!scanCbor(bytes)) return null;
  try {
    return { value: decoder.decode(bytes) };
  } catch {
    return null;
  }
}

/**
 * True when the bytes are exactly one definite-length CBOR item without tags, nested at most
 * cborDepthMax deep, and every declared length fits in the bytes left. Linear in the length.
 */
export function scanCbor(bytes: Uint8Array): boolean {
  const length = bytes.length;
  let offset = 0;
  // pending[i]: items still to read in the container at depth i (the top level needs one).
  const pending: number[] = [1];
  while (pending.length > 0) {
    const top = pending.length - 1;
    if (pending[top] === 0) {
      pending.pop();
      continue;
    }
    pending[top] = (pending[top] as number) - 1;
    if (offset >= length) return false;
    const initial = bytes[offset] as number;
    offset += 1;
    const major = initial >> 5;
    const info = initial & 0x1f;
    let argument: number;
    if (info < 24) {
      argument = info;
    } else if (info <= 27) {
      const size = 1 << (info - 24);
      if (offset + size > length) return false;
      argument = 0;
      for (let i = 0; i < size; i++) {
        argument = argument * 256 + (bytes[offset + i] as number);
      }
      offset += size;
    } else {
      return false; // reserved (28..30) or indefinite length / break (31)
    }
    switch (major) {
      case 0:
      case 1:
        break;
      case 2:
      case 3:
        if (!Number.isSafeInteger(argument) || argument > length - offset) return false;
        offset += argument;
        break;
      case 4:
      case 5: {
        const items = major === 5 ? argument * 2 : argument;
        if (!Number.isSafeInteger(items) || items > length - offset) return false;
        if (items > 0) {
          if (pending.length >= cborDepthMax) return false;
          pending.push(items);
        }
        break;
      }
      case 6:
        return false; // tags: this wire never sends them
      default:
        // major 7: simple values and floats; the argument bytes were already skipped
        if (info === 24 && argument < 32) return false;
        break;
    }
  }
  return offset === length;
}
