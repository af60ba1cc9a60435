// /health (200 when ready, 503 while stopping), /metrics (Prometheus text) and /v1/node.

import type { Context } from "./context.ts";

export function health(ctx: Context): Response {
  if (ctx.state.stopping) return Response.json({ status: "stopping" }, { status: 503 });
  return Response.json({ status: "ok", mode: ctx.state.node.mode });
}

export async function metrics(ctx: Context): Promise<Response> {
  // The gateway's own, then the store's and subscriptions' (src/telemetry), then any extra.
  let text = ctx.state.metrics.render(ctx.state.node, Date.now()) + ctx.state.node.metrics.prometheusText();
  if (ctx.state.settings.metricsText !== undefined) text += await ctx.state.settings.metricsText();
  return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
}

export async function nodeInfo(ctx: Context): Promise<Response> {
  const { node } = ctx.state;
  const info = await node.store.info();
  return Response.json({
    version: node.version,
    mode: node.mode,
    dataDir: info.dataDir,
    storeId: info.storeId,
    durability: info.durability,
    schemaVersion: info.schemaVersion,
    headPosition: info.headPosition,
    streamCount: info.streamCount,
    eventRows: info.eventRows,
    fileBytes: info.fileBytes,
    walBytes: info.walBytes,
    uptimeMs: Date.now() - node.startedAtMs,
  });
}
