// Snapshot endpoints: PUT a version, GET the latest or a version, list (without data), DELETE.

import { InvalidArgumentError } from "../lib/index.ts";
import type { JsonValue } from "../events/index.ts";
import { readJsonBody } from "./body.ts";
import type { Context } from "./context.ts";
import { dataOf, isObject, toWireSnapshot } from "./wire.ts";

function versionSegment(text: string): number {
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new InvalidArgumentError(`snapshot version must be an integer >= 0 or 'latest', got '${text}'`);
  return Number(text);
}

/** PUT /v1/streams/{stream}/snapshots/{version} `{ data | dataBase64, metadata? }` → the snapshot */
export async function putSnapshot(ctx: Context, streamId: string, versionText: string): Promise<Response> {
  const version = versionSegment(versionText);
  const body = await readJsonBody(ctx.request, ctx.state.settings.bodyBytesMax);
  if (!isObject(body)) throw new InvalidArgumentError("the body must be an object { data, metadata? }");
  const data = dataOf(body, "snapshot");
  if (data === undefined) throw new InvalidArgumentError("snapshot data is missing (data or dataBase64)");
  const snapshot = await ctx.state.node.store.snapshots.save(streamId, version, data, (body.metadata ?? null) as JsonValue);
  return Response.json(toWireSnapshot(snapshot));
}

/** GET /v1/streams/{stream}/snapshots/latest and .../snapshots/{version} */
export async function getSnapshot(ctx: Context, streamId: string, versionText: string): Promise<Response> {
  const version = versionText === "latest" ? undefined : versionSegment(versionText);
  return Response.json(toWireSnapshot(await ctx.state.node.store.snapshots.load(streamId, version)));
}

/** GET /v1/streams/{stream}/snapshots → `{ snapshots: [...] }`, newest first, without data */
export async function listSnapshots(ctx: Context, streamId: string): Promise<Response> {
  const list = await ctx.state.node.store.snapshots.list(streamId);
  return Response.json({ snapshots: list.map((s) => ({ ...s, createdAt: s.createdAt.toISOString() })) });
}

/** DELETE /v1/streams/{stream}/snapshots/{version} → 204 */
export async function deleteSnapshot(ctx: Context, streamId: string, versionText: string): Promise<Response> {
  await ctx.state.node.store.snapshots.delete(streamId, versionSegment(versionText));
  return new Response(null, { status: 204 });
}
