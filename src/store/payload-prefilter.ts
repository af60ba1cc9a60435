// A payload filter as SQL, so that an $all read skips most non-matching events inside SQLite
// instead of building and parsing each one in JavaScript. It is a prefilter: every event that
// matchesPayload accepts passes it, some others may too, and matchesPayload still decides. Where
// SQLite could disagree with JSON.parse (a number's last digit, a lone surrogate, an odd key), a
// field gets no condition rather than one that might drop a match.

import type { JsonValue } from "../events/index.ts";
import { jsonContentType } from "./rows.ts";

export interface PayloadPrefilter {
  /** A condition over `events e`, or null when no field can be checked in SQL. */
  sql: string | null;
  params: Array<string | number>;
  /** Tells apart prefilters whose SQL differs (for caching statements). */
  key: string;
}

/**
 * A number's SQL condition allows this much relative difference: SQLite and JSON.parse read some
 * decimal literals one unit apart in the last place (25 of 200,000 random literals, at most
 * 2e-16 relative, with Bun 1.4's SQLite 3.54).
 */
const numberTolerance = 1e-9;

export function payloadPrefilter(payload: { [path: string]: JsonValue }): PayloadPrefilter {
  const conditions: string[] = [];
  const params: Array<string | number> = [];
  const kinds: string[] = [];
  const visit = (keys: string[], value: JsonValue): void => {
    // A label with a quote or backslash, or an empty one, is left to JavaScript.
    if (keys.some((k) => k === "" || k.includes('"') || k.includes("\\"))) return;
    const path = "$" + keys.map((k) => `."${k}"`).join("");
    if (value === null) {
      conditions.push("json_type(e.data, ?) = 'null'");
      params.push(path);
      kinds.push("z");
    } else if (typeof value === "boolean") {
      conditions.push(`json_type(e.data, ?) = '${value ? "true" : "false"}'`);
      params.push(path);
      kinds.push(value ? "t" : "f");
    } else if (typeof value === "string") {
      if (!value.isWellFormed()) return;
      conditions.push("json_extract(e.data, ?) = ?");
      params.push(path, value);
      kinds.push("s");
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) return;
      conditions.push("abs(json_extract(e.data, ?) - ?) <= ?");
      params.push(path, value, Math.max(1, Math.abs(value)) * numberTolerance);
      kinds.push("n");
    } else if (!Array.isArray(value)) {
      // A nested object matches a subset of the nested data: each of its fields is a path.
      for (const [key, nested] of Object.entries(value)) visit([...keys, key], nested);
    }
    // An array must match element by element: left to JavaScript.
  };
  for (const [path, value] of Object.entries(payload)) visit(path.split("."), value);
  if (conditions.length === 0) return { sql: null, params: [], key: "" };
  // Only JSON stored as text is looked into (json_extract would read a blob as JSONB); an event
  // of another content type never matches a payload filter.
  const sql = `CASE WHEN e.content_type = '${jsonContentType}' AND typeof(e.data) = 'text' THEN ${conditions.join(" AND ")} ELSE e.content_type = '${jsonContentType}' END`;
  return { sql, params, key: kinds.join("") };
}
