// Shared test fixtures of the wire: a registry with a few message types, cluster keys, and a
// drop counter that records its log lines under a clock the test moves.

import {
  defineMessage,
  deriveClusterKeys,
  DropCounter,
  isBytes,
  isRecord,
  isShortString,
  isUint,
  MessageRegistry,
  type ClusterKeys,
} from "../../../src/codec/index.ts";

export interface Ping { n: number; text: string }
export interface Blob { id: number; data: Uint8Array }

export const pingType = defineMessage<Ping>(
  16,
  "test.ping",
  "small",
  (b): b is Ping => isRecord(b) && isUint(b.n) && isShortString(b.text, 2000),
);
export const blobType = defineMessage<Blob>(
  17,
  "test.blob",
  "bulk",
  (b): b is Blob => isRecord(b) && isUint(b.id) && isBytes(b.data, 40 * 1024 * 1024),
);

export function testRegistry(): MessageRegistry {
  const registry = new MessageRegistry();
  registry.register(pingType);
  registry.register(blobType);
  return registry;
}

export const secretA = "correct horse battery staple A";
export const secretB = "correct horse battery staple B";

export function keys(secret = secretA, previousSecret: string | null = null, clusterName = "test-cluster"): ClusterKeys {
  return deriveClusterKeys({ clusterName, secret, previousSecret });
}

export class TestClock {
  constructor(public ms = 1_800_000_000_000) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function recordingDrops(clock = new TestClock()): { drops: DropCounter; lines: string[]; clock: TestClock } {
  const lines: string[] = [];
  return { drops: new DropCounter((line) => lines.push(line), clock.now), lines, clock };
}
