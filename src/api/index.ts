// The HTTP gateway: JSON under /v1, SSE live reads, /health and /metrics, on Bun.serve.
export { startGateway } from "./gateway.ts";
export type { Gateway, GatewayOptions } from "./gateway.ts";
export { defaultSocketPath, isLoopbackHost, socketFileName } from "./listen.ts";
export { HttpError, statusByCode } from "./http-error.ts";
export type { WireEvent } from "./wire.ts";
