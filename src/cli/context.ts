// What every command needs: the resolved config and a way to open the store for inspection
// (read-only) or for writing.

import type { Command } from "commander";
import { DataDirLock, EventStore } from "../store/index.ts";
import { loadConfig, type Config } from "./config.ts";

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  durability?: string;
  json?: boolean;
}

export async function configFor(command: Command, flags: Partial<Record<keyof Config, unknown>> = {}): Promise<Config> {
  return configFromOptions(command.optsWithGlobals() as GlobalOptions, flags);
}

/** The config from the global options as parsed (by commander, or by serve's own argv reader). */
export async function configFromOptions(options: GlobalOptions, flags: Partial<Record<keyof Config, unknown>> = {}): Promise<Config> {
  return loadConfig({
    ...(options.config === undefined ? {} : { file: options.config }),
    flags: { dataDir: options.dataDir, durability: options.durability, ...flags },
  });
}

export function wantsJson(command: Command): boolean {
  return (command.optsWithGlobals() as GlobalOptions).json === true;
}

/** Inspection opens the data dir read-only: it works beside a running daemon and changes nothing. */
export function openForReading(config: Config): EventStore {
  return EventStore.open({ dataDir: config.dataDir, readOnly: true });
}

export function openForWriting(config: Config): EventStore {
  return EventStore.open({ dataDir: config.dataDir, durability: config.durability });
}

/** Whether a writer (the daemon, or another CLI write) holds the data dir's lock. */
export function dataDirLockHeld(dataDir: string): boolean | "unknown" {
  return DataDirLock.isHeld(dataDir);
}

/**
 * Takes the data dir's writer lock for a CLI operation that replaces the store's file (restore),
 * so neither a daemon nor a store can open the data dir meanwhile.
 */
export function holdDataDirLock(dataDir: string): Disposable {
  return DataDirLock.acquire(dataDir, "a running edge-esdb daemon or another writer holds its lock: stop it first");
}
