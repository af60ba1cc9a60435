// Typed errors with a stable `code` string. Callers (the library's users, the HTTP gateway, the
// CLI, the client) branch on `code`, never on the message, so codes never change once shipped.

export type ErrorCode =
  | "wrong_expected_version"
  | "stream_not_found"
  | "stream_deleted"
  | "invalid_argument"
  | "too_large"
  | "duplicate_event"
  | "not_found"
  | "already_exists"
  | "store_locked"
  | "store_closed"
  | "read_only"
  | "no_quorum"
  | "not_leader"
  | "unavailable"
  | "storage_full"
  | "corrupt"
  | "internal";

export class EdgeEsdbError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  toJSON(): { error: ErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}

/** An expected version as the caller gave it, for the error's report. */
export type ExpectedVersionReport = "any" | "no_stream" | "stream_exists" | number;

export class WrongExpectedVersionError extends EdgeEsdbError {
  readonly streamId: string;
  readonly expected: ExpectedVersionReport;
  /** The stream's last version (a soft-deleted stream keeps its last version), or -1 when it was never written. */
  readonly actual: number;
  constructor(streamId: string, expected: ExpectedVersionReport, actual: number) {
    super(
      "wrong_expected_version",
      `stream '${streamId}': expected version ${String(expected)}, actual ${actual}`,
    );
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }

  override toJSON(): { error: ErrorCode; message: string; expected: ExpectedVersionReport; actual: number } {
    return { ...super.toJSON(), expected: this.expected, actual: this.actual };
  }
}

export class StreamNotFoundError extends EdgeEsdbError {
  readonly streamId: string;
  constructor(streamId: string) {
    super("stream_not_found", `stream '${streamId}' not found`);
    this.streamId = streamId;
  }
}

export class StreamDeletedError extends EdgeEsdbError {
  readonly streamId: string;
  constructor(streamId: string) {
    super("stream_deleted", `stream '${streamId}' is deleted for good (hard delete)`);
    this.streamId = streamId;
  }
}

export class InvalidArgumentError extends EdgeEsdbError {
  constructor(message: string) {
    super("invalid_argument", message);
  }
}

export class TooLargeError extends EdgeEsdbError {
  readonly limitName: string;
  readonly limit: number;
  readonly actual: number;
  constructor(what: string, limitName: string, limit: number, actual: number) {
    super("too_large", `${what} is ${actual}, over the limit ${limitName} = ${limit}`);
    this.limitName = limitName;
    this.limit = limit;
    this.actual = actual;
  }
}

export class DuplicateEventError extends EdgeEsdbError {
  readonly eventId: string;
  constructor(eventId: string, message: string) {
    super("duplicate_event", message);
    this.eventId = eventId;
  }

  override toJSON(): { error: ErrorCode; message: string; eventId: string } {
    return { ...super.toJSON(), eventId: this.eventId };
  }
}

export class NotFoundError extends EdgeEsdbError {
  constructor(message: string) {
    super("not_found", message);
  }
}

export class AlreadyExistsError extends EdgeEsdbError {
  constructor(message: string) {
    super("already_exists", message);
  }
}

export class StoreLockedError extends EdgeEsdbError {
  constructor(path: string, holder: string) {
    super("store_locked", `store '${path}' is already open for writing (${holder})`);
  }
}

export class StoreClosedError extends EdgeEsdbError {
  constructor() {
    super("store_closed", "the store is closed");
  }
}

export class ReadOnlyError extends EdgeEsdbError {
  constructor(what: string) {
    super("read_only", `${what}: the store is open read-only`);
  }
}

export class NoQuorumError extends EdgeEsdbError {
  constructor(message = "no quorum: the cluster cannot commit writes now") {
    super("no_quorum", message);
  }
}

export class StorageFullError extends EdgeEsdbError {
  constructor(cause: unknown) {
    super("storage_full", "the disk is full: nothing was written", { cause });
  }
}

export class CorruptError extends EdgeEsdbError {
  constructor(message: string) {
    super("corrupt", message);
  }
}

export function isEdgeEsdbError(error: unknown): error is EdgeEsdbError {
  return error instanceof EdgeEsdbError;
}
