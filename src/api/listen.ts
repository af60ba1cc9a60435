// Where the gateway listens: the default unix socket path, the loopback test for TCP hosts, and
// making a socket path ready (refusing one a live server answers on, removing a stale one).

import { existsSync, lstatSync, unlinkSync } from "node:fs";
import path from "node:path";
import { InvalidArgumentError, limits } from "../lib/index.ts";

export const socketFileName = "edge-esdb.sock";

/**
 * The unix socket when none is configured: `$RUNTIME_DIRECTORY` (systemd's RuntimeDirectory=),
 * else `$XDG_RUNTIME_DIR`, else the data dir; the file is `edge-esdb.sock` in it.
 */
export function defaultSocketPath(dataDir: string, env: Record<string, string | undefined> = process.env): string {
  // systemd may list several runtime directories separated by ':'; the first is ours.
  const runtime = env.RUNTIME_DIRECTORY?.split(":")[0];
  const directory = runtime !== undefined && runtime !== "" ? runtime : env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== "" ? env.XDG_RUNTIME_DIR : dataDir;
  return path.resolve(directory, socketFileName);
}

/** True for hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** Checks the socket path and removes a stale socket file; throws when a server answers on it. */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > limits.unixSocketPathBytesMax) {
    throw new InvalidArgumentError(`socket path '${socketPath}' is ${bytes} bytes, over unixSocketPathBytesMax = ${limits.unixSocketPathBytesMax}`);
  }
  if (!existsSync(socketPath)) return;
  if (!lstatSync(socketPath).isSocket()) throw new InvalidArgumentError(`'${socketPath}' exists and is not a socket: refusing to replace it`);
  if (await socketAnswers(socketPath)) throw new InvalidArgumentError(`socket '${socketPath}' is in use by a running server`);
  unlinkSync(socketPath);
}

async function socketAnswers(socketPath: string): Promise<boolean> {
  try {
    const socket = await Bun.connect({ unix: socketPath, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}
