// Telemetry: typed events with erl-esdb's names and handlers for them, Prometheus text
// metrics, and an OpenTelemetry bridge that is silent until the application registers a
// provider. Imports only lib; the store is connected through its StoreObserver hooks.
export * from "./events.ts";
export * from "./telemetry.ts";
export * from "./metrics.ts";
export * from "./store-observer.ts";
export { attachOpenTelemetry, tracingRegistered, openTelemetryHandlerId } from "./opentelemetry.ts";
