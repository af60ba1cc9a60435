// Request bodies: the size limit is enforced before anything is parsed, from Content-Length
// when the client sends one and by counting while reading when the body is chunked.

import { InvalidArgumentError, TooLargeError } from "../lib/index.ts";

function tooLarge(bytesMax: number, actual: number): TooLargeError {
  return new TooLargeError("request body in bytes", "bodyBytesMax", bytesMax, actual);
}

/** The body's bytes; throws too_large (413) past `bytesMax` without reading further. */
export async function readBodyText(request: Request, bytesMax: number): Promise<string> {
  const header = request.headers.get("content-length");
  if (header !== null) {
    if (!/^\d{1,15}$/.test(header)) throw new InvalidArgumentError(`Content-Length must be a byte count, got '${header}'`);
    const length = Number(header);
    if (length > bytesMax) throw tooLarge(bytesMax, length);
    // The framing gives exactly `length` bytes: reading them at once is safe and fastest.
    return await request.text();
  }
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > bytesMax) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(bytesMax, total);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString("utf8");
}

/** The body as JSON; empty or malformed JSON is invalid_argument (400). */
export async function readJsonBody(request: Request, bytesMax: number): Promise<unknown> {
  const text = await readBodyText(request, bytesMax);
  if (text.length === 0) throw new InvalidArgumentError("the request needs a JSON body");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidArgumentError(`the body is not valid JSON: ${(error as Error).message}`);
  }
}
