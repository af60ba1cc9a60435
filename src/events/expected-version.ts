// KurrentDB's expected-version rules as one pure function, so every node decides the same.
//
//                      any   no_stream   stream_exists   exact n
//   never written      ok    ok          fail            fail (actual -1)
//   has events (v)     ok    fail        ok              ok iff n == v
//   soft-deleted (v)   ok    ok          fail            ok iff n == v   (numbering continues)
//   hard-deleted       stream_deleted for everything (checked before this function)

import { assert } from "../lib/index.ts";
import type { ExpectedVersion, StreamState } from "./types.ts";

/** True when a stream has events that a reader can see as a stream (not soft-deleted). */
export function streamIsVisible(stream: StreamState): boolean {
  return stream.deletion === "none" && stream.lastVersion >= 0;
}

/** Normalizes -1 to "no_stream"; other numbers stay. */
export function normalizeExpectedVersion(expected: ExpectedVersion): ExpectedVersion {
  return expected === -1 ? "no_stream" : expected;
}

export function expectedVersionMatches(expected: ExpectedVersion, stream: StreamState): boolean {
  assert(stream.deletion !== "hard", "hard-deleted streams are rejected before the version check");
  const e = normalizeExpectedVersion(expected);
  switch (e) {
    case "any":
      return true;
    case "no_stream":
      return !streamIsVisible(stream);
    case "stream_exists":
      return streamIsVisible(stream);
    default:
      assert(Number.isSafeInteger(e) && e >= 0, "exact expected version is validated at the edge");
      return stream.lastVersion === e;
  }
}

/** The version reported as `actual` in a WrongExpectedVersionError. */
export function actualVersion(stream: StreamState): number {
  return stream.lastVersion;
}
