// A small network lab made of Linux network namespaces, for the cluster tests: a switch
// namespace holding a bridge, and hosts each with a veth pair into it (10.77.0.<n>/24 on `eth0`
// inside the host). Names carry a random suffix; destroy() deletes every namespace it made, and
// with them every veth and the bridge. Needs root (or CAP_NET_ADMIN) and iproute2; `lossPercent`
// uses `tc netem` when the kernel has it, else an nftables rule that drops at random.

import { randomBytes } from "node:crypto";

export interface Host {
  readonly ns: string;
  readonly ip: string;
  readonly iface: string;
}

function run(args: string[]): { ok: boolean; out: string } {
  const result = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, out: `${result.stdout.toString()}${result.stderr.toString()}` };
}

function must(args: string[]): string {
  const result = run(args);
  if (!result.ok) throw new Error(`${args.join(" ")} failed: ${result.out}`);
  return result.out;
}

/** Why namespace tests cannot run here, or null when they can. */
export function namespaceSupport(): string | null {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "network namespace tests need root (CI runs them as root)";
  if (!run(["ip", "-V"]).ok) return "iproute2 (`ip`) is not installed (apt-get install iproute2)";
  const probe = `ees-probe-${randomBytes(3).toString("hex")}`;
  const added = run(["ip", "netns", "add", probe]);
  if (!added.ok) return `cannot create a network namespace: ${added.out.trim()}`;
  run(["ip", "netns", "del", probe]);
  return null;
}

export class Lab {
  readonly suffix = randomBytes(3).toString("hex");
  readonly switchNs = `ees-${this.suffix}-sw`;
  readonly hosts: Host[] = [];
  private readonly namespaces: string[] = [];
  lossMethod: "netem" | "nftables" | null = null;

  constructor(hostCount: number) {
    try {
      this.addNs(this.switchNs);
      must(["ip", "-n", this.switchNs, "link", "add", "br0", "type", "bridge"]);
      // No IGMP snooping: every port sees every multicast packet, as on a plain switch.
      must(["ip", "-n", this.switchNs, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0"]);
      must(["ip", "-n", this.switchNs, "link", "set", "br0", "up"]);
      for (let i = 1; i <= hostCount; i++) this.addHost(i);
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  /** One more host on the bridge (10.77.0.<n>). */
  addHost(n: number): Host {
    const ns = `ees-${this.suffix}-h${n}`;
    this.addNs(ns);
    const port = `p${n}`;
    must(["ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", this.switchNs]);
    must(["ip", "-n", this.switchNs, "link", "set", port, "master", "br0"]);
    must(["ip", "-n", this.switchNs, "link", "set", port, "up"]);
    must(["ip", "-n", ns, "addr", "add", `10.77.0.${n}/24`, "dev", "eth0"]);
    must(["ip", "-n", ns, "link", "set", "eth0", "up"]);
    must(["ip", "-n", ns, "link", "set", "lo", "up"]);
    // A default route inside the namespace only, so "the default route's interface" is eth0 here.
    must(["ip", "-n", ns, "route", "add", "default", "dev", "eth0"]);
    const host = { ns, ip: `10.77.0.${n}`, iface: "eth0" };
    this.hosts.push(host);
    return host;
  }

  /** Random loss (and a little delay, with netem) on every host's traffic. */
  setLoss(percent: number): void {
    for (const host of this.hosts) {
      const netem = run(["ip", "netns", "exec", host.ns, "tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "loss", `${percent}%`, "delay", "2ms"]);
      if (netem.ok) {
        this.lossMethod = "netem";
        continue;
      }
      // No sch_netem in this kernel: drop incoming packets at random with nftables instead.
      must(["ip", "netns", "exec", host.ns, "nft", "add", "table", "inet", "ees_loss"]);
      must(["ip", "netns", "exec", host.ns, "nft", "add", "chain", "inet", "ees_loss", "input", "{ type filter hook input priority 0 ; }"]);
      const threshold = Math.round((percent / 100) * 1000);
      must(["ip", "netns", "exec", host.ns, "nft", "add", "rule", "inet", "ees_loss", "input", "numgen", "random", "mod", "1000", "<", String(threshold), "drop"]);
      this.lossMethod = "nftables";
    }
  }

  clearLoss(): void {
    for (const host of this.hosts) {
      run(["ip", "netns", "exec", host.ns, "tc", "qdisc", "del", "dev", "eth0", "root"]);
      run(["ip", "netns", "exec", host.ns, "nft", "delete", "table", "inet", "ees_loss"]);
    }
  }

  destroy(): void {
    for (const ns of this.namespaces.splice(0).reverse()) {
      for (const pid of run(["ip", "netns", "pids", ns]).out.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      run(["ip", "netns", "del", ns]);
    }
  }

  private addNs(ns: string): void {
    must(["ip", "netns", "add", ns]);
    this.namespaces.push(ns);
  }
}
