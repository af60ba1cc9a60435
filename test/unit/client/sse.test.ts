// The client's SSE parser: messages split across chunks, CRLF, comments, multi-line data.

import { expect, test } from "bun:test";
import { parseSse } from "../../../src/client/sse.ts";

async function parse(chunks: string[]) {
  const encoder = new TextEncoder();
  const body = { async *[Symbol.asyncIterator]() { for (const c of chunks) yield encoder.encode(c); } };
  const out = [];
  for await (const message of parseSse(body)) out.push(message);
  return out;
}

test("messages across chunk boundaries, with comments, CRLF and multi-line data", async () => {
  expect(await parse([": hello\n\nid: 4\nda", "ta: {\"a\":1}\n\n", ": keepalive\r\n\r\nid: 5\r\nevent: error\r\ndata: x\r\ndata: y\r\n\r\n", "id: 6\ndata:z\n"])).toEqual([
    { id: "4", event: "message", data: '{"a":1}' },
    { id: "5", event: "error", data: "x\ny" },
  ]);
});

test("a message without data is not dispatched", async () => {
  expect(await parse(["id: 1\n\n", "data: only\n\n"])).toEqual([{ id: null, event: "message", data: "only" }]);
});
