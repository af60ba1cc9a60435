// edge-esdb as a library: openStore() and the public types and errors.
//
//   import { openStore } from "edge-esdb";
//   await using store = openStore({ dataDir: "./data" });
//   await store.append("order-1", "no_stream", [{ type: "OrderPlaced", data: { total: 42 } }]);

import { EventStore, type StoreOptions } from "./store/index.ts";

export function openStore(options: StoreOptions): EventStore {
  return EventStore.open(options);
}

export { EventStore, SnapshotStore } from "./store/index.ts";
export type * from "./store/index.ts";
export type {
  AppendResult,
  Direction,
  EventFilter,
  EventInput,
  ExpectedVersion,
  JsonValue,
  RecordedEvent,
  StreamMetadata,
} from "./events/index.ts";
export {
  EdgeEsdbError,
  WrongExpectedVersionError,
  StreamNotFoundError,
  StreamDeletedError,
  InvalidArgumentError,
  TooLargeError,
  DuplicateEventError,
  NotFoundError,
  AlreadyExistsError,
  StoreLockedError,
  StoreClosedError,
  ReadOnlyError,
  NoQuorumError,
  StorageFullError,
  isEdgeEsdbError,
  limits,
  type ErrorCode,
} from "./lib/index.ts";
