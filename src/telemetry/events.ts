// The telemetry events edge-esdb emits, named as erl-esdb names them (its README's table), with
// `edge_esdb` in place of `erl_esdb`: [edge_esdb, stream, write, start] is "stream.write.start".
// Each event has typed measurements (numbers, units last in names) and metadata (labels).

export interface TelemetryEventMap {
  "stream.write.start": { measurements: { systemTimeMs: number }; metadata: { storeId: string; streamId: string; eventCount: number } };
  "stream.write.stop": { measurements: { durationMs: number; eventCount: number; bytes: number }; metadata: { storeId: string; streamId: string; newVersion: number; position: number } };
  "stream.write.error": { measurements: { durationMs: number }; metadata: { storeId: string; streamId: string; reason: string } };
  "stream.read.start": { measurements: { systemTimeMs: number }; metadata: { storeId: string; streamId: string } };
  "stream.read.stop": { measurements: { durationMs: number; eventCount: number }; metadata: { storeId: string; streamId: string } };
  "subscription.created": { measurements: { systemTimeMs: number }; metadata: { storeId: string; subscriptionId: string; type: string } };
  "subscription.deleted": { measurements: { systemTimeMs: number }; metadata: { storeId: string; subscriptionId: string } };
  "snapshot.created": { measurements: { durationMs: number; sizeBytes: number }; metadata: { storeId: string; streamId: string; version: number } };
  "cluster.node.up": { measurements: { systemTimeMs: number }; metadata: { storeId: string; node: string; memberCount: number } };
  "cluster.node.down": { measurements: { systemTimeMs: number }; metadata: { storeId: string; node: string; reason: string } };
  "cluster.leader.elected": { measurements: { systemTimeMs: number }; metadata: { storeId: string; leader: string } };
}

export type TelemetryEventName = keyof TelemetryEventMap;

export const telemetryEventNames: readonly TelemetryEventName[] = [
  "stream.write.start",
  "stream.write.stop",
  "stream.write.error",
  "stream.read.start",
  "stream.read.stop",
  "subscription.created",
  "subscription.deleted",
  "snapshot.created",
  "cluster.node.up",
  "cluster.node.down",
  "cluster.leader.elected",
];

/** The event's name as erl-esdb writes it: ["edge_esdb", "stream", "write", "start"]. */
export function telemetryEventPath(name: TelemetryEventName): readonly string[] {
  return ["edge_esdb", ...name.split(".")];
}

export interface TelemetryEvent<N extends TelemetryEventName = TelemetryEventName> {
  name: N;
  measurements: TelemetryEventMap[N]["measurements"];
  metadata: TelemetryEventMap[N]["metadata"];
}
