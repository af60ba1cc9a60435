// The public face of src/raft: Raft as a pure, deterministic state machine. Other folders import
// only this file. Start with RawNode (raw-node.ts) and the Ready/advance protocol it documents.

export { RawNode } from "./raw-node.ts";
export { Raft, type RaftConfig } from "./raft.ts";
export { MemoryStorage, type Storage, type InitialState } from "./storage.ts";
export { messageSizeBytes, messageSizeBytesMax, messageSizeClass } from "./message-size.ts";
export {
  applyConfChange,
  confChangeProblem,
  decodeConfChange,
  encodeConfChange,
  type ConfChange,
  type ConfChangeType,
} from "./conf-change.ts";
export type { Progress, ProgressState } from "./progress.ts";
export * from "./types.ts";
