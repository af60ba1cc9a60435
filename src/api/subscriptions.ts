// Persistent-subscription endpoints: create, list, show (with health), delete, consume over SSE,
// ack and nack. A consumer's deliveries carry an id; acks and nacks name those ids in separate
// requests, so the gateway keeps the open deliveries of its consumers by id until resolved.

import { InvalidArgumentError, limits } from "../lib/index.ts";
import type { Delivery, NackAction, PersistentConsumer } from "../subscriptions/index.ts";
import { readJsonBody } from "./body.ts";
import type { Context } from "./context.ts";
import { HttpError } from "./http-error.ts";
import type { LiveBatch } from "./live.ts";
import { intParam, isObject, toWireEvent } from "./wire.ts";

/** Open deliveries of every consumer of this gateway, by delivery id. */
export class DeliveryBook {
  private readonly open = new Map<string, { subscription: string; delivery: Delivery; consumer: number }>();
  private nextConsumer = 0;
  private nextDelivery = 0;

  constructor(private readonly openMax: number = limits.httpDeliveriesOpenMax) {}

  get size(): number {
    return this.open.size;
  }

  newConsumer(): number {
    return this.nextConsumer++;
  }

  add(subscription: string, consumer: number, delivery: Delivery): string {
    const id = `${consumer}-${this.nextDelivery++}`;
    this.open.set(id, { subscription, delivery, consumer });
    // A delivery taken back by its ack timeout never hears of it here: bound what is kept.
    if (this.open.size > this.openMax) this.open.delete(this.open.keys().next().value as string);
    return id;
  }

  take(subscription: string, id: string): Delivery | null {
    const entry = this.open.get(id);
    if (entry === undefined || entry.subscription !== subscription) return null;
    this.open.delete(id);
    return entry.delivery;
  }

  /** Forgets a consumer's deliveries when it leaves (the subscription hands them to others). */
  forget(consumer: number): void {
    for (const [id, entry] of this.open) if (entry.consumer === consumer) this.open.delete(id);
  }
}

function subscriptions(ctx: Context) {
  const subs = ctx.state.node.subscriptions;
  if (subs === null) throw new HttpError(503, "unavailable", "this node runs without subscriptions");
  return subs;
}

/** POST /v1/subscriptions `{ name, selector, from?, settings? }` → 201 health */
export async function createSubscription(ctx: Context): Promise<Response> {
  const body = await readJsonBody(ctx.request, ctx.state.settings.bodyBytesMax);
  if (!isObject(body)) throw new InvalidArgumentError("the body must be an object { name, selector, from?, settings? }");
  const health = await subscriptions(ctx).create(body.name as string, { selector: body.selector as never, from: body.from as never, settings: body.settings as never });
  return Response.json(health, { status: 201 });
}

/** GET /v1/subscriptions → `{ subscriptions: [health] }` */
export function listSubscriptions(ctx: Context): Response {
  return Response.json({ subscriptions: subscriptions(ctx).list() });
}

/** GET /v1/subscriptions/{name} → health and settings */
export function showSubscription(ctx: Context, name: string): Response {
  const subs = subscriptions(ctx);
  return Response.json({ ...subs.get(name), settings: subs.settings(name) });
}

/** DELETE /v1/subscriptions/{name} → 204 */
export async function deleteSubscription(ctx: Context, name: string): Promise<Response> {
  const subs = subscriptions(ctx);
  subs.get(name);
  await subs.delete(name);
  return new Response(null, { status: 204 });
}

/**
 * GET /v1/subscriptions/{name}/consume?inFlightMax → SSE: `event: delivery`, `id` the delivery
 * id, `data` `{ deliveryId, retryCount, replayed, event }`. Leaving (closing the stream) hands the
 * unacknowledged deliveries to other consumers.
 */
export function consumeSubscription(ctx: Context, name: string): Response {
  const subs = subscriptions(ctx);
  const inFlightMax = intParam(ctx.url.searchParams, "inFlightMax");
  const consumer: PersistentConsumer = subs.connect(name, inFlightMax === undefined ? {} : { inFlightMax });
  const book = ctx.state.deliveries;
  const consumerId = book.newConsumer();
  if (ctx.state.stopping) {
    consumer.close();
    throw new HttpError(503, "unavailable", "the server is shutting down");
  }
  ctx.keepOpen();
  return ctx.state.live.open({
    async next(): Promise<LiveBatch> {
      const delivery = await consumer.next();
      if (delivery === null) return { text: "", count: 0, more: false, end: true };
      const deliveryId = book.add(name, consumerId, delivery);
      const data = { deliveryId, retryCount: delivery.retryCount, replayed: delivery.replayed, event: toWireEvent(delivery.event) };
      return { text: `event: delivery\nid: ${deliveryId}\ndata: ${JSON.stringify(data)}\n\n`, count: 1, more: true };
    },
    concerns: () => false,
    close() {
      consumer.close();
      book.forget(consumerId);
    },
  });
}

function deliveryIds(body: unknown): string[] {
  if (!isObject(body) || !Array.isArray(body.ids) || !body.ids.every((id) => typeof id === "string")) {
    throw new InvalidArgumentError("the body must name the deliveries: { ids: [deliveryId, ...] }");
  }
  if (body.ids.length > limits.eventsPerAppendMax) throw new InvalidArgumentError(`at most ${limits.eventsPerAppendMax} ids at once`);
  return body.ids as string[];
}

/** POST /v1/subscriptions/{name}/ack `{ ids }` → `{ acked, missed }` (missed: unknown, timed out or resolved) */
export async function ackDeliveries(ctx: Context, name: string): Promise<Response> {
  subscriptions(ctx).get(name);
  const ids = deliveryIds(await readJsonBody(ctx.request, ctx.state.settings.bodyBytesMax));
  const acked: string[] = [];
  const missed: string[] = [];
  for (const id of ids) (ctx.state.deliveries.take(name, id)?.ack() === true ? acked : missed).push(id);
  return Response.json({ acked, missed });
}

const nackActions: readonly NackAction[] = ["retry", "park", "skip"];

/** POST /v1/subscriptions/{name}/nack `{ ids, action: retry | park | skip, reason? }` → `{ nacked, missed }` */
export async function nackDeliveries(ctx: Context, name: string): Promise<Response> {
  subscriptions(ctx).get(name);
  const body = await readJsonBody(ctx.request, ctx.state.settings.bodyBytesMax);
  const ids = deliveryIds(body);
  const action = (body as { action?: unknown }).action ?? "retry";
  if (!nackActions.includes(action as NackAction)) throw new InvalidArgumentError(`action must be retry, park or skip, got ${JSON.stringify(action)}`);
  const reason = (body as { reason?: unknown }).reason;
  if (reason !== undefined && typeof reason !== "string") throw new InvalidArgumentError("reason must be a string");
  const nacked: string[] = [];
  const missed: string[] = [];
  for (const id of ids) (ctx.state.deliveries.take(name, id)?.nack(action as NackAction, reason ?? "nack over HTTP") === true ? nacked : missed).push(id);
  return Response.json({ nacked, missed });
}


/** POST /v1/subscriptions/{name}/replay-parked → `{ replayed }`: parked events come back (replayed: true) */
export function replayParked(ctx: Context, name: string): Response {
  return Response.json({ replayed: subscriptions(ctx).replayParked(name) });
}
