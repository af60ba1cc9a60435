// Helpers of the wire's real-socket tests: nodes on loopback with port 0, a wait for a
// condition (never a fixed sleep), and a throwaway TLS certificate made with openssl.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { NetTransport, type NetTransportOptions } from "../../../src/transport/index.ts";
import type { Message } from "../../../src/codec/index.ts";
import { keys, recordingDrops, testRegistry } from "../../unit/codec/fixtures.ts";

export { waitFor } from "../../helpers/wait.ts";

export interface TestNode {
  transport: NetTransport;
  received: Array<[string, Message]>;
  lines: string[];
}

export async function startNode(nodeId: string, options: Partial<NetTransportOptions> = {}): Promise<TestNode> {
  const { drops, lines } = recordingDrops();
  const received: Array<[string, Message]> = [];
  const transport = await NetTransport.start({
    nodeId,
    keys: keys(),
    registry: testRegistry(),
    host: "127.0.0.1",
    drops,
    ...options,
  });
  transport.onMessage((peer, message) => received.push([peer, message]));
  return { transport, received, lines };
}

export function link(a: TestNode, b: TestNode): void {
  a.transport.setPeer(b.transport.nodeId, { host: "127.0.0.1", udpPort: b.transport.udpPort, tcpPort: b.transport.tcpPort });
  b.transport.setPeer(a.transport.nodeId, { host: "127.0.0.1", udpPort: a.transport.udpPort, tcpPort: a.transport.tcpPort });
}

/** A self-signed certificate for 127.0.0.1 in a temp dir, removed on dispose. */
export function throwawayCert(): { cert: string; key: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "edge-esdb-tls-"));
  const result = Bun.spawnSync([
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"), "-days", "1",
    "-subj", "/CN=edge-esdb-test", "-addext", "subjectAltName=IP:127.0.0.1",
  ]);
  if (result.exitCode !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
  return {
    cert: readFileSync(path.join(dir, "cert.pem"), "utf8"),
    key: readFileSync(path.join(dir, "key.pem"), "utf8"),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}
