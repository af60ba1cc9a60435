// The write path's decisions as pure functions: given a command and the state it touches, say
// what happens. The same command on the same state gives the same outcome on any node, so a
// replicated log can feed these unchanged. Storage does the reading and writing around them.

import {
  DuplicateEventError,
  EdgeEsdbError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  assert,
} from "../lib/index.ts";
import { actualVersion, expectedVersionMatches, normalizeExpectedVersion, streamIsVisible } from "./expected-version.ts";
import type { AppendResult, ExpectedVersion, PreparedEvent, StoredEventRef, StreamState } from "./types.ts";

export interface AppendCommand {
  kind: "append";
  streamId: string;
  expected: ExpectedVersion;
  events: readonly PreparedEvent[];
}

export interface DeleteCommand {
  kind: "delete";
  streamId: string;
  expected: ExpectedVersion;
  hard: boolean;
}

export type AppendDecision =
  /** Write the events at versions firstVersion.. and positions firstPosition.. */
  | { kind: "write"; firstVersion: number; firstPosition: number; result: AppendResult; stream: StreamState }
  /** An idempotent retry: everything is stored already; answer with the original result. */
  | { kind: "already_written"; result: AppendResult }
  | { kind: "rejected"; error: EdgeEsdbError };

/**
 * Decides an append. `stored[i]` says where `command.events[i].id` is stored already, or null.
 * `nextPosition` is the global position the first new event would get.
 */
export function decideAppend(
  command: AppendCommand,
  stream: StreamState,
  stored: ReadonlyArray<StoredEventRef | null>,
  nextPosition: number,
): AppendDecision {
  assert(stream.streamId === command.streamId, "decideAppend: state of the command's stream");
  assert(stored.length === command.events.length, "decideAppend: one lookup per event");
  assert(command.events.length > 0, "decideAppend: validated appends are not empty");
  assert(nextPosition > stream.lastPosition, "decideAppend: positions only grow");
  if (stream.deletion === "hard") return { kind: "rejected", error: new StreamDeletedError(command.streamId) };

  const found = stored.filter((ref): ref is StoredEventRef => ref !== null);
  if (found.length > 0) return decideRetry(command, stream, stored, found);

  if (!expectedVersionMatches(command.expected, stream)) {
    return { kind: "rejected", error: wrongVersion(command, stream) };
  }
  const firstVersion = stream.lastVersion + 1;
  const count = command.events.length;
  const result = { nextVersion: firstVersion + count - 1, position: nextPosition + count - 1 };
  const next: StreamState = {
    streamId: stream.streamId,
    lastVersion: result.nextVersion,
    lastPosition: result.position,
    truncateBefore: stream.truncateBefore,
    deletion: "none",
  };
  return { kind: "write", firstVersion, firstPosition: nextPosition, result, stream: next };
}

function decideRetry(
  command: AppendCommand,
  stream: StreamState,
  stored: ReadonlyArray<StoredEventRef | null>,
  found: readonly StoredEventRef[],
): AppendDecision {
  const first = found[0] as StoredEventRef;
  if (found.length < stored.length) {
    const missing = stored.findIndex((ref) => ref === null);
    return {
      kind: "rejected",
      error: new DuplicateEventError(
        first.id,
        `append to '${command.streamId}' is partly stored already: event id ${first.id} is stored, event ${missing} is not; a retry must send the same batch`,
      ),
    };
  }
  for (let i = 0; i < found.length; i++) {
    const ref = found[i] as StoredEventRef;
    if (ref.streamId !== command.streamId) {
      return {
        kind: "rejected",
        error: new DuplicateEventError(ref.id, `event id ${ref.id} is stored already, in stream '${ref.streamId}'; event ids are unique for ever`),
      };
    }
    if (ref.version !== first.version + i) {
      return {
        kind: "rejected",
        error: new DuplicateEventError(ref.id, `event ids of this append are stored in '${command.streamId}', but not as one batch in this order`),
      };
    }
  }
  if (!retryIsAtExpectedPlace(command.expected, first.version, stream)) {
    return { kind: "rejected", error: wrongVersion(command, stream) };
  }
  const last = found[found.length - 1] as StoredEventRef;
  return { kind: "already_written", result: { nextVersion: last.version, position: last.position } };
}

/** An idempotent retry must name the place where the batch was written. */
function retryIsAtExpectedPlace(expected: ExpectedVersion, firstVersion: number, stream: StreamState): boolean {
  const e = normalizeExpectedVersion(expected);
  switch (e) {
    case "any":
    case "stream_exists":
      return true;
    case "no_stream":
      return firstVersion === 0 || firstVersion === stream.truncateBefore;
    default:
      return firstVersion === e + 1;
  }
}

export type DeleteDecision =
  | { kind: "delete"; stream: StreamState; position: number }
  | { kind: "rejected"; error: EdgeEsdbError };

/**
 * Decides a delete. A soft delete needs a visible stream and hides its events (a later append
 * continues the numbering). A hard delete leaves a tombstone, also for a stream never written,
 * so the name can never be used again.
 */
export function decideDelete(command: DeleteCommand, stream: StreamState): DeleteDecision {
  assert(stream.streamId === command.streamId, "decideDelete: state of the command's stream");
  if (stream.deletion === "hard") return { kind: "rejected", error: new StreamDeletedError(command.streamId) };
  if (!expectedVersionMatches(command.expected, stream)) {
    return { kind: "rejected", error: wrongVersion(command, stream) };
  }
  if (!command.hard) {
    if (!streamIsVisible(stream)) return { kind: "rejected", error: new StreamNotFoundError(command.streamId) };
    const next: StreamState = { ...stream, deletion: "soft", truncateBefore: stream.lastVersion + 1 };
    return { kind: "delete", stream: next, position: stream.lastPosition };
  }
  const next: StreamState = { ...stream, deletion: "hard", truncateBefore: stream.lastVersion + 1 };
  return { kind: "delete", stream: next, position: stream.lastPosition };
}

function wrongVersion(command: AppendCommand | DeleteCommand, stream: StreamState): WrongExpectedVersionError {
  return new WrongExpectedVersionError(command.streamId, command.expected, actualVersion(stream));
}
