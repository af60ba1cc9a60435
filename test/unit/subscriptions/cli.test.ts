// `edge-esdb subscriptions` and `subscriptions show NAME` on a data dir: a table and --json,
// read-only, with the health the store recorded; a missing name is a one-line not_found.

import { describe, expect, test } from "bun:test";
import { runCli } from "../../helpers/cli.ts";
import { ev, testStore, waitFor } from "./helpers.ts";

describe("edge-esdb subscriptions", () => {
  test("lists subscriptions and shows one, as a table and as JSON", async () => {
    const t = testStore();
    const subs = t.store.subscriptions;
    await subs.create("orders", { selector: { pattern: "order-*" }, settings: { checkpointIntervalMs: 0 } });
    await subs.create("nl", { selector: { payload: { "customer.country": "NL" } }, settings: { retryCountMax: 0 } });
    await t.store.append("order-1", "any", [ev("Placed", { customer: { country: "NL" } }), ev("Paid")]);
    const orders = subs.connect("orders");
    (await orders.next())?.ack();
    (await subs.connect("nl").next())?.nack("park");
    // Parked, and the parked copy (position 2, in a $-stream) passed by the checkpoint.
    await waitFor(() => subs.get("nl").parkedCount === 1 && subs.get("nl").checkpoint === 2, "parked");
    await t.store.close();
    try {
      const d = ["--data-dir", t.dir];
      const table = runCli([...d, "subscriptions"]);
      expect(table.code).toBe(0);
      const lines = table.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^NAME\s+SELECTOR\s+STATE\s+LAG\s+CHECKPOINT\s+LAST ACK\s+IN FLIGHT\s+PARKED$/);
      expect(lines[1]).toMatch(/^nl\s+payload \{"customer.country":"NL"\}\s+paused\s+0\s+2\s+-\s+0\s+1$/);
      expect(lines[2]).toMatch(/^orders\s+pattern order-\*\s+paused\s+2\s+0\s+\S+Z\s+0\s+0$/);
      const json = JSON.parse(runCli([...d, "--json", "subscriptions"]).stdout) as Array<Record<string, unknown>>;
      expect(json.map((r) => [r.name, r.checkpoint, r.lagEvents, r.parkedCount])).toEqual([["nl", 2, 0, 1], ["orders", 0, 2, 0]]);
      const show = runCli([...d, "--json", "subscriptions", "show", "orders"]);
      expect(JSON.parse(show.stdout)).toMatchObject({ name: "orders", selectorType: "pattern", selector: { pattern: "order-*" }, checkpoint: 0, lastAckedPosition: 0, headPosition: 3, startPosition: 0 });
      const human = runCli([...d, "subscriptions", "show", "nl"]).stdout;
      expect(human).toMatch(/^parked\s+1 \(in \$parked-nl\)$/m);
      expect(human).toMatch(/^lag\s+0 events behind head 3$/m);
      expect(runCli([...d, "subscriptions", "show", "nope"])).toMatchObject({ code: 1, stderr: "edge-esdb: not_found: no subscription 'nope'\n" });
    } finally {
      await t[Symbol.asyncDispose]();
    }
  });
});
