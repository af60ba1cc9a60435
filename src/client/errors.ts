// Rebuilds the library's error classes from the gateway's `{ error, message, ... }` bodies, so a
// caller branches on the same `code` (and `instanceof`) with the client as with the library.

import {
  AlreadyExistsError,
  CorruptError,
  DuplicateEventError,
  EdgeEsdbError,
  InvalidArgumentError,
  NoQuorumError,
  NotFoundError,
  StoreClosedError,
  StreamDeletedError,
  StreamNotFoundError,
  TooLargeError,
  WrongExpectedVersionError,
  type ErrorCode,
  type ExpectedVersionReport,
} from "../lib/index.ts";

/** An HTTP error that is not one of the library's (401 unauthorized, 405, a proxy's 502...). */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "HttpStatusError";
    this.status = status;
    this.code = code;
  }
}

const libraryCodes: ReadonlySet<string> = new Set<ErrorCode>([
  "wrong_expected_version", "stream_not_found", "stream_deleted", "invalid_argument", "too_large", "duplicate_event",
  "not_found", "already_exists", "store_locked", "store_closed", "read_only", "no_quorum", "not_leader", "unavailable",
  "storage_full", "corrupt", "internal",
]);

interface ErrorBody {
  error?: unknown;
  message?: unknown;
  streamId?: unknown;
  expected?: unknown;
  actual?: unknown;
  limitName?: unknown;
  limit?: unknown;
  eventId?: unknown;
}

function build(code: ErrorCode, message: string, body: ErrorBody, streamId: string): EdgeEsdbError {
  const stream = typeof body.streamId === "string" ? body.streamId : streamId;
  switch (code) {
    case "wrong_expected_version":
      return new WrongExpectedVersionError(stream, body.expected as ExpectedVersionReport, typeof body.actual === "number" ? body.actual : -1);
    case "stream_not_found":
      return new StreamNotFoundError(stream);
    case "stream_deleted":
      return new StreamDeletedError(stream);
    case "invalid_argument":
      return new InvalidArgumentError(message);
    case "too_large":
      return new TooLargeError("request", String(body.limitName ?? "limit"), Number(body.limit ?? 0), Number(body.actual ?? 0));
    case "duplicate_event":
      return new DuplicateEventError(String(body.eventId ?? ""), message);
    case "not_found":
      return new NotFoundError(message);
    case "already_exists":
      return new AlreadyExistsError(message);
    case "store_closed":
      return new StoreClosedError();
    case "no_quorum":
      return new NoQuorumError(message);
    case "corrupt":
      return new CorruptError(message);
    default:
      return new EdgeEsdbError(code, message);
  }
}

/** The error for a gateway response with status >= 400 and its (JSON, if any) body text. */
export function errorFromResponse(status: number, text: string, streamId = ""): Error {
  let body: ErrorBody = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "object" && parsed !== null) body = parsed as ErrorBody;
  } catch {
    // Not ours (a proxy's page, an empty HEAD answer): fall through with the status alone.
  }
  const message = typeof body.message === "string" ? body.message : `HTTP ${status}${text === "" ? "" : `: ${text.slice(0, 200)}`}`;
  // HEAD answers carry no body: their status alone names the error.
  const bodyless = text === "" && streamId !== "" ? ({ 404: "stream_not_found", 410: "stream_deleted" } as Record<number, string>)[status] : undefined;
  const code = typeof body.error === "string" ? body.error : (bodyless ?? "");
  if (!libraryCodes.has(code)) return new HttpStatusError(status, code === "" ? `http_${status}` : code, message);
  const error = build(code as ErrorCode, message, body, streamId);
  // Keep the server's wording (it may say more than the class's own message).
  error.message = message;
  return error;
}
