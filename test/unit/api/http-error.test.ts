// Every library error code has a status, and the body carries what a client needs to rebuild it.

import { expect, test } from "bun:test";
import { describeError, HttpError, statusByCode } from "../../../src/api/http-error.ts";
import { NoQuorumError, StorageFullError, TooLargeError, WrongExpectedVersionError } from "../../../src/lib/index.ts";

test("statuses by code", () => {
  expect(statusByCode).toMatchObject({ invalid_argument: 400, stream_not_found: 404, not_found: 404, wrong_expected_version: 409, stream_deleted: 410, too_large: 413, no_quorum: 503, storage_full: 507 });
  for (const status of Object.values(statusByCode)) expect(status).toBeGreaterThanOrEqual(400);
});

test("bodies: 503 no_quorum, 409 with expected and actual, 413 with the limit, 507, HttpError, unknown errors", () => {
  expect(describeError(new NoQuorumError())).toEqual({ status: 503, body: { error: "no_quorum", message: expect.stringContaining("no quorum") }, headers: {} });
  expect(describeError(new WrongExpectedVersionError("s", "stream_exists", -1)).body).toEqual({ error: "wrong_expected_version", message: expect.any(String), expected: "stream_exists", actual: -1, streamId: "s" });
  expect(describeError(new TooLargeError("x", "bodyBytesMax", 10, 11))).toMatchObject({ status: 413, body: { error: "too_large", limitName: "bodyBytesMax", limit: 10, actual: 11 } });
  expect(describeError(new StorageFullError(new Error("ENOSPC"))).status).toBe(507);
  expect(describeError(new HttpError(401, "unauthorized", "no", { "www-authenticate": "Bearer" }))).toEqual({ status: 401, body: { error: "unauthorized", message: "no" }, headers: { "www-authenticate": "Bearer" } });
  const original = console.error;
  console.error = () => undefined;
  try {
    expect(describeError(new TypeError("bug"))).toEqual({ status: 500, body: { error: "internal", message: expect.any(String) }, headers: {} });
  } finally {
    console.error = original;
  }
});
