// `edge-esdb self-check` (hidden): proves a built binary has what it needs on the machine it runs
// on: bun:sqlite works, and cbor-x round-trips on its pure-JS path (build/compile.ts leaves the
// native cbor-extract addon out; cbor-x must then fall back, not fail), and, when NOTIFY_SOCKET
// is set, sd_notify through bun:ffi reaches it (a STATUS= message). Used by test/e2e.

import { Database } from "bun:sqlite";
import type { Command } from "commander";
import { decode, encode, isNativeAccelerationEnabled } from "cbor-x";
import { ExitStatus, printFields, printJson } from "../output.ts";
import { sdNotify } from "../sd-notify.ts";
import { buildCommit, compiled, version } from "../version.ts";
import { wantsJson } from "../context.ts";

export interface SelfCheck {
  version: string;
  commit: string;
  compiled: boolean;
  platform: string;
  arch: string;
  sqliteVersion: string;
  cborRoundTrip: boolean;
  cborNative: boolean;
  /** True when NOTIFY_SOCKET was set and a STATUS= message went out. */
  sdNotify: boolean;
}

export function runSelfCheck(): SelfCheck {
  const db = new Database(":memory:");
  const sqlite = db.query("SELECT sqlite_version() AS v").get() as { v: string };
  db.close();
  const sample = { stream: "order-1", version: 7, bytes: new Uint8Array([1, 2, 3]), nested: [1.5, "ü", null, true] };
  const back = decode(encode(sample)) as typeof sample;
  const cborRoundTrip =
    back.stream === sample.stream &&
    back.version === sample.version &&
    Buffer.from(back.bytes).equals(Buffer.from(sample.bytes)) &&
    JSON.stringify(back.nested) === JSON.stringify(sample.nested);
  return {
    version,
    commit: buildCommit,
    compiled,
    platform: process.platform,
    arch: process.arch,
    sqliteVersion: sqlite.v,
    cborRoundTrip,
    cborNative: isNativeAccelerationEnabled,
    sdNotify: sdNotify(`STATUS=edge-esdb ${version} self-check`),
  };
}

export function registerSelfCheck(program: Command): void {
  program
    .command("self-check", { hidden: true })
    .description("check that this binary's SQLite and CBOR work here")
    .action((_options: unknown, command: Command) => {
      const result = runSelfCheck();
      if (wantsJson(command)) printJson(result);
      else printFields(Object.entries(result).map(([k, v]) => [k, String(v)] as const));
      if (!result.cborRoundTrip) throw new ExitStatus(1);
    });
}
