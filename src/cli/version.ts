// The program's version: stamped in by build/compile.ts (`define`) in the compiled binaries;
// package.json's when run from the sources. The commit is the build's git commit, or "dev".
import packageJson from "../../package.json" with { type: "json" };

declare const EDGE_ESDB_VERSION: string | undefined;
declare const EDGE_ESDB_COMMIT: string | undefined;

export const version: string = typeof EDGE_ESDB_VERSION === "string" ? EDGE_ESDB_VERSION : packageJson.version;
export const buildCommit: string = typeof EDGE_ESDB_COMMIT === "string" ? EDGE_ESDB_COMMIT : "dev";
/** True in a binary made by build/compile.ts. */
export const compiled: boolean = typeof EDGE_ESDB_VERSION === "string";
