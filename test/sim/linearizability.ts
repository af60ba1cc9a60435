// A Wing-Gong linearizability checker with Lowe's memoization (as Porcupine's checkSingle) for a
// register whose writes carry unique values. An operation that never got its answer has its
// response at +Infinity: it may take effect at any point after its call, or never be seen.

export type RegisterOp =
  | { kind: "write"; value: number; call: number; response: number }
  | { kind: "read"; value: number | null; call: number; response: number };

export type CheckResult = "ok" | "violation" | "gave-up";

interface Event {
  op: number;
  isCall: boolean;
  time: number;
  prev: Event | null;
  next: Event | null;
  match: Event | null;
}

/** Whether the history of one register is linearizable (ops carry distinct call times). */
export function checkRegister(ops: readonly RegisterOp[], stepsMax = 2_000_000): CheckResult {
  const events: Event[] = [];
  ops.forEach((o, i) => {
    const call: Event = { op: i, isCall: true, time: o.call, prev: null, next: null, match: null };
    const ret: Event = { op: i, isCall: false, time: o.response, prev: null, next: null, match: null };
    call.match = ret;
    events.push(call, ret);
  });
  // Calls sort before returns at the same time: overlapping is the permissive reading.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Event = { op: -1, isCall: false, time: -Infinity, prev: null, next: null, match: null };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  let state: number | null = null;
  let linearized = 0n;
  const cache = new Set<string>();
  const calls: Array<{ entry: Event; state: number | null }> = [];
  let entry = head.next;
  let steps = 0;
  while (head.next !== null) {
    if (++steps > stepsMax) return "gave-up";
    if (entry === null) return "violation";
    if (entry.isCall) {
      const o = ops[entry.op] as RegisterOp;
      const ok = o.kind === "write" || o.value === state;
      const nextState: number | null = o.kind === "write" ? o.value : state;
      if (ok) {
        const nextLinearized = linearized | (1n << BigInt(entry.op));
        const key = `${nextLinearized.toString(36)}|${nextState}`;
        if (!cache.has(key)) {
          cache.add(key);
          calls.push({ entry, state });
          state = nextState;
          linearized = nextLinearized;
          lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
    } else {
      const top = calls.pop();
      if (top === undefined) return "violation";
      state = top.state;
      linearized &= ~(1n << BigInt(top.entry.op));
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return "ok";
}

function lift(call: Event): void {
  remove(call);
  remove(call.match as Event);
}

function unlift(call: Event): void {
  const ret = call.match as Event;
  (ret.prev as Event).next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  (call.prev as Event).next = call;
  if (call.next !== null) call.next.prev = call;
}

function remove(e: Event): void {
  (e.prev as Event).next = e.next;
  if (e.next !== null) e.next.prev = e.prev;
}
