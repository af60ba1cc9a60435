// A node and its gateway in this process, on a temp unix socket and TCP port 0, for the API and
// client tests; `await using` stops and removes everything.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startGateway, type Gateway, type GatewayOptions } from "../../../src/api/index.ts";
import { startNode, type EdgeNode } from "../../../src/node/index.ts";

export interface TestGateway extends AsyncDisposable {
  dir: string;
  node: EdgeNode;
  gateway: Gateway;
  socketPath: string;
  /** fetch over the unix socket. */
  unix(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  /** fetch over TCP loopback. */
  tcp(pathAndQuery: string, init?: RequestInit): Promise<Response>;
}

export async function startTestGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "edge-esdb-api-"));
  const node = startNode({ dataDir: dir, durability: "normal", version: "test" });
  const socketPath = path.join(dir, "gw.sock");
  const gateway = await startGateway(node, { socketPath, host: "127.0.0.1", port: 0, ...options });
  return {
    dir,
    node,
    gateway,
    socketPath,
    unix: (p, init = {}) => fetch(`http://localhost${p}`, { ...init, unix: socketPath } as RequestInit),
    tcp: (p, init = {}) => fetch(`${gateway.url}${p}`, init),
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function jsonBody(body: unknown): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** Reads an SSE response's text until `done(text)` holds; returns the text so far. */
export interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
}

export async function readSseUntil(reader: ChunkReader, state: { text: string }, done: (text: string) => boolean): Promise<string> {
  const decoder = new TextDecoder();
  while (!done(state.text)) {
    const chunk = await reader.read();
    if (chunk.done || chunk.value === undefined) throw new Error(`the SSE stream ended before the condition held; got:\n${state.text}`);
    state.text += decoder.decode(chunk.value, { stream: true });
  }
  return state.text;
}

/** The SSE messages' ids and parsed data in `text`. */
export function sseEvents(text: string): Array<{ id: number; data: Record<string, unknown> }> {
  const out: Array<{ id: number; data: Record<string, unknown> }> = [];
  // Only complete messages: the text after the last blank line may be cut mid-message.
  for (const block of text.split("\n\n").slice(0, -1)) {
    const id = /^id: (\d+)$/m.exec(block);
    const data = /^data: (.*)$/m.exec(block);
    if (id !== null && data !== null && !/^event: error$/m.test(block)) out.push({ id: Number(id[1]), data: JSON.parse(data[1] as string) as Record<string, unknown> });
  }
  return out;
}
