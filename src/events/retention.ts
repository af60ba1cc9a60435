// Which versions of a stream a reader may see, given deletes and retention metadata
// (KurrentDB's $tb, $maxCount and $maxAge). Scavenge removes what falls outside for good.

import type { StreamMetadata, StreamState } from "./types.ts";

/** The first version a reader may see; versions below it are hidden (and scavengeable). */
export function firstVisibleVersion(stream: StreamState, metadata: StreamMetadata): number {
  let first = stream.truncateBefore;
  if (metadata.truncateBefore !== undefined) first = Math.max(first, metadata.truncateBefore);
  if (metadata.maxCount !== undefined) first = Math.max(first, stream.lastVersion + 1 - metadata.maxCount);
  return Math.max(0, first);
}

/** Events created before this time (ms) are hidden by $maxAge; -Infinity when there is none. */
export function oldestVisibleCreatedAtMs(metadata: StreamMetadata, nowMs: number): number {
  return metadata.maxAgeMs === undefined ? Number.NEGATIVE_INFINITY : nowMs - metadata.maxAgeMs;
}
