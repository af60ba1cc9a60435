// Connects the store's hooks (src/store's StoreObserver, matched by shape: telemetry imports
// only lib) to the metrics and the telemetry events. Counters are updated always; an event is
// built only when a handler listens to it, so an unobserved write pays a few additions.

import type { Metrics } from "./metrics.ts";
import type { Telemetry } from "./telemetry.ts";

export class TelemetryStoreObserver {
  /** Set once the store is open (its id is read from the store). */
  storeId = "";

  constructor(
    private readonly telemetry: Telemetry,
    private readonly metrics: Metrics,
    private readonly clock: () => number = Date.now,
  ) {}

  appendStarted(streamId: string, eventCount: number): void {
    if (this.telemetry.listening("stream.write.start")) {
      this.telemetry.emit("stream.write.start", { systemTimeMs: this.clock() }, { storeId: this.storeId, streamId, eventCount });
    }
  }

  appendStopped(streamId: string, eventCount: number, bytes: number, durationMs: number, result: { nextVersion: number; position: number }): void {
    this.metrics.appendStopped(eventCount, bytes, durationMs);
    if (this.telemetry.listening("stream.write.stop")) {
      this.telemetry.emit("stream.write.stop", { durationMs, eventCount, bytes }, { storeId: this.storeId, streamId, newVersion: result.nextVersion, position: result.position });
    }
  }

  appendFailed(streamId: string, _eventCount: number, durationMs: number, error: unknown): void {
    const reason = errorCode(error);
    this.metrics.appendFailed(reason);
    if (this.telemetry.listening("stream.write.error")) {
      this.telemetry.emit("stream.write.error", { durationMs }, { storeId: this.storeId, streamId, reason });
    }
  }

  readStarted(streamId: string): void {
    if (this.telemetry.listening("stream.read.start")) {
      this.telemetry.emit("stream.read.start", { systemTimeMs: this.clock() }, { storeId: this.storeId, streamId });
    }
  }

  readStopped(streamId: string, eventCount: number, durationMs: number): void {
    this.metrics.readStopped(eventCount, durationMs);
    if (this.telemetry.listening("stream.read.stop")) {
      this.telemetry.emit("stream.read.stop", { durationMs, eventCount }, { storeId: this.storeId, streamId });
    }
  }

  snapshotSaved(streamId: string, version: number, sizeBytes: number, durationMs: number): void {
    this.metrics.snapshotsSaved++;
    if (this.telemetry.listening("snapshot.created")) {
      this.telemetry.emit("snapshot.created", { durationMs, sizeBytes }, { storeId: this.storeId, streamId, version });
    }
  }
}

/** A typed error's stable code, else "internal". */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[a-z_]+$/.test(code) ? code : "internal";
}
