// Helpers of the subscription tests: a store opened through openStore (with subscriptions and
// telemetry attached) in its own temp dir, a manual clock, and waiting for a condition.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore, type OpenStoreOptions, type Store } from "../../../src/index.ts";

export interface TestStore extends AsyncDisposable {
  store: Store;
  dir: string;
  reopen(more?: Partial<OpenStoreOptions>): Promise<Store>;
}

export function testStore(options: Partial<OpenStoreOptions> = {}): TestStore {
  const dir = mkdtempSync(path.join(os.tmpdir(), "edge-esdb-subs-"));
  const handle: TestStore = {
    dir,
    store: openStore({ dataDir: dir, durability: "normal", ...options }),
    async reopen(more = {}) {
      await handle.store.close();
      return (handle.store = openStore({ dataDir: dir, durability: "normal", ...options, ...more }));
    },
    async [Symbol.asyncDispose]() {
      await handle.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Resolves once `condition` holds; fails with `what` after `timeoutMs` (a safety net, not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await Bun.sleep(1);
  }
}

/** A clock the test moves by hand. */
export function manualClock(startMs = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

export function ev(type: string, data: unknown = {}) {
  return { type, data: data as never };
}
