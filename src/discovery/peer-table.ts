// The table of peers discovery knows, with up / down events. A peer is up when a valid beacon
// of it arrives, and down after `missedAnnouncementsDown` announce intervals without one (or at
// once on its goodbye); it is up again when it returns. Time is injected, so tests drive it.

import { limits } from "../lib/index.ts";

const { discoveryPeersMax } = limits;

export interface PeerInfo {
  readonly nodeId: string;
  readonly addresses: readonly string[];
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly version: number;
}

/** The telemetry names of the events. */
export type PeerEventName = "cluster node up" | "cluster node down" | "cluster node changed";

export interface PeerEvent {
  readonly name: PeerEventName;
  readonly peer: PeerInfo;
  /** For down: "missed announcements" or "goodbye". */
  readonly reason?: string;
}

interface Entry {
  info: PeerInfo;
  lastSeenMs: number;
  up: boolean;
}

export class PeerTable {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly downAfterMs: number,
    private readonly now: () => number,
    private readonly emit: (event: PeerEvent) => void,
  ) {}

  seen(info: PeerInfo): void {
    const nowMs = this.now();
    const entry = this.entries.get(info.nodeId);
    if (entry === undefined) {
      if (this.entries.size >= discoveryPeersMax) this.forgetOneDown();
      if (this.entries.size >= discoveryPeersMax) return;
      this.entries.set(info.nodeId, { info, lastSeenMs: nowMs, up: true });
      this.emit({ name: "cluster node up", peer: info });
      return;
    }
    const changed = !samePeer(entry.info, info);
    entry.info = info;
    entry.lastSeenMs = nowMs;
    if (!entry.up) {
      entry.up = true;
      this.emit({ name: "cluster node up", peer: info });
    } else if (changed) {
      this.emit({ name: "cluster node changed", peer: info });
    }
  }

  goodbye(nodeId: string): void {
    const entry = this.entries.get(nodeId);
    if (entry === undefined || !entry.up) return;
    entry.up = false;
    this.emit({ name: "cluster node down", peer: entry.info, reason: "goodbye" });
  }

  /** Marks down every peer not seen for downAfterMs. Call it about once per announce interval. */
  check(): void {
    const nowMs = this.now();
    for (const entry of this.entries.values()) {
      if (entry.up && nowMs - entry.lastSeenMs > this.downAfterMs) {
        entry.up = false;
        this.emit({ name: "cluster node down", peer: entry.info, reason: "missed announcements" });
      }
    }
  }

  /** The peers up now. */
  up(): PeerInfo[] {
    return [...this.entries.values()].filter((e) => e.up).map((e) => e.info);
  }

  isUp(nodeId: string): boolean {
    return this.entries.get(nodeId)?.up === true;
  }

  private forgetOneDown(): void {
    for (const [id, entry] of this.entries) {
      if (!entry.up) {
        this.entries.delete(id);
        return;
      }
    }
  }
}

function samePeer(a: PeerInfo, b: PeerInfo): boolean {
  return a.udpPort === b.udpPort && a.tcpPort === b.tcpPort && a.version === b.version && a.addresses.join() === b.addresses.join();
}
