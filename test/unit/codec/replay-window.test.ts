// The UDP replay window: accepted once, reordering inside the window, refusals behind it, a
// restarted sender, a restarted receiver, resync after a clock that went back, and the bounded
// number of senders.

import { describe, expect, test } from "bun:test";
import { ReplayWindows, udpSequenceStart } from "../../../src/codec/index.ts";
import { replaySendersMax, replayWindowFrames, udpSequenceAgeMsMax } from "../../../src/lib/limits-wire.ts";
import { TestClock } from "./fixtures.ts";

describe("replay window", () => {
  const start = udpSequenceStart(1_800_000_000_000);

  function accept(w: ReplayWindows, sender: string, sequence: number): boolean {
    if (w.check(sender, sequence) !== null) return false;
    w.accept(sender, sequence);
    return true;
  }

  test("each sequence is accepted once, in any order inside the window", () => {
    const w = new ReplayWindows(new TestClock().now);
    const order = [5, 1, 3, 2, 10, 4, 9, 6, 8, 7].map((n) => start + n);
    for (const s of order) expect(accept(w, "a", s)).toBe(true);
    for (const s of order) expect(accept(w, "a", s)).toBe(false);
    expect(accept(w, "a", start)).toBe(true); // never seen, inside the window
  });

  test("a sequence a whole window behind the highest is refused, one just inside is accepted", () => {
    const w = new ReplayWindows(new TestClock().now);
    const high = start + 5 * replayWindowFrames;
    expect(accept(w, "a", high)).toBe(true);
    expect(accept(w, "a", high - replayWindowFrames)).toBe(false);
    expect(accept(w, "a", high - replayWindowFrames + 1)).toBe(true);
  });

  test("a big jump forward forgets the old bits without accepting old sequences again", () => {
    const w = new ReplayWindows(new TestClock().now);
    for (let i = 0; i < 100; i++) accept(w, "a", start + i);
    expect(accept(w, "a", start + 100 + 3 * replayWindowFrames)).toBe(true);
    for (let i = 0; i < 100; i++) expect(accept(w, "a", start + i)).toBe(false);
  });

  test("senders are independent", () => {
    const w = new ReplayWindows(new TestClock().now);
    expect(accept(w, "a", start)).toBe(true);
    expect(accept(w, "b", start)).toBe(true);
    expect(accept(w, "a", start)).toBe(false);
  });

  test("a restarted sender starts above its last run (its sequence starts from the clock)", () => {
    const w = new ReplayWindows(new TestClock().now);
    const firstRun = udpSequenceStart(1_800_000_000_000);
    for (let i = 0; i < 2000; i++) expect(accept(w, "a", firstRun + i)).toBe(true);
    const secondRun = udpSequenceStart(1_800_000_000_000 + 1000);
    expect(secondRun).toBeGreaterThan(firstRun + 2000);
    expect(accept(w, "a", secondRun)).toBe(true);
    expect(accept(w, "a", firstRun + 1999)).toBe(false);
  });

  test("resync from a handshake lets a sender whose clock went back be heard, and only then", () => {
    const w = new ReplayWindows(new TestClock(1_800_000_100_000).now);
    const later = udpSequenceStart(1_800_000_100_000);
    accept(w, "a", later);
    const earlier = udpSequenceStart(1_800_000_000_000);
    expect(accept(w, "a", earlier)).toBe(false);
    w.resync("a", earlier);
    expect(accept(w, "a", earlier)).toBe(true);
    expect(accept(w, "a", earlier)).toBe(false);
    expect(accept(w, "a", earlier - 1)).toBe(false);
  });

  test("resync a little behind the highest (frames in flight during a handshake) changes nothing", () => {
    const w = new ReplayWindows(new TestClock().now);
    for (let i = 0; i < 10; i++) accept(w, "a", start + i);
    w.resync("a", start + 5);
    for (let i = 0; i < 10; i++) expect(accept(w, "a", start + i)).toBe(false);
  });

  test("a handshake of a run the window already knows never reopens accepted datagrams to replay", () => {
    const w = new ReplayWindows(new TestClock().now);
    const run = start;
    w.resync("a", start, run);
    // More than a window's width of datagrams accepted after the handshake value was taken...
    for (let i = 0; i < replayWindowFrames + 10; i++) expect(accept(w, "a", start + i)).toBe(true);
    // ...then another connection's handshake of the same run, with a value taken before them.
    w.resync("a", start + 5, run);
    for (const replay of [start + 5, start + 100, start + replayWindowFrames + 9]) expect(accept(w, "a", replay)).toBe(false);
    // A new run (the sender restarted with its clock behind) does move the window back.
    const restarted = start - 10_000;
    w.resync("a", restarted, restarted);
    expect(accept(w, "a", restarted)).toBe(true);
    expect(accept(w, "a", restarted)).toBe(false);
  });

  test("at most replaySendersMax senders are remembered; the least recent is forgotten", () => {
    const w = new ReplayWindows(new TestClock().now);
    for (let i = 0; i <= replaySendersMax; i++) accept(w, `s${i}`, start);
    expect(w.highestOf("s0")).toBeUndefined();
    expect(w.highestOf(`s${replaySendersMax}`)).toBe(start);
  });

  test("a restarted receiver refuses a datagram older than udpSequenceAgeMsMax, and hears a live sender", () => {
    const clock = new TestClock();
    const captured = udpSequenceStart(clock.ms);
    const before = new ReplayWindows(clock.now);
    expect(accept(before, "a", captured)).toBe(true);
    clock.advance(udpSequenceAgeMsMax + 1);
    const restarted = new ReplayWindows(clock.now); // no memory of "a"
    expect(restarted.check("a", captured)).toBe("stale");
    expect(accept(restarted, "a", udpSequenceStart(clock.ms - 1000))).toBe(true); // a clock a second behind
    expect(accept(restarted, "a", captured)).toBe(false);
  });

  test("a forgotten sender (evicted) is not open to old replays either", () => {
    const clock = new TestClock();
    const w = new ReplayWindows(clock.now);
    const old = udpSequenceStart(clock.ms);
    expect(accept(w, "a", old)).toBe(true);
    clock.advance(udpSequenceAgeMsMax + 1);
    for (let i = 0; i < replaySendersMax; i++) accept(w, `s${i}`, udpSequenceStart(clock.ms));
    expect(w.highestOf("a")).toBeUndefined();
    expect(accept(w, "a", old + 1)).toBe(false);
  });

  test("resync gives a sender with no window, whose clock is far behind, a window from its next sequence", () => {
    const clock = new TestClock();
    const w = new ReplayWindows(clock.now);
    const behind = udpSequenceStart(clock.ms - 5 * 60_000);
    expect(w.check("a", behind)).toBe("stale");
    w.resync("a", behind + 10);
    expect(accept(w, "a", behind + 10)).toBe(true);
    expect(accept(w, "a", behind + 11)).toBe(true);
    expect(accept(w, "a", behind + 9)).toBe(false); // sent before the handshake
  });
});
