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

type Handler = () => Response | Promise<Response>;

/** The path's segments after the leading "/", each decoded once. */
export function pathSegments(pathname: string): string[] {
  return pathname
    .slice(1)
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw new InvalidArgumentError(`the path segment '${segment}' is not valid percent-encoding`);
      }
    });
}

function methods(ctx: Context, table: Partial<Record<string, Handler>>): Response | Promise<Response> {
  const handler = table[ctx.request.method];
  if (handler === undefined) {
    const allowed = Object.keys(table).join(", ");
    throw new HttpError(405, "method_not_allowed", `${ctx.request.method} is not allowed here (allowed: ${allowed})`, { allow: allowed });
  }
  return handler();
}

export function route(ctx: Context): Response | Promise<Response> {
  const s = pathSegments(ctx.url.pathname);
  const n = s.length;
  if (n === 1 && s[0] === "health") return methods(ctx, { GET: () => health(ctx), HEAD: () => health(ctx) });
  if (n === 1 && s[0] === "metrics") return methods(ctx, { GET: () => metrics(ctx) });
  if (s[0] === "v1") {
    if (n === 2 && s[1] === "node") return methods(ctx, { GET: () => nodeInfo(ctx) });
    if (n === 2 && s[1] === "all") return methods(ctx, { GET: () => readAll(ctx) });
    if (n === 3 && s[1] === "all" && s[2] === "live") return methods(ctx, { GET: () => liveAll(ctx) });
    if (n === 2 && s[1] === "streams") return methods(ctx, { GET: () => listStreams(ctx) });
    if (n === 2 && s[1] === "subscriptions") return methods(ctx, { GET: () => listSubscriptions(ctx), POST: () => createSubscription(ctx) });
    if (n >= 3 && s[1] === "subscriptions") {
      const name = s[2] as string;
      if (n === 3) return methods(ctx, { GET: () => showSubscription(ctx, name), DELETE: () => deleteSubscription(ctx, name) });
      if (n === 4 && s[3] === "consume") return methods(ctx, { GET: () => consumeSubscription(ctx, name) });
      if (n === 4 && s[3] === "ack") return methods(ctx, { POST: () => ackDeliveries(ctx, name) });
      if (n === 4 && s[3] === "nack") return methods(ctx, { POST: () => nackDeliveries(ctx, name) });
      if (n === 4 && s[3] === "replay-parked") return methods(ctx, { POST: () => replayParked(ctx, name) });
    }
    if (n >= 3 && s[1] === "streams") {
      const streamId = s[2] as string;
      if (n === 3) {
        return methods(ctx, {
          POST: () => appendToStream(ctx, streamId),
          GET: () => readStream(ctx, streamId),
          HEAD: () => streamExists(ctx, streamId),
          DELETE: () => deleteStream(ctx, streamId),
        });
      }
      if (n === 4 && s[3] === "live") return methods(ctx, { GET: () => liveStream(ctx, streamId) });
      if (n === 4 && s[3] === "metadata") return methods(ctx, { GET: () => getStreamMetadata(ctx, streamId), PUT: () => putStreamMetadata(ctx, streamId) });
      if (n === 4 && s[3] === "snapshots") return methods(ctx, { GET: () => listSnapshots(ctx, streamId) });
      if (n === 5 && s[3] === "snapshots") {
        const version = s[4] as string;
        if (version === "latest") return methods(ctx, { GET: () => getSnapshot(ctx, streamId, version) });
        return methods(ctx, {
          PUT: () => putSnapshot(ctx, streamId, version),
          GET: () => getSnapshot(ctx, streamId, version),
          DELETE: () => deleteSnapshot(ctx, streamId, version),
        });
      }
    }
  }
  throw new HttpError(404, "not_found", `no route for ${ctx.request.method} ${ctx.url.pathname}`);
}
