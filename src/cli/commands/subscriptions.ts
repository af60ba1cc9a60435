// `edge-esdb subscriptions` and `edge-esdb subscriptions show NAME`: persistent subscriptions and
// their health, read from the data dir read-only (beside a running daemon). Lag is against the
// current head; state and in-flight are what the daemon saved with its last checkpoint.

import type { Command } from "commander";
import { NotFoundError } from "../../lib/index.ts";
import { reportSubscription, reportSubscriptions, type SubscriptionReport } from "../../subscriptions/index.ts";
import { configFor, openForReading, wantsJson } from "../context.ts";
import { printFields, printJson, printTable, shorten } from "../output.ts";

function selectorText(report: SubscriptionReport, width = 40): string {
  const value = Object.values(report.selector as Record<string, unknown>)[0];
  return `${report.selectorType} ${shorten(typeof value === "string" ? value : JSON.stringify(value), width)}`;
}

export function registerSubscriptions(program: Command): void {
  const subscriptions = program
    .command("subscriptions")
    .description("list persistent subscriptions with their health (state, lag, checkpoint, in flight, parked)")
    .action(async (_options: unknown, command: Command) => {
      const config = await configFor(command);
      const store = openForReading(config);
      try {
        const reports = reportSubscriptions(store);
        if (wantsJson(command)) printJson(reports);
        else
          printTable(
            ["NAME", "SELECTOR", "STATE", "LAG", "CHECKPOINT", "LAST ACK", "IN FLIGHT", "PARKED"],
            reports.map((r) => [r.name, selectorText(r), r.state, String(r.lagEvents), String(r.checkpoint), r.lastAckedAt ?? "-", String(r.inFlight), String(r.parkedCount)]),
          );
      } finally {
        await store.close();
      }
    });

  subscriptions
    .command("show")
    .description("one persistent subscription in detail")
    .argument("<name>", "subscription name")
    .action(async (name: string, _options: unknown, command: Command) => {
      const config = await configFor(command);
      const store = openForReading(config);
      try {
        const report = reportSubscription(store, name);
        if (report === null) throw new NotFoundError(`no subscription '${name}'`);
        if (wantsJson(command)) printJson(report);
        else
          printFields([
            ["name", report.name],
            ["selector", selectorText(report, 1000)],
            ["state", `${report.state} (as saved at ${report.savedAt})`],
            ["lag", `${report.lagEvents} events behind head ${report.headPosition}`],
            ["checkpoint", String(report.checkpoint)],
            ["start position", String(report.startPosition)],
            ["last acked", report.lastAckedPosition < 0 ? "-" : `position ${report.lastAckedPosition} at ${report.lastAckedAt ?? "-"}`],
            ["in flight", String(report.inFlight)],
            ["consumers", String(report.consumers)],
            ["parked", `${report.parkedCount} (in $parked-${report.name})`],
            ["settings", JSON.stringify(report.settings)],
            ["created", report.createdAt],
          ]);
      } finally {
        await store.close();
      }
    });
}
