// The gateway's busy poll after a response: only after two quick requests in a row, never
// longer than pollMs after the last response, never once stopped; and the gateway with it on
// and off.

import { describe, expect, test } from "bun:test";
import { BusyPoll, type BusyPollClock } from "../../../src/api/busy-poll.ts";
import { startGateway } from "../../../src/api/index.ts";
import { startNode } from "../../../src/node/index.ts";
import { tempDir } from "../../helpers/temp.ts";
import { jsonBody, startTestGateway } from "./harness.ts";

/** A clock the test moves, and the turns scheduled on it, run one at a time. */
function manualClock(): BusyPollClock & { timeMs: number; turns: Array<() => void>; runTurn(): void } {
  const clock = {
    timeMs: 1000,
    turns: [] as Array<() => void>,
    nowMs: () => clock.timeMs,
    schedule: (turn: () => void) => void clock.turns.push(turn),
    runTurn() {
      const turn = clock.turns.shift();
      if (turn === undefined) throw new Error("no turn scheduled");
      turn();
    },
  };
  return clock;
}

/** Answers a request that starts `gapMs` after the previous response, taking no time. */
function request(poll: BusyPoll, clock: { timeMs: number }, gapMs: number): void {
  clock.timeMs += gapMs;
  poll.responded(poll.now());
}

describe("BusyPoll", () => {
  test("the first response does not poll: there is no previous one to be quick after", () => {
    const clock = manualClock();
    const poll = new BusyPoll(0.1, clock);
    request(poll, clock, 0);
    expect(poll.isPolling).toBe(false);
    expect(clock.turns).toHaveLength(0);
  });

  test("after two quick requests in a row it polls turn by turn until pollMs after the last response", () => {
    const clock = manualClock();
    const poll = new BusyPoll(0.1, clock);
    request(poll, clock, 0);
    request(poll, clock, 0.05);
    // One quick gap may be chance (another client's request): no poll yet.
    expect(poll.isPolling).toBe(false);
    request(poll, clock, 0.05);
    expect(poll.isPolling).toBe(true);
    expect(clock.turns).toHaveLength(1);
    clock.timeMs += 0.06;
    clock.runTurn();
    expect(clock.turns).toHaveLength(1);
    // A response while polling extends the window and schedules no second chain of turns.
    request(poll, clock, 0);
    expect(clock.turns).toHaveLength(1);
    clock.timeMs += 0.08;
    clock.runTurn();
    expect(poll.isPolling).toBe(true);
    clock.timeMs += 0.03;
    clock.runTurn();
    expect(poll.isPolling).toBe(false);
    expect(clock.turns).toHaveLength(0);
  });

  test("a client slower than the window (a request later than pollMs after the last response) costs no poll", () => {
    const clock = manualClock();
    const poll = new BusyPoll(0.1, clock);
    for (let i = 0; i < 5; i++) request(poll, clock, 0.11);
    expect(poll.isPolling).toBe(false);
    expect(clock.turns).toHaveLength(0);
    // Two quick requests start a poll; a request that missed it stops the next one.
    request(poll, clock, 0.02);
    expect(poll.isPolling).toBe(false);
    request(poll, clock, 0.02);
    expect(poll.isPolling).toBe(true);
    clock.timeMs += 0.2;
    clock.runTurn();
    expect(poll.isPolling).toBe(false);
    request(poll, clock, 0);
    expect(clock.turns).toHaveLength(0);
  });

  test("sparse clients whose requests now and then follow a response closely cost no poll: one quick gap between slow ones", () => {
    const clock = manualClock();
    const poll = new BusyPoll(0.1, clock);
    for (let i = 0; i < 20; i++) request(poll, clock, i % 3 === 0 ? 0.01 : 0.5);
    expect(poll.isPolling).toBe(false);
    expect(clock.turns).toHaveLength(0);
  });

  test("pollMs 0 never polls, and stop() ends a poll at its next turn and prevents new ones", () => {
    const off = manualClock();
    const never = new BusyPoll(0, off);
    for (let i = 0; i < 3; i++) request(never, off, 0);
    expect(off.turns).toHaveLength(0);

    const clock = manualClock();
    const poll = new BusyPoll(5, clock);
    request(poll, clock, 0);
    request(poll, clock, 0);
    request(poll, clock, 0);
    expect(poll.isPolling).toBe(true);
    poll.stop();
    clock.runTurn();
    expect(poll.isPolling).toBe(false);
    request(poll, clock, 0);
    expect(clock.turns).toHaveLength(0);
  });
});

describe("the gateway's busy poll", () => {
  test("back-to-back appends are answered with it on and off, and stop() returns while it polls", async () => {
    for (const busyPollUs of [0, 1000]) {
      await using gw = await startTestGateway({ busyPollUs });
      for (let i = 0; i < 20; i++) {
        const response = await gw.unix("/v1/streams/s", jsonBody({ expectedVersion: i - 1, events: [{ type: "T", data: i }] }));
        expect(await response.json()).toEqual({ nextVersion: i, position: i });
      }
    }
  });

  test("busyPollUs out of range: the gateway refuses to start", async () => {
    using dir = tempDir();
    const node = startNode({ dataDir: dir.path, durability: "normal" });
    try {
      for (const busyPollUs of [-1, 1.5, 1001, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(startGateway(node, { socketPath: `${dir.path}/gw.sock`, busyPollUs })).rejects.toThrow(/busyPollUs must be an integer from 0 to 1000/);
      }
    } finally {
      await node.close();
    }
  });
});
