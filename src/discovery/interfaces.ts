// Which network interface multicast uses: a setting pins it (by name or IPv4 address); without
// one, the interface of the default route (from /proc/net/route), as a lone device expects.

import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import os from "node:os";
import { InvalidArgumentError } from "../lib/index.ts";

export interface ResolvedInterface {
  readonly name: string;
  readonly ipv4: string;
  readonly addresses: readonly string[];
}

/** The interface for a setting (a name or an IPv4 address), or the default route's. */
export function resolveInterface(setting: string | undefined): ResolvedInterface {
  const interfaces = os.networkInterfaces();
  const name = setting === undefined ? defaultRouteInterface() : setting;
  if (name === null) throw new InvalidArgumentError("no default route: set the multicast interface");
  for (const [ifName, infos] of Object.entries(interfaces)) {
    const list = infos ?? [];
    if (ifName === name || list.some((i) => i.address === name)) {
      const v4 = list.find((i) => i.family === "IPv4");
      if (v4 === undefined) throw new InvalidArgumentError(`interface '${name}' has no IPv4 address`);
      const addresses = list.filter((i) => i.family === "IPv4" || !i.address.startsWith("fe80")).map((i) => i.address);
      return { name: ifName, ipv4: isIPv4(name) ? name : v4.address, addresses };
    }
  }
  throw new InvalidArgumentError(`no network interface '${name}'`);
}

/** The name of the default route's interface, or null. */
export function defaultRouteInterface(): string | null {
  let table: string;
  try {
    table = readFileSync("/proc/net/route", "utf8");
  } catch {
    return null;
  }
  for (const line of table.split("\n").slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (destination === "00000000" && mask === "00000000" && iface !== undefined) return iface;
  }
  return null;
}
