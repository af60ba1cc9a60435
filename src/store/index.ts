// Storage on bun:sqlite: the event store, its schema and migrations, the data-dir lock.
export { EventStore, SnapshotStore } from "./event-store.ts";
export { decodeEvent, encodedSizeBytes } from "./rows.ts";
export type {
  StoreOptions,
  Durability,
  ReadOptions,
  ReadAllOptions,
  StreamSummary,
  StreamsPage,
  Snapshot,
  FoldResult,
  ScavengeResult,
  StoreInfo,
  CommittedAppend,
  CommitListener,
  StoreObserver,
  EncodedEvent,
} from "./event-store.ts";
export { SubscriptionRecords } from "./subscription-records.ts";
export type { SubscriptionRecord, SubscriptionProgress } from "./subscription-records.ts";
export { DataDirLock } from "./lock.ts";
export { storeFileName, lockFileName, schemaVersion, migrations } from "./schema.ts";
