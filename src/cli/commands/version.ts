// `edge-esdb version`: the version, the commit it was built from, the Bun runtime inside and the
// platform (what a bug report needs). `--version` prints the version alone.

import type { Command } from "commander";
import { wantsJson } from "../context.ts";
import { printFields, printJson } from "../output.ts";
import { buildCommit, compiled, version } from "../version.ts";

export function versionInfo() {
  return { version, commit: buildCommit, compiled, bun: Bun.version, platform: process.platform, arch: process.arch };
}

export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("version, build commit, Bun runtime and platform")
    .action((_options: unknown, command: Command) => {
      const info = versionInfo();
      if (wantsJson(command)) printJson(info);
      else
        printFields([
          ["edge-esdb", info.version],
          ["commit", info.commit],
          ["build", info.compiled ? "compiled binary" : "from sources"],
          ["bun", info.bun],
          ["platform", `${info.platform}-${info.arch}`],
        ]);
    });
}
