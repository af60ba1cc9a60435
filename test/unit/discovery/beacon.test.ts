// Signed beacons: round trip, and every reason a beacon is ignored: a bad tag, another cluster,
// a time outside the window, a nonce seen before, another protocol version, a malformed record.

import { describe, expect, test } from "bun:test";
import { BeaconGuard, newNonce, openBeacon, signBeacon, type Beacon } from "../../../src/discovery/index.ts";
import { limits } from "../../../src/lib/index.ts";
import { keys, secretA, secretB, TestClock } from "../codec/fixtures.ts";

function beacon(overrides: Partial<Beacon> = {}): Beacon {
  return {
    nodeId: "node-a",
    clusterName: "test-cluster",
    udpPort: 4000,
    tcpPort: 4001,
    version: 1,
    timeMs: 1_800_000_000_000,
    nonce: newNonce(),
    addresses: ["10.0.0.1", "fd00::1"],
    goodbye: false,
    ...overrides,
  };
}

describe("beacons", () => {
  test("the goodbye is a signed field: turning an announcement into a goodbye breaks the tag", () => {
    const k = keys(secretA);
    const bye = openBeacon(signBeacon(beacon({ goodbye: true }), k), k);
    expect(bye.ok && bye.beacon.goodbye).toBe(true);
    const forged = signBeacon(beacon(), k).map((field) => (field === "b=0" ? "b=1" : field));
    expect(openBeacon(forged, k)).toMatchObject({ ok: false, reason: "bad_tag" });
  });

  test("a signed beacon opens with every field", () => {
    const b = beacon();
    const txt = signBeacon(b, keys());
    expect(txt.map((t) => t.split("=")[0])).toEqual(["id", "c", "u", "t", "v", "ts", "n", "a", "b", "h"]);
    expect(openBeacon(txt, keys())).toEqual({ ok: true, beacon: b });
    expect(openBeacon(txt.map((t) => new TextEncoder().encode(t)), keys())).toEqual({ ok: true, beacon: b });
  });

  test("bad_tag: another secret, or any signed field changed", () => {
    expect(openBeacon(signBeacon(beacon(), keys(secretB)), keys(secretA))).toMatchObject({ ok: false, reason: "bad_tag", nodeId: "node-a" });
    const txt = signBeacon(beacon(), keys());
    for (let i = 0; i < 8; i++) {
      if (i === 1) continue; // the cluster name: wrong_cluster below
      const changed = txt.slice();
      changed[i] = (changed[i] as string).replace(/.$/, (c) => (c === "2" ? "3" : "2"));
      expect(openBeacon(changed, keys())).toMatchObject({ ok: false, reason: "bad_tag" });
    }
  });

  test("rotation: a beacon signed with the previous secret is accepted by a rotating node", () => {
    expect(openBeacon(signBeacon(beacon(), keys(secretA)), keys(secretB, secretA)).ok).toBe(true);
  });

  test("wrong_cluster: another cluster's beacon, even with the same secret", () => {
    const other = keys(secretA, null, "other-cluster");
    expect(openBeacon(signBeacon(beacon({ clusterName: "other-cluster" }), other), keys())).toMatchObject({ ok: false, reason: "wrong_cluster" });
  });

  test("unsupported_version: a signed beacon of a version this node cannot speak", () => {
    expect(openBeacon(signBeacon(beacon({ version: 99 }), keys()), keys())).toMatchObject({ ok: false, reason: "unsupported_version", version: 99 });
  });

  test("malformed_body: missing, duplicated or unparsable fields", () => {
    const txt = signBeacon(beacon(), keys());
    expect(openBeacon(txt.slice(0, -1), keys())).toMatchObject({ ok: false, reason: "malformed_body" });
    expect(openBeacon([...txt, txt[0] as string], keys())).toMatchObject({ ok: false, reason: "malformed_body" });
    expect(openBeacon(["garbage"], keys())).toMatchObject({ ok: false, reason: "malformed_body" });
    expect(openBeacon(signBeacon(beacon({ udpPort: 70000 }), keys()), keys())).toMatchObject({ ok: false, reason: "malformed_body" });
    expect(openBeacon(signBeacon(beacon({ addresses: ["not-an-ip"] }), keys()), keys())).toMatchObject({ ok: false, reason: "malformed_body" });
  });
});

describe("beacon guard", () => {
  test("stale: a time outside the window either way; inside it is accepted", () => {
    const clock = new TestClock(1_800_000_000_000);
    const guard = new BeaconGuard(30_000, clock.now);
    expect(guard.check(beacon({ timeMs: clock.ms - 30_001 }))).toBe("stale");
    expect(guard.check(beacon({ timeMs: clock.ms + 30_001 }))).toBe("stale");
    expect(guard.check(beacon({ timeMs: clock.ms - 30_000 }))).toBeNull();
  });

  test("replayed: the same beacon twice inside the window; a captured one later is stale", () => {
    const clock = new TestClock(1_800_000_000_000);
    const guard = new BeaconGuard(30_000, clock.now);
    const captured = beacon();
    expect(guard.check(captured)).toBeNull();
    expect(guard.check(captured)).toBe("replayed");
    clock.advance(31_000);
    expect(guard.check(captured)).toBe("stale");
  });

  test("the nonce cache is bounded", () => {
    const clock = new TestClock(1_800_000_000_000);
    const guard = new BeaconGuard(30_000, clock.now);
    const first = beacon();
    guard.check(first);
    for (let i = 0; i < limits.beaconNoncesMax; i++) guard.check(beacon());
    // The oldest nonce was forgotten: memory stays bounded (the time window still limits replays).
    expect(guard.check(first)).toBeNull();
  });
});
