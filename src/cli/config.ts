// The daemon's and CLI's settings: defaults that serve a lone device, then a TOML file, then
// EDGE_ESDB_* environment variables, then flags; later sources win. Every setting is named once
// here, with its type, default, environment variable and validation.

import { existsSync } from "node:fs";
import { InvalidArgumentError, limits } from "../lib/index.ts";
import { decimalIntegerOrNull } from "./arguments.ts";

export interface Config {
  /** Where the store keeps its file. */
  dataDir: string;
  /** "full": an acknowledged append survives power loss; "normal": a process crash only. */
  durability: "full" | "normal";
  /** The daemon's unix socket (issue: HTTP gateway); empty for none. */
  socket: string;
  /** Optional TCP listener of the daemon; empty host for none. */
  host: string;
  port: number;
  /** Bearer token TCP clients must send; required when host is not loopback. Empty for none. */
  token: string;
  /** Request bodies of the HTTP gateway at most, in bytes (413 beyond). */
  bodyBytesMax: number;
  /** A comment line on idle SSE live reads this often. */
  sseHeartbeatIntervalMs: number;
  /** After answering a client that sends request after request, the gateway keeps polling this many µs before it sleeps (0: never). */
  busyPollUs: number;
  logLevel: "debug" | "info" | "warn" | "error";
}

type Setting = {
  key: keyof Config;
  env: string;
  kind: "string" | "number" | "enum";
  values?: readonly string[];
  /** For numbers: the range (default a TCP port's, 0 to 65535). */
  min?: number;
  max?: number;
};

export const settings: readonly Setting[] = [
  { key: "dataDir", env: "EDGE_ESDB_DATA_DIR", kind: "string" },
  { key: "durability", env: "EDGE_ESDB_DURABILITY", kind: "enum", values: ["full", "normal"] },
  { key: "socket", env: "EDGE_ESDB_SOCKET", kind: "string" },
  { key: "host", env: "EDGE_ESDB_HOST", kind: "string" },
  { key: "port", env: "EDGE_ESDB_PORT", kind: "number" },
  { key: "token", env: "EDGE_ESDB_TOKEN", kind: "string" },
  { key: "bodyBytesMax", env: "EDGE_ESDB_BODY_BYTES_MAX", kind: "number", min: 1, max: limits.httpBodyBytesMax },
  { key: "sseHeartbeatIntervalMs", env: "EDGE_ESDB_SSE_HEARTBEAT_INTERVAL_MS", kind: "number", min: 10, max: 3_600_000 },
  { key: "busyPollUs", env: "EDGE_ESDB_BUSY_POLL_US", kind: "number", min: 0, max: limits.httpBusyPollUsMax },
  { key: "logLevel", env: "EDGE_ESDB_LOG_LEVEL", kind: "enum", values: ["debug", "info", "warn", "error"] },
];

export const defaultConfig: Config = {
  dataDir: "./data",
  durability: "full",
  socket: "",
  host: "",
  port: 2113,
  token: "",
  bodyBytesMax: limits.httpBodyBytesDefault,
  sseHeartbeatIntervalMs: limits.sseHeartbeatIntervalMsDefault,
  busyPollUs: limits.httpBusyPollUsDefault,
  logLevel: "info",
};

/** The TOML file read when no --config or EDGE_ESDB_CONFIG names one (used only if it exists). */
export const defaultConfigFile = "/etc/edge-esdb/edge-esdb.toml";

/** TOML keys are snake_case (data_dir); the config's fields are camelCase (dataDir). */
function tomlKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function coerce(setting: Setting, value: unknown, source: string): Config[keyof Config] {
  const where = `${setting.key} (from ${source})`;
  switch (setting.kind) {
    case "string":
      if (typeof value !== "string") throw new InvalidArgumentError(`${where} must be a string, got ${JSON.stringify(value)}`);
      return value;
    case "number": {
      // From the environment or a flag a number is text: decimal digits only (see ../arguments.ts).
      const n = typeof value === "string" ? decimalIntegerOrNull(value) : value;
      const min = setting.min ?? 0;
      const max = setting.max ?? 65_535;
      if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${where} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return n;
    }
    case "enum":
      if (typeof value !== "string" || !(setting.values ?? []).includes(value)) {
        throw new InvalidArgumentError(`${where} must be one of ${(setting.values ?? []).join(", ")}, got ${JSON.stringify(value)}`);
      }
      return value as Config[keyof Config];
  }
}

export interface ConfigSources {
  /** --config, or EDGE_ESDB_CONFIG. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Flags as commander parsed them, camelCase; undefined means not given. */
  flags?: Partial<Record<keyof Config, unknown>>;
}

export async function loadConfig(sources: ConfigSources = {}): Promise<Config> {
  const env = sources.env ?? process.env;
  const config: Record<string, unknown> = { ...defaultConfig };
  // An empty variable counts as unset, as for every EDGE_ESDB_* setting.
  const explicitFile = sources.file ?? (env.EDGE_ESDB_CONFIG === "" ? undefined : env.EDGE_ESDB_CONFIG);
  const file = explicitFile ?? (existsSync(defaultConfigFile) ? defaultConfigFile : undefined);
  if (file !== undefined) {
    if (!existsSync(file)) throw new InvalidArgumentError(`config file '${file}' does not exist`);
    let parsed: Record<string, unknown>;
    try {
      parsed = Bun.TOML.parse(await Bun.file(file).text()) as Record<string, unknown>;
    } catch (error) {
      throw new InvalidArgumentError(`config file '${file}' is not valid TOML: ${(error as Error).message}`);
    }
    const known = new Set(settings.map((s) => tomlKey(s.key)));
    for (const key of Object.keys(parsed)) {
      // Sections ([cluster], ...) belong to later parts of the product; unknown top-level keys are typos.
      if (typeof parsed[key] === "object" && parsed[key] !== null && !Array.isArray(parsed[key])) continue;
      if (!known.has(key)) throw new InvalidArgumentError(`config file '${file}': unknown setting '${key}'`);
    }
    for (const setting of settings) {
      const value = parsed[tomlKey(setting.key)];
      if (value !== undefined) config[setting.key] = coerce(setting, value, file);
    }
  }
  for (const setting of settings) {
    const value = env[setting.env];
    if (value !== undefined && value !== "") config[setting.key] = coerce(setting, value, setting.env);
  }
  for (const setting of settings) {
    const value = sources.flags?.[setting.key];
    if (value !== undefined) config[setting.key] = coerce(setting, value, `--${tomlKey(setting.key).replace(/_/g, "-")}`);
  }
  return config as unknown as Config;
}
