// The running node: what `serve` starts and the HTTP gateway talks to. In single mode it is the
// store and nothing else; cluster and auto modes will add Raft, transport and discovery here, so
// the gateway keeps asking the node (never the store's file) and does not change.

import { EventStore, type Durability } from "../store/index.ts";
import { Subscriptions } from "../subscriptions/index.ts";

export type NodeMode = "single";

export interface NodeConfig {
  dataDir: string;
  durability?: Durability;
  /** The program's version, for /v1/node. */
  version?: string;
}

export interface EdgeNode {
  readonly mode: NodeMode;
  readonly version: string;
  readonly dataDir: string;
  /** Where reads and (in single mode) writes go. A cluster node will route writes through Raft. */
  readonly store: EventStore;
  /** Catch-up and persistent subscriptions over the store; they close (saving progress) with it. */
  readonly subscriptions: Subscriptions | null;
  readonly startedAtMs: number;
  /** Writes out what is queued, checkpoints the WAL and releases the data dir lock. */
  close(): Promise<void>;
}

/** Opens the node's store. Throws StoreLockedError when another process has the data dir. */
export function startNode(config: NodeConfig): EdgeNode {
  const store = EventStore.open({ dataDir: config.dataDir, durability: config.durability ?? "full" });
  let closing: Promise<void> | null = null;
  const subscriptions = new Subscriptions(store);
  return {
    mode: "single",
    version: config.version ?? "0.0.0",
    dataDir: store.dataDir,
    store,
    subscriptions,
    startedAtMs: Date.now(),
    close() {
      // The store's close hook closes the subscriptions first (they save their checkpoints).
      closing ??= store.close();
      return closing;
    },
  };
}
