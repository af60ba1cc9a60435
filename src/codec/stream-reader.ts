// Cuts a TCP byte stream into frames. The header is checked (magic, version, lengths against the
// body limit) as soon as its bytes are in, so a peer cannot make this buffer more than one frame
// of at most tcpBodyBytesMax plus the chunk in hand. Chunks are kept, not copied: a frame that
// lies inside one chunk (the usual case: Bun hands over up to 512 KiB per read) comes out as a
// view of it, and only a frame split across chunks is copied, once.

import { limits } from "../lib/index.ts";
import type { DropReason, FrameHeader } from "./frame.ts";
import { allocFrameBytes, fixedHeaderBytes, readHeader } from "./frame.ts";

const { nodeIdBytesMax } = limits;

export type NextFrame =
  | { readonly kind: "frame"; readonly frame: Uint8Array; readonly header: FrameHeader }
  | { readonly kind: "need_more" }
  | { readonly kind: "error"; readonly reason: DropReason; readonly sender?: string; readonly version?: number };

export class StreamReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private header: FrameHeader | null = null;

  constructor(private bodyBytesMax: number) {}

  /** Raises (or lowers) the largest body accepted from the next frame header on. */
  setBodyBytesMax(bytes: number): void {
    this.bodyBytesMax = bytes;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds received bytes. The reader keeps the chunk itself, and frames (and the message bodies
   * decoded from them) may be views of it: the caller hands it over and never writes to it again.
   * Bun's socket `data` handler passes a fresh buffer each time (test/unit/transport checks it).
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  next(): NextFrame {
    if (this.header === null) {
      const headLength = Math.min(this.buffered, fixedHeaderBytes + nodeIdBytesMax);
      if (headLength < fixedHeaderBytes) return { kind: "need_more" };
      const read = readHeader(this.peek(headLength), this.bodyBytesMax);
      if (!read.ok) {
        if (read.reason === "truncated") return { kind: "need_more" };
        return { kind: "error", ...read };
      }
      this.header = read.header;
    }
    const header = this.header;
    if (this.buffered < header.frameLength) return { kind: "need_more" };
    this.header = null;
    return { kind: "frame", frame: this.take(header.frameLength), header };
  }

  private peek(length: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    if (first.length >= length) return first.subarray(0, length);
    const out = new Uint8Array(length);
    let filled = 0;
    for (const chunk of this.chunks) {
      const n = Math.min(chunk.length, length - filled);
      out.set(chunk.subarray(0, n), filled);
      filled += n;
      if (filled === length) break;
    }
    return out;
  }

  private take(length: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    this.buffered -= length;
    if (first.length >= length) {
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = allocFrameBytes(length); // every byte is written below
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0] as Uint8Array;
      const n = Math.min(chunk.length, length - filled);
      out.set(chunk.subarray(0, n), filled);
      filled += n;
      if (n === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(n);
    }
    return out;
  }
}
