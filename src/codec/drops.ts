// Counting and logging of dropped frames. A drop is counted and logged under who sent it, as far
// as that is known: the node id when the frame's tag verified (authenticated), else the source
// address (IP), since the node id in an unverified frame is only a claim that a forger can vary
// at will, one claim per frame. Each key is logged at most once per dropLogIntervalMs, and all
// keys together at most dropLogLinesPerIntervalMax times per interval, so a flood of bad frames
// from many addresses still makes a few lines a minute, not one per frame. The keys tracked are
// capped (dropPeersTrackedMax; the least recently counted is forgotten). A refused protocol
// version gets its own clear line. The clock and the log sink are injected so tests can drive them.

import { isIP } from "node:net";
import { limits } from "../lib/index.ts";
import type { DropReason } from "./frame.ts";
import { protocolVersion } from "./frame.ts";

const { dropLogIntervalMs, dropLogLinesPerIntervalMax, dropPeersTrackedMax } = limits;

export type LogSink = (line: string) => void;
export type Clock = () => number;

export interface DropDetails {
  /** The node id: who sent the frame when `authenticated`, else only what the frame claims (or
   * the address, when no id could be read). */
  readonly peer: string;
  readonly reason: DropReason;
  /** For unsupported_version: the version the peer sent. */
  readonly version?: number;
  /** The source address ("ip" or "ip:port"), when known. */
  readonly address?: string;
  /** True when the tag verified (or the connection is authenticated), so `peer` is the sender. */
  readonly authenticated?: boolean;
}

interface KeyDrops {
  readonly counts: Map<DropReason, number>;
  /** Counts since the last log line. */
  readonly unlogged: Map<DropReason, number>;
  lastLogMs: number;
}

export class DropCounter {
  private readonly keys = new Map<string, KeyDrops>();
  private totalCount = 0;
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private linesInWindow = 0;
  private suppressedLines = 0;

  constructor(
    private readonly log: LogSink = (line) => console.warn(line),
    private readonly now: Clock = Date.now,
    private readonly context = "wire",
  ) {}

  /** The key a drop is counted under: the node id if authenticated, else the source IP. */
  static keyOf(details: DropDetails): string {
    if (details.authenticated === true) return details.peer;
    return details.address === undefined ? "unknown address" : hostOf(details.address);
  }

  drop(details: DropDetails): void {
    this.totalCount += 1;
    const key = DropCounter.keyOf(details);
    let drops = this.keys.get(key);
    if (drops === undefined) {
      drops = { counts: new Map(), unlogged: new Map(), lastLogMs: Number.NEGATIVE_INFINITY };
    } else {
      this.keys.delete(key); // re-inserted last: the map's order is recency order
    }
    this.keys.set(key, drops);
    if (this.keys.size > dropPeersTrackedMax) this.keys.delete(this.keys.keys().next().value as string);
    drops.counts.set(details.reason, (drops.counts.get(details.reason) ?? 0) + 1);
    drops.unlogged.set(details.reason, (drops.unlogged.get(details.reason) ?? 0) + 1);
    const nowMs = this.now();
    if (nowMs - drops.lastLogMs < dropLogIntervalMs) return;
    if (!this.lineAllowed(nowMs)) return; // stays unlogged: summed into this key's next line
    drops.lastLogMs = nowMs;
    this.log(this.line(details, key, drops));
    drops.unlogged.clear();
  }

  /** Drops counted under one key (a node id, or an IP for unauthenticated drops) and reason. */
  count(key: string, reason: DropReason): number {
    return this.keys.get(key)?.counts.get(reason) ?? 0;
  }

  /** Drops counted for a reason over all keys tracked. */
  countReason(reason: DropReason): number {
    let n = 0;
    for (const drops of this.keys.values()) n += drops.counts.get(reason) ?? 0;
    return n;
  }

  get total(): number {
    return this.totalCount;
  }

  /** Keys tracked now (at most dropPeersTrackedMax). */
  get keysTracked(): number {
    return this.keys.size;
  }

  /** A copy of the counts: key -> reason -> count. */
  snapshot(): Record<string, Partial<Record<DropReason, number>>> {
    const out: Record<string, Partial<Record<DropReason, number>>> = {};
    for (const [key, drops] of this.keys) out[key] = Object.fromEntries(drops.counts);
    return out;
  }

  /** The global budget: at most dropLogLinesPerIntervalMax lines per interval, all keys together. */
  private lineAllowed(nowMs: number): boolean {
    if (nowMs - this.windowStartMs >= dropLogIntervalMs) {
      if (this.suppressedLines > 0) {
        this.log(`${this.context}: ${this.suppressedLines} more drop log lines were suppressed (at most ${dropLogLinesPerIntervalMax} a minute)`);
      }
      this.windowStartMs = nowMs;
      this.linesInWindow = 0;
      this.suppressedLines = 0;
    }
    if (this.linesInWindow >= dropLogLinesPerIntervalMax) {
      this.suppressedLines += 1;
      return false;
    }
    this.linesInWindow += 1;
    return true;
  }

  private line(details: DropDetails, key: string, drops: KeyDrops): string {
    const from = details.authenticated === true
      ? details.address === undefined ? `'${details.peer}'` : `'${details.peer}' (${details.address})`
      : details.peer === key || details.peer === details.address
        ? `${details.address ?? key}`
        : `${details.address ?? key} (claims to be '${details.peer}', unverified)`;
    if (details.reason === "unsupported_version") {
      return `${this.context}: refusing peer ${from}: it speaks wire protocol version ${details.version ?? "?"}, this node speaks version ${protocolVersion}`;
    }
    const summary = [...drops.unlogged].map(([reason, n]) => `${reason}=${n}`).join(" ");
    return `${this.context}: dropped frames from ${from}: ${summary} (logged at most once a minute per sender)`;
  }
}

/** The IP of "ip", "ip:port" or "[ipv6]:port". */
function hostOf(address: string): string {
  if (isIP(address) !== 0) return address;
  const bracketed = /^\[(.+)\](?::\d+)?$/.exec(address);
  if (bracketed !== null) return bracketed[1] as string;
  const colon = address.lastIndexOf(":");
  return colon > 0 ? address.slice(0, colon) : address;
}
