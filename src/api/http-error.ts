// The gateway's one error class with a status (Hono's HTTPException), and the mapping from the
// library's stable error codes to statuses. Every error leaves as `{ "error": code, "message" }`,
// plus the fields a client needs to rebuild the library's error (expected and actual for 409).

import { EdgeEsdbError, TooLargeError, type ErrorCode } from "../lib/index.ts";

/** An error that is the gateway's own (auth, routing, HTTP framing), not the store's. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const statusByCode: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: 400,
  read_only: 403,
  stream_not_found: 404,
  not_found: 404,
  wrong_expected_version: 409,
  duplicate_event: 409,
  already_exists: 409,
  stream_deleted: 410,
  too_large: 413,
  corrupt: 500,
  internal: 500,
  store_locked: 503,
  store_closed: 503,
  no_quorum: 503,
  not_leader: 503,
  unavailable: 503,
  storage_full: 507,
};

export interface ErrorBody {
  error: string;
  message: string;
  [field: string]: unknown;
}

/** The status and JSON body for anything a handler threw. Unknown errors are logged: they are bugs. */
export function describeError(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof HttpError) return { status: error.status, body: { error: error.code, message: error.message }, headers: error.headers };
  if (error instanceof EdgeEsdbError) {
    const body: ErrorBody = { ...error.toJSON() };
    const streamId = (error as { streamId?: unknown }).streamId;
    if (typeof streamId === "string") body.streamId = streamId;
    if (error instanceof TooLargeError) Object.assign(body, { limitName: error.limitName, limit: error.limit, actual: error.actual });
    return { status: statusByCode[error.code] ?? 500, body, headers: {} };
  }
  console.error("edge-esdb: unexpected error in the HTTP gateway:", error);
  return { status: 500, body: { error: "internal", message: "internal error (logged by the server)" }, headers: {} };
}

export function errorResponse(error: unknown): Response {
  const { status, body, headers } = describeError(error);
  return Response.json(body, { status, headers });
}
