// The TypeScript client of edge-esdb's HTTP gateway (Bun and Node 20), with the library's errors.
//
//   const client = new EdgeEsdbClient({ socketPath: "/run/edge-esdb/edge-esdb.sock" });
//   await client.append("order-1", "no_stream", [{ type: "OrderPlaced", data: { total: 42 } }]);
//   for await (const event of client.live("order-1")) console.log(event.version, event.type);
export { EdgeEsdbClient, ClientSnapshots, ClientSubscriptions } from "./client.ts";
export type { ClientOptions, LiveRead, ClientDelivery, Consumer } from "./client.ts";
export { HttpStatusError, errorFromResponse } from "./errors.ts";
export type * from "./types.ts";
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
  NoQuorumError,
  isEdgeEsdbError,
  type ErrorCode,
} from "../lib/index.ts";
