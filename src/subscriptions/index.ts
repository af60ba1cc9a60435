// Subscriptions: catch-up subscriptions (a stream or $all, history then live), persistent
// subscriptions kept by name with checkpoints, ack / nack, parking and competing consumers, the
// live fan-out beside the write path, and health reports.
export { Subscriptions } from "./subscriptions.ts";
export type { SubscriptionsOptions, StreamSubscribeOptions, AllSubscribeOptions, CreateOptions, ConnectOptions } from "./subscriptions.ts";
export { CatchUpSubscription, type EventHandler } from "./catch-up.ts";
export { PersistentConsumer, type Delivery, type DeliveryHandler, type NackAction } from "./persistent.ts";
export {
  defaultPersistentSettings,
  parkedStreamId,
  selectorType,
  validateSelector,
  type PersistentSettings,
  type Selector,
  type SelectorType,
  type StartFrom,
  type SubscriptionHealth,
  type SubscriptionState,
} from "./settings.ts";
export { reportSubscriptions, reportSubscription, type SubscriptionReport } from "./report.ts";
