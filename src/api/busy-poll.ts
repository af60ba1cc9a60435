// Keeps the event loop awake for a moment after a response, so that a client sending one request
// at a time finds the daemon polling its sockets rather than asleep in epoll. Waking a sleeping
// process on the other core costs more than the request's own work in the gateway: on the
// 2-core board one keep-alive client over the unix socket did 9.3k appends/s with the daemon
// sleeping between requests and 13.4k with it polling (same daemon CPU per request), and a
// bare Bun.serve 17k and 39k. Go's runtime (NATS, for one) spins the same way before it sleeps.
//
// The poll is setImmediate turns: while one is pending Bun polls with a zero timeout. It lasts
// pollMs after the last response, and follows only the second of two requests in a row that each
// came within pollMs of the response before: a client that would have been caught. A sparse
// client costs no polling, nor do many sparse clients whose requests now and then happen to
// follow a response closely (one such gap is common, two in a row are not), and a client slower
// than the window stops it after the first miss. On a single CPU the gateway never polls: the
// poll would hold the core the client needs (src/api/gateway.ts).

export interface BusyPollClock {
  nowMs(): number;
  /** Runs `turn` on the event loop's next turn (setImmediate). */
  schedule(turn: () => void): void;
}

const eventLoopClock: BusyPollClock = {
  nowMs: () => performance.now(),
  schedule: (turn) => setImmediate(turn),
};

export class BusyPoll {
  private pollUntilMs = 0;
  private lastResponseMs = Number.NEGATIVE_INFINITY;
  /** Whether the previous request came within pollMs of the response before it. */
  private previousQuick = false;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly pollMs: number,
    private readonly clock: BusyPollClock = eventLoopClock,
  ) {}

  /** The time a request starts, for responded(). */
  now(): number {
    return this.clock.nowMs();
  }

  /** A response to a request that started at `requestStartMs` is out: poll if the client is quick. */
  responded(requestStartMs: number): void {
    const nowMs = this.clock.nowMs();
    const quick = requestStartMs - this.lastResponseMs <= this.pollMs;
    const twoInARow = quick && this.previousQuick;
    this.previousQuick = quick;
    this.lastResponseMs = nowMs;
    if (this.stopped || this.pollMs <= 0 || !twoInARow) return;
    this.pollUntilMs = nowMs + this.pollMs;
    if (this.polling) return;
    this.polling = true;
    this.clock.schedule(this.turn);
  }

  /** True while turns are scheduled (for tests). */
  get isPolling(): boolean {
    return this.polling;
  }

  /** No more polling: the gateway is stopping. */
  stop(): void {
    this.stopped = true;
  }

  private readonly turn = (): void => {
    if (!this.stopped && this.clock.nowMs() < this.pollUntilMs) this.clock.schedule(this.turn);
    else this.polling = false;
  };
}
