// Test helpers: a temp dir per test and a store in it, both cleaned up by `using` / `await using`.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore, type EventStore, type StoreOptions } from "../../src/index.ts";

export function tempDir(prefix = "edge-esdb-test-"): { path: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { path: dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TempStore extends AsyncDisposable {
  store: EventStore;
  dir: string;
  /** Closes and opens the same data dir again. */
  reopen(options?: Partial<StoreOptions>): EventStore;
}

export function tempStore(options: Partial<StoreOptions> = {}): TempStore {
  const dir = mkdtempSync(path.join(os.tmpdir(), "edge-esdb-store-"));
  const handle: TempStore = {
    dir,
    store: openStore({ dataDir: dir, durability: "normal", ...options }),
    reopen(more = {}) {
      return (handle.store = openStore({ dataDir: dir, durability: "normal", ...options, ...more }));
    },
    async [Symbol.asyncDispose]() {
      await handle.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Resolves to the error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected a rejection, but the promise resolved");
}

export function event(type = "Happened", data: unknown = { n: 1 }, id?: string) {
  return id === undefined ? { type, data: data as never } : { id, type, data: data as never };
}
