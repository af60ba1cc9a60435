// The simulated network: every message waits in one queue until its delivery tick. Faults come
// from the seed: drop, delay (and so reordering), duplication, and partitions given as a set of
// blocked directed links (a symmetric partition blocks both directions, a one-way one only one).

import type { Prng } from "../../src/lib/index.ts";
import type { Message } from "../../src/raft/index.ts";

export interface NetworkFaults {
  dropProbability: number;
  duplicateProbability: number;
  delayTicksMin: number;
  delayTicksMax: number;
}

interface InFlight {
  readonly deliverAt: number;
  readonly seq: number;
  readonly message: Message;
}

export class Network {
  private queue: InFlight[] = [];
  private seq = 0;
  private readonly blocked = new Set<string>();
  faults: NetworkFaults;
  sent = 0;
  dropped = 0;

  constructor(
    private readonly prng: Prng,
    faults: NetworkFaults,
  ) {
    this.faults = faults;
  }

  send(m: Message, now: number): void {
    this.sent++;
    if (this.blocked.has(link(m.from, m.to)) || this.prng.chance(this.faults.dropProbability)) {
      this.dropped++;
      return;
    }
    const copies = this.prng.chance(this.faults.duplicateProbability) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.prng.int(this.faults.delayTicksMin, this.faults.delayTicksMax);
      this.queue.push({ deliverAt: now + delay, seq: this.seq++, message: m });
    }
  }

  /** The messages due at `now`, in a deterministic order; a partition also blocks delivery. */
  due(now: number): Message[] {
    const ready: InFlight[] = [];
    const later: InFlight[] = [];
    for (const f of this.queue) (f.deliverAt <= now ? ready : later).push(f);
    this.queue = later;
    ready.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq);
    const out: Message[] = [];
    for (const f of ready) {
      if (this.blocked.has(link(f.message.from, f.message.to))) {
        this.dropped++;
        continue;
      }
      out.push(f.message);
    }
    return out;
  }

  block(from: string, to: string): void {
    this.blocked.add(link(from, to));
  }

  heal(): void {
    this.blocked.clear();
  }

  blockedLinks(): string[] {
    return [...this.blocked].sort();
  }

  inFlight(): number {
    return this.queue.length;
  }
}

function link(from: string, to: string): string {
  return `${from}>${to}`;
}
