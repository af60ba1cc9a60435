// Maps a method and path to a handler. Path segments are percent-decoded exactly once, after
// splitting on "/": a stream id travels as one segment, with its own slashes sent as %2F.

import { InvalidArgumentError } from "../lib/index.ts";
import type { Context } from "./context.ts";
import { HttpError } from "./http-error.ts";
import { liveAll, liveStream } from "./live.ts";
import { health, metrics, nodeInfo } from "./node-info.ts";
import { deleteSnapshot, getSnapshot, listSnapshots, putSnapshot } from "./snapshots.ts";
import { ackDeliveries, consumeSubscription, createSubscription, deleteSubscription, listSubscriptions, nackDeliveries, replayParked, showSubscription } from "./subscriptions.ts";
import { appendToStream, deleteStream, getStreamMetadata, listStreams, putStreamMetadata, readAll, readStream, streamExists } from "./streams.ts";

/** A handler gets the context and the path's ids (stream, subscription name, snapshot version). */
type Handler = (ctx: Context, first: string, second: string) => Response | Promise<Response>;

/** The handlers of one path by method, and the Allow header a 405 names; built once, at load. */
interface Methods {
  readonly handlers: Readonly<Partial<Record<string, Handler>>>;
  readonly allow: string;
}

function table(handlers: Partial<Record<string, Handler>>): Methods {
  return { handlers, allow: Object.keys(handlers).join(", ") };
}

/** A path segment without '%' decodes to itself: most requests skip decodeURIComponent. */
function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidArgumentError(`the path segment '${segment}' is not valid percent-encoding`);
  }
}

/** The path's segments after the leading "/", each decoded once. */
export function pathSegments(pathname: string): string[] {
  return pathname.slice(1).split("/").map(decodeSegment);
}

function methods(ctx: Context, methods: Methods, first = "", second = ""): Response | Promise<Response> {
  const handler = methods.handlers[ctx.request.method];
  if (handler === undefined) {
    throw new HttpError(405, "method_not_allowed", `${ctx.request.method} is not allowed here (allowed: ${methods.allow})`, { allow: methods.allow });
  }
  return handler(ctx, first, second);
}

// The routes' tables, built once rather than per request (the append path is the hot one).
const healthRoute = table({ GET: (ctx) => health(ctx), HEAD: (ctx) => health(ctx) });
const metricsRoute = table({ GET: (ctx) => metrics(ctx) });
const nodeRoute = table({ GET: (ctx) => nodeInfo(ctx) });
const allRoute = table({ GET: (ctx) => readAll(ctx) });
const allLiveRoute = table({ GET: (ctx) => liveAll(ctx) });
const streamsRoute = table({ GET: (ctx) => listStreams(ctx) });
const subscriptionsRoute = table({ GET: (ctx) => listSubscriptions(ctx), POST: (ctx) => createSubscription(ctx) });
const subscriptionRoute = table({ GET: (ctx, name) => showSubscription(ctx, name), DELETE: (ctx, name) => deleteSubscription(ctx, name) });
const consumeRoute = table({ GET: (ctx, name) => consumeSubscription(ctx, name) });
const ackRoute = table({ POST: (ctx, name) => ackDeliveries(ctx, name) });
const nackRoute = table({ POST: (ctx, name) => nackDeliveries(ctx, name) });
const replayParkedRoute = table({ POST: (ctx, name) => replayParked(ctx, name) });
const streamRoute = table({
  POST: (ctx, streamId) => appendToStream(ctx, streamId),
  GET: (ctx, streamId) => readStream(ctx, streamId),
  HEAD: (ctx, streamId) => streamExists(ctx, streamId),
  DELETE: (ctx, streamId) => deleteStream(ctx, streamId),
});
const streamLiveRoute = table({ GET: (ctx, streamId) => liveStream(ctx, streamId) });
const metadataRoute = table({ GET: (ctx, streamId) => getStreamMetadata(ctx, streamId), PUT: (ctx, streamId) => putStreamMetadata(ctx, streamId) });
const snapshotsRoute = table({ GET: (ctx, streamId) => listSnapshots(ctx, streamId) });
const latestSnapshotRoute = table({ GET: (ctx, streamId, version) => getSnapshot(ctx, streamId, version) });
const snapshotRoute = table({
  PUT: (ctx, streamId, version) => putSnapshot(ctx, streamId, version),
  GET: (ctx, streamId, version) => getSnapshot(ctx, streamId, version),
  DELETE: (ctx, streamId, version) => deleteSnapshot(ctx, streamId, version),
});

export function route(ctx: Context): Response | Promise<Response> {
  const s = pathSegments(ctx.url.pathname);
  const n = s.length;
  if (n === 1 && s[0] === "health") return methods(ctx, healthRoute);
  if (n === 1 && s[0] === "metrics") return methods(ctx, metricsRoute);
  if (s[0] === "v1") {
    if (n >= 3 && s[1] === "streams") {
      const streamId = s[2] as string;
      if (n === 3) return methods(ctx, streamRoute, streamId);
      if (n === 4 && s[3] === "live") return methods(ctx, streamLiveRoute, streamId);
      if (n === 4 && s[3] === "metadata") return methods(ctx, metadataRoute, streamId);
      if (n === 4 && s[3] === "snapshots") return methods(ctx, snapshotsRoute, streamId);
      if (n === 5 && s[3] === "snapshots") {
        const version = s[4] as string;
        return methods(ctx, version === "latest" ? latestSnapshotRoute : snapshotRoute, streamId, version);
      }
    }
    if (n === 2 && s[1] === "node") return methods(ctx, nodeRoute);
    if (n === 2 && s[1] === "all") return methods(ctx, allRoute);
    if (n === 3 && s[1] === "all" && s[2] === "live") return methods(ctx, allLiveRoute);
    if (n === 2 && s[1] === "streams") return methods(ctx, streamsRoute);
    if (n === 2 && s[1] === "subscriptions") return methods(ctx, subscriptionsRoute);
    if (n >= 3 && s[1] === "subscriptions") {
      const name = s[2] as string;
      if (n === 3) return methods(ctx, subscriptionRoute, name);
      if (n === 4 && s[3] === "consume") return methods(ctx, consumeRoute, name);
      if (n === 4 && s[3] === "ack") return methods(ctx, ackRoute, name);
      if (n === 4 && s[3] === "nack") return methods(ctx, nackRoute, name);
      if (n === 4 && s[3] === "replay-parked") return methods(ctx, replayParkedRoute, name);
    }
  }
  throw new HttpError(404, "not_found", `no route for ${ctx.request.method} ${ctx.url.pathname}`);
}
