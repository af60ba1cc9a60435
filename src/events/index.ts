// The event-store domain, pure: types, validation, expected-version rules, the write path's
// decisions, retention and filters. No I/O, no clock, no randomness: callers pass them in.
export * from "./types.ts";
export * from "./validate.ts";
export * from "./expected-version.ts";
export * from "./apply.ts";
export * from "./retention.ts";
export * from "./filters.ts";
