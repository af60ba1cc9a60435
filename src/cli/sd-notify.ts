// sd_notify(3) for the daemon under systemd (Type=notify): READY=1 once the store is open and the
// socket listens, WATCHDOG=1 while the daemon is healthy, STOPPING=1 on shutdown. Without
// NOTIFY_SOCKET (not started by systemd, or in tests) every call does nothing and returns false.
//
// Why FFI: NOTIFY_SOCKET is a unix *datagram* socket and Bun has no API for one (node:dgram is
// UDP only, Bun.connect is stream only). Spawning `systemd-notify` instead would need
// NotifyAccess=all (a wider hole), races with systemd's lookup of the exiting helper's cgroup,
// and forks a process every watchdog period on a board with 512 MiB. So we call libc's
// socket(2)/sendto(2)/close(2) through bun:ffi: three calls on a Linux ABI that is the same on
// x64 and arm64 (AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0o2000000, struct sockaddr_un =
// u16 family + 108 bytes of path). libc is opened lazily, once, on the first message.

import { dlopen, FFIType } from "bun:ffi";

const afUnix = 1;
const sockDgram = 2;
const sockCloexec = 0o2000000;
const sunPathBytesMax = 108;
const msgNoSignal = 0x4000;

type Libc = {
  socket: (domain: number, type: number, protocol: number) => number;
  sendto: (fd: number, buffer: Uint8Array, length: number, flags: number, address: Uint8Array, addressLength: number) => number | bigint;
  close: (fd: number) => number;
};

let libc: Libc | null = null;

function openLibc(): Libc {
  if (libc !== null) return libc;
  const lib = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
  libc = lib.symbols as unknown as Libc;
  return libc;
}

/** struct sockaddr_un for NOTIFY_SOCKET: a path, or "@name" for the abstract namespace. */
export function notifySocketAddress(socketPath: string): { address: Uint8Array; length: number } {
  const abstract = socketPath.startsWith("@");
  const name = new TextEncoder().encode(abstract ? socketPath.slice(1) : socketPath);
  if (socketPath.length === 0 || name.byteLength + 1 > sunPathBytesMax) throw new Error(`NOTIFY_SOCKET '${socketPath}' is not a usable unix socket address`);
  const address = new Uint8Array(2 + sunPathBytesMax);
  new DataView(address.buffer).setUint16(0, afUnix, true);
  // Abstract: a leading NUL and exactly the name's bytes; a path: the path and its NUL.
  address.set(name, abstract ? 3 : 2);
  const length = 2 + (abstract ? 1 + name.byteLength : name.byteLength + 1);
  return { address, length };
}

/**
 * Sends one notification ("READY=1\nSTATUS=...") to NOTIFY_SOCKET. Returns false when there is no
 * NOTIFY_SOCKET; throws when there is one and the message cannot be sent (systemd would then
 * never hear that we are ready, so the caller should know).
 */
export function sdNotify(state: string, env: Record<string, string | undefined> = process.env): boolean {
  const socketPath = env.NOTIFY_SOCKET;
  if (socketPath === undefined || socketPath === "") return false;
  const { address, length } = notifySocketAddress(socketPath);
  const message = new TextEncoder().encode(state);
  const c = openLibc();
  const fd = c.socket(afUnix, sockDgram | sockCloexec, 0);
  if (fd < 0) throw new Error("sd_notify: socket(AF_UNIX, SOCK_DGRAM) failed");
  try {
    const sent = Number(c.sendto(fd, message, message.byteLength, msgNoSignal, address, length));
    if (sent !== message.byteLength) throw new Error(`sd_notify: sendto ${socketPath} failed (returned ${sent})`);
  } finally {
    c.close(fd);
  }
  return true;
}

/** One line for `systemctl status`; newlines would start a new assignment, so they are dropped. */
function statusLine(status: string | undefined): string {
  return status === undefined ? "" : `\nSTATUS=${status.replace(/[\r\n]+/g, " ")}`;
}

/** Tells systemd the daemon is ready: call once the store is open and the socket listens. */
export function notifyReady(status?: string): boolean {
  return sdNotify(`READY=1\nMAINPID=${process.pid}${statusLine(status)}`);
}

/** Pets the watchdog: call at least every watchdogIntervalMs() while the daemon is healthy. */
export function notifyWatchdog(): boolean {
  return sdNotify("WATCHDOG=1");
}

/** Tells systemd a clean shutdown began (so it waits, up to TimeoutStopSec, instead of guessing). */
export function notifyStopping(status?: string): boolean {
  return sdNotify(`STOPPING=1${statusLine(status)}`);
}

/**
 * How often to pet the watchdog: half of WATCHDOG_USEC (systemd's advice), or null when systemd
 * asked for no watchdog or asked another process (WATCHDOG_PID).
 */
export function watchdogIntervalMs(env: Record<string, string | undefined> = process.env): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== "" && Number(env.WATCHDOG_PID) !== process.pid) return null;
  return Math.max(1, Math.floor(usec / 1000 / 2));
}

/**
 * Pets the watchdog every watchdogIntervalMs() for as long as `healthy()` says so (a store that
 * can no longer answer should let systemd restart it). Returns a function that stops it; does
 * nothing without a watchdog. The timer does not keep the process alive.
 */
export function startWatchdog(healthy: () => boolean = () => true): () => void {
  const intervalMs = watchdogIntervalMs();
  if (intervalMs === null) return () => {};
  const timer = setInterval(() => {
    if (healthy()) notifyWatchdog();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
