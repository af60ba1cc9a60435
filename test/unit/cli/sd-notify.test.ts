// sd_notify over bun:ffi: the messages reach a fake NOTIFY_SOCKET (socat listening on a unix
// datagram socket, as systemd does), on a path and in the abstract namespace; without
// NOTIFY_SOCKET nothing is sent; a socket nobody listens on is an error; the watchdog pets at half
// of WATCHDOG_USEC and only for its own pid. Needs socat (CI installs it from .ci/apt-packages).

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { notifyReady, notifySocketAddress, notifyStopping, notifyWatchdog, sdNotify, startWatchdog, watchdogIntervalMs } from "../../../src/cli/sd-notify.ts";
import { tempDir } from "../../helpers/temp.ts";

const socatMissing = Bun.which("socat") === null ? "socat is missing (CI installs it from .ci/apt-packages)" : null;
if (socatMissing !== null) console.warn(`test/unit/cli/sd-notify: skipping the socket tests: ${socatMissing}`);

const savedEnv = { NOTIFY_SOCKET: process.env.NOTIFY_SOCKET, WATCHDOG_USEC: process.env.WATCHDOG_USEC, WATCHDOG_PID: process.env.WATCHDOG_PID };
afterEach(() => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** A fake systemd: socat receiving datagrams on `address` (UNIX-RECV path or ABSTRACT-RECV name), printing each. */
class FakeNotifySocket {
  private readonly child: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
  private text = "";
  private readonly reading: Promise<void>;

  constructor(socatAddress: string) {
    const child = Bun.spawn(["socat", "-u", socatAddress, "STDOUT"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.child = child;
    this.reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stdout) this.text += decoder.decode(chunk, { stream: true });
    })();
  }

  /** Waits until what arrived contains `expected` (the test's timeout bounds the wait). */
  async received(expected: string): Promise<string> {
    while (!this.text.includes(expected)) {
      if (this.child.exitCode !== null) throw new Error(`socat exited: ${await new Response(this.child.stderr).text()}`);
      await Bun.sleep(5);
    }
    return this.text;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.child.kill();
    await this.child.exited;
    await this.reading;
  }
}

async function waitForFile(file: string): Promise<void> {
  while (!existsSync(file)) await Bun.sleep(5);
}

describe("sd_notify", () => {
  test("does nothing without NOTIFY_SOCKET", () => {
    delete process.env.NOTIFY_SOCKET;
    expect(notifyReady("x")).toBe(false);
    expect(notifyWatchdog()).toBe(false);
    expect(notifyStopping()).toBe(false);
    expect(sdNotify("READY=1", { NOTIFY_SOCKET: "" })).toBe(false);
  });

  test("the address: a path ends with NUL, an abstract name starts with NUL and has no NUL after", () => {
    const p = notifySocketAddress("/run/systemd/notify");
    expect(p.length).toBe(2 + "/run/systemd/notify".length + 1);
    expect([...p.address.subarray(0, 3)]).toEqual([1, 0, "/".charCodeAt(0)]);
    const a = notifySocketAddress("@abc");
    expect(a.length).toBe(2 + 1 + 3);
    expect([...a.address.subarray(0, 6)]).toEqual([1, 0, 0, 97, 98, 99]);
    expect(() => notifySocketAddress(`/${"x".repeat(200)}`)).toThrow(/not a usable unix socket address/);
  });

  test.skipIf(socatMissing !== null)("READY, STATUS, WATCHDOG and STOPPING reach a socket on a path", async () => {
    using dir = tempDir();
    const socket = path.join(dir.path, "notify.sock");
    await using fake = new FakeNotifySocket(`UNIX-RECV:${socket}`);
    await waitForFile(socket);
    process.env.NOTIFY_SOCKET = socket;
    expect(notifyReady("store open, 3 events\nsecond line")).toBe(true);
    expect(await fake.received("STATUS=store open, 3 events second line")).toContain(`READY=1\nMAINPID=${process.pid}\nSTATUS=`);
    expect(notifyWatchdog()).toBe(true);
    await fake.received("WATCHDOG=1");
    expect(notifyStopping("closing")).toBe(true);
    await fake.received("STOPPING=1\nSTATUS=closing");
  });

  test.skipIf(socatMissing !== null)("an abstract NOTIFY_SOCKET (@name) works too", async () => {
    const name = `edge-esdb-test-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
    await using fake = new FakeNotifySocket(`ABSTRACT-RECV:${name}`);
    // The abstract socket has no file to wait for: retry until socat is bound.
    process.env.NOTIFY_SOCKET = `@${name}`;
    for (;;) {
      try {
        notifyReady();
        break;
      } catch {
        await Bun.sleep(5);
      }
    }
    expect(await fake.received("READY=1")).toContain(`MAINPID=${process.pid}`);
  });

  test("a NOTIFY_SOCKET nobody listens on is an error, not a silent success", () => {
    using dir = tempDir();
    expect(() => sdNotify("READY=1", { NOTIFY_SOCKET: path.join(dir.path, "absent.sock") })).toThrow(/sendto .* failed/);
  });

  test("the watchdog interval is half of WATCHDOG_USEC, and only for this process", () => {
    expect(watchdogIntervalMs({})).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" })).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: String(process.pid) })).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: String(process.pid + 1) })).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "nope" })).toBeNull();
  });

  test.skipIf(socatMissing !== null)("startWatchdog pets while healthy, and stops when told", async () => {
    using dir = tempDir();
    const socket = path.join(dir.path, "notify.sock");
    await using fake = new FakeNotifySocket(`UNIX-RECV:${socket}`);
    await waitForFile(socket);
    process.env.NOTIFY_SOCKET = socket;
    process.env.WATCHDOG_USEC = "20000";
    let checks = 0;
    const stop = startWatchdog(() => ++checks >= 2);
    const text = await fake.received("WATCHDOG=1");
    stop();
    expect(checks).toBeGreaterThanOrEqual(2);
    expect(text.replaceAll("WATCHDOG=1", "")).toBe("");
  });
});
