// Counting and logging of dropped frames. Every drop is counted per peer and reason; a peer's
// drops are logged at most once per dropLogIntervalMs (a flood of bad frames makes one line a
// minute, not one per frame). A refused protocol version gets its own clear line. The clock and
// the log sink are injected so tests can drive them.

import { limits } from "../lib/index.ts";
import type { DropReason } from "./frame.ts";
import { protocolVersion } from "./frame.ts";

const { dropLogIntervalMs, dropPeersTrackedMax } = limits;

export type LogSink = (line: string) => void;
export type Clock = () => number;

export interface DropDetails {
  /** The claimed node id (unauthenticated unless the reason comes after the tag) or the address. */
  readonly peer: string;
  readonly reason: DropReason;
  /** For unsupported_version: the version the peer sent. */
  readonly version?: number;
  /** The source address, when known. */
  readonly address?: string;
}

interface PeerDrops {
  readonly counts: Map<DropReason, number>;
  /** Counts since the last log line. */
  readonly unlogged: Map<DropReason, number>;
  lastLogMs: number;
}

export class DropCounter {
  private readonly peers = new Map<string, PeerDrops>();
  private totalCount = 0;

  constructor(
    private readonly log: LogSink = (line) => console.warn(line),
    private readonly now: Clock = Date.now,
    private readonly context = "wire",
  ) {}

  drop(details: DropDetails): void {
    this.totalCount += 1;
    let peer = this.peers.get(details.peer);
    if (peer === undefined) {
      peer = { counts: new Map(), unlogged: new Map(), lastLogMs: Number.NEGATIVE_INFINITY };
      this.peers.set(details.peer, peer);
      if (this.peers.size > dropPeersTrackedMax) this.peers.delete(this.peers.keys().next().value as string);
    }
    peer.counts.set(details.reason, (peer.counts.get(details.reason) ?? 0) + 1);
    peer.unlogged.set(details.reason, (peer.unlogged.get(details.reason) ?? 0) + 1);
    const nowMs = this.now();
    if (nowMs - peer.lastLogMs < dropLogIntervalMs) return;
    peer.lastLogMs = nowMs;
    const from = details.address === undefined ? `'${details.peer}'` : `'${details.peer}' (${details.address})`;
    if (details.reason === "unsupported_version") {
      this.log(
        `${this.context}: refusing peer ${from}: it speaks wire protocol version ${details.version ?? "?"}, ` +
          `this node speaks version ${protocolVersion}`,
      );
    } else {
      const summary = [...peer.unlogged].map(([reason, n]) => `${reason}=${n}`).join(" ");
      this.log(`${this.context}: dropped frames from ${from}: ${summary} (logged at most once a minute per peer)`);
    }
    peer.unlogged.clear();
  }

  /** Drops counted for one peer and reason (0 when none). */
  count(peer: string, reason: DropReason): number {
    return this.peers.get(peer)?.counts.get(reason) ?? 0;
  }

  /** Drops counted for a reason over all peers tracked. */
  countReason(reason: DropReason): number {
    let n = 0;
    for (const peer of this.peers.values()) n += peer.counts.get(reason) ?? 0;
    return n;
  }

  get total(): number {
    return this.totalCount;
  }

  /** A copy of the counts: peer -> reason -> count. */
  snapshot(): Record<string, Partial<Record<DropReason, number>>> {
    const out: Record<string, Partial<Record<DropReason, number>>> = {};
    for (const [peer, drops] of this.peers) out[peer] = Object.fromEntries(drops.counts);
    return out;
  }
}
