// Stream and $all endpoints: append, read, exists, delete, list, and reads of the global log.

import { StreamDeletedError } from "../lib/index.ts";
import type { ExpectedVersion, StreamMetadata } from "../events/index.ts";
import { readJsonBody } from "./body.ts";
import type { Context } from "./context.ts";
import { boolParam, directionParam, expectedVersionParam, filterParams, intParam, parseAppendBody, toWireEvent } from "./wire.ts";

/** POST /v1/streams/{stream} `{ expectedVersion, events }` → `{ nextVersion, position }` */
export async function appendToStream(ctx: Context, streamId: string): Promise<Response> {
  const body = await readJsonBody(ctx.request, ctx.state.settings.bodyBytesMax);
  const { expectedVersion, events } = parseAppendBody(body);
  const result = await ctx.state.node.store.append(streamId, expectedVersion as ExpectedVersion, events);
  ctx.state.metrics.eventsAppended += events.length;
  return Response.json(result);
}

/** GET /v1/streams/{stream}?from&limit&direction → `{ events }` */
export async function readStream(ctx: Context, streamId: string): Promise<Response> {
  const params = ctx.url.searchParams;
  const events = await ctx.state.node.store.read(streamId, { from: intParam(params, "from"), limit: intParam(params, "limit"), direction: directionParam(params) });
  return Response.json({ events: events.map(toWireEvent) });
}

/**
 * HEAD /v1/streams/{stream}: 200 when it has visible events, 404 when not, 410 when hard-deleted.
 * `Edge-Esdb-Stream-Version` carries the library's version(): the last version, -1 for none.
 */
export async function streamExists(ctx: Context, streamId: string): Promise<Response> {
  const { store } = ctx.state.node;
  let version: number;
  try {
    version = await store.version(streamId);
  } catch (error) {
    if (error instanceof StreamDeletedError) return new Response(null, { status: 410 });
    throw error;
  }
  const exists = await store.exists(streamId);
  return new Response(null, { status: exists ? 200 : 404, headers: { "edge-esdb-stream-version": String(version) } });
}

/** DELETE /v1/streams/{stream}?expectedVersion&hard → 204 */
export async function deleteStream(ctx: Context, streamId: string): Promise<Response> {
  const params = ctx.url.searchParams;
  await ctx.state.node.store.delete(streamId, expectedVersionParam(params) as ExpectedVersion, { hard: boolParam(params, "hard") });
  return new Response(null, { status: 204 });
}

/** GET /v1/streams?limit&after → `{ streams: [{ streamId, version, eventCount }], next }` */
export async function listStreams(ctx: Context): Promise<Response> {
  const params = ctx.url.searchParams;
  const after = params.get("after");
  const page = await ctx.state.node.store.streams({ limit: intParam(params, "limit"), ...(after === null || after === "" ? {} : { after }) });
  return Response.json(page);
}

/** GET /v1/all?fromPosition&limit&direction&type&streamPrefix&streamPattern&payload → `{ events }` */
export async function readAll(ctx: Context): Promise<Response> {
  const params = ctx.url.searchParams;
  const events = await ctx.state.node.store.readAll({
    fromPosition: intParam(params, "fromPosition") ?? intParam(params, "from"),
    limit: intParam(params, "limit"),
    direction: directionParam(params),
    filter: filterParams(params),
  });
  return Response.json({ events: events.map(toWireEvent) });
}

/** GET /v1/streams/{stream}/metadata → the stream's retention settings `{ maxCount?, maxAgeMs?, truncateBefore? }` */
export async function getStreamMetadata(ctx: Context, streamId: string): Promise<Response> {
  return Response.json(await ctx.state.node.store.getStreamMetadata(streamId));
}

/** PUT /v1/streams/{stream}/metadata `{ maxCount?, maxAgeMs?, truncateBefore? }` → 204; omitted settings are cleared */
export async function putStreamMetadata(ctx: Context, streamId: string): Promise<Response> {
  const body = await readJsonBody(ctx.request, ctx.state.settings.bodyBytesMax);
  await ctx.state.node.store.setStreamMetadata(streamId, body as StreamMetadata);
  return new Response(null, { status: 204 });
}
