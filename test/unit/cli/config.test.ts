// Config precedence: defaults < TOML file < EDGE_ESDB_* environment < flags; clear errors.

import { describe, expect, test } from "bun:test";
import path from "node:path";
import { defaultConfig, loadConfig } from "../../../src/cli/config.ts";
import { tempDir } from "../../helpers/temp.ts";

describe("config", () => {
  test("defaults serve a lone device with its data in ./data", async () => {
    expect(await loadConfig({ env: {} })).toEqual(defaultConfig);
    expect(defaultConfig.dataDir).toBe("./data");
    expect(defaultConfig.durability).toBe("full");
  });

  test("file, then environment, then flags: the later wins", async () => {
    using dir = tempDir();
    const file = path.join(dir.path, "edge-esdb.toml");
    await Bun.write(file, 'data_dir = "/from/file"\ndurability = "normal"\nport = 4000\nlog_level = "warn"\n[cluster]\nname = "later"\n');
    const config = await loadConfig({ file, env: { EDGE_ESDB_DATA_DIR: "/from/env", EDGE_ESDB_PORT: "5000" }, flags: { dataDir: "/from/flag" } });
    expect(config).toMatchObject({ dataDir: "/from/flag", durability: "normal", port: 5000, logLevel: "warn" });
  });

  test("the gateway's busy poll is on by default (100 µs), can be turned off, and has a bound", async () => {
    using dir = tempDir();
    expect(defaultConfig.busyPollUs).toBe(100);
    const file = path.join(dir.path, "edge-esdb.toml");
    await Bun.write(file, "busy_poll_us = 0\n");
    expect((await loadConfig({ file, env: {} })).busyPollUs).toBe(0);
    expect((await loadConfig({ env: { EDGE_ESDB_BUSY_POLL_US: "250" } })).busyPollUs).toBe(250);
    await expect(loadConfig({ env: { EDGE_ESDB_BUSY_POLL_US: "1001" } })).rejects.toThrow(/busyPollUs \(from EDGE_ESDB_BUSY_POLL_US\) must be an integer from 0 to 1000/);
  });

  test("mistakes name the setting and where it came from", async () => {
    using dir = tempDir();
    const file = path.join(dir.path, "bad.toml");
    await Bun.write(file, "dat_dir = 'typo'\n");
    await expect(loadConfig({ file, env: {} })).rejects.toThrow(/unknown setting 'dat_dir'/);
    await Bun.write(file, "port = = 1");
    await expect(loadConfig({ file, env: {} })).rejects.toThrow(/is not valid TOML/);
    await expect(loadConfig({ env: { EDGE_ESDB_PORT: "http" } })).rejects.toThrow(/port \(from EDGE_ESDB_PORT\) must be an integer/);
    await expect(loadConfig({ file: path.join(dir.path, "missing.toml"), env: {} })).rejects.toThrow(/does not exist/);
  });
});
