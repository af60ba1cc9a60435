// The wire in real network namespaces (needs root: CI runs it as root; elsewhere it is skipped
// with the reason). A lab of a bridge and five hosts; nodes run as child processes inside the
// hosts with their multicast interface pinned to the namespace's eth0, so no packet leaves the
// lab. Checks: discovery within 3 s, messages over UDP and TCP, a stock mDNS browser (python3
// zeroconf) listing the nodes, a wrong-secret node never discovered nor heard, a captured beacon
// replayed later ignored, a killed node down and up again after restart, a goodbye on a clean
// stop, the default-route interface, convergence under 20% packet loss, and DNS discovery
// against dnsmasq.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { Lab, namespaceSupport } from "./netns.ts";
import { Child, waitFor, type ChildLine } from "./process.ts";
import type { ChildConfig } from "./node-child.ts";

const unsupported = namespaceSupport();
if (unsupported !== null) console.warn(`test/cluster skipped: ${unsupported}`);
const hasZeroconf = Bun.spawnSync(["/usr/bin/python3", "-c", "import zeroconf"]).exitCode === 0;
const hasDnsmasq = Bun.spawnSync(["sh", "-c", "command -v dnsmasq"]).exitCode === 0;
if (unsupported === null && !hasZeroconf) console.warn("test/cluster: stock browser test skipped: apt-get install python3-zeroconf");
if (unsupported === null && !hasDnsmasq) console.warn("test/cluster: DNS test skipped: apt-get install dnsmasq-base");

const secret = "the lab's shared secret, long enough";
const windowMs = 5000;

describe.skipIf(unsupported !== null)("the wire in network namespaces (root)", () => {
  let lab: Lab;
  const children: Child[] = [];

  beforeAll(() => {
    lab = new Lab(5);
  });
  afterAll(async () => {
    for (const child of children) child.process.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    lab?.destroy();
  });

  function host(n: number) {
    return lab.hosts[n - 1] as (typeof lab.hosts)[number];
  }

  function startNode(n: number, config: Partial<ChildConfig> & { nodeId: string }): Child {
    const full: ChildConfig = { secret, interface: "eth0", announceIntervalMs: 500, beaconWindowMs: windowMs, ...config };
    const child = new Child(host(n).ns, "node-child.ts", [JSON.stringify(full)]);
    children.push(child);
    return child;
  }

  function runTool(n: number, args: string[]): Child {
    const child = new Child(host(n).ns, "beacon-tool.ts", args);
    children.push(child);
    return child;
  }

  const messagesFrom = (child: Child, from: string, type?: number) =>
    child.lines.filter((l) => l.event === "message" && l.from === from && (type === undefined || l.type === type)).length;
  const allSeeAll = (nodes: Child[], ids: string[]) => () => nodes.every((node, i) => ids.every((id, j) => i === j || node.isUp(id)));
  const started = (nodes: Child[]) => () => nodes.every((n) => n.has((l) => l.event === "started"));
  const discoveryDrops = (child: Child, peer: string, reason: string) => child.lastDrops()?.discovery[peer]?.[reason] ?? 0;
  const transportDrops = (child: Child, peer: string, reason: string) => child.lastDrops()?.transport[peer]?.[reason] ?? 0;

  let nodes: Child[] = [];
  const ids = ["node-1", "node-2", "node-3"];

  test("three nodes discover each other within 3 s, then exchange UDP and TCP messages", async () => {
    nodes = ids.map((nodeId, i) => startNode(i + 1, { nodeId }));
    await waitFor(started(nodes), "the nodes to start", 15_000, nodes);
    await waitFor(allSeeAll(nodes, ids), "every node to discover the others", 3000, nodes);
    await waitFor(
      () => nodes.every((node, i) => ids.every((id, j) => i === j || (messagesFrom(node, id, 16) > 0 && messagesFrom(node, id, 17) > 0))),
      "pings (UDP) and blobs (TCP) between every pair",
      5000,
      nodes,
    );
  });

  test.skipIf(!hasZeroconf)("a stock mDNS browser (python3-zeroconf) lists the nodes", async () => {
    const result = Bun.spawnSync(["ip", "netns", "exec", host(4).ns, "/usr/bin/python3", path.join(import.meta.dir, "browse.py"), "10", "3"]);
    const found = JSON.parse(result.stdout.toString() || "{}") as Record<string, { port: number; addresses: string[]; id: string }>;
    expect(Object.values(found).map((s) => s.id).sort()).toEqual(ids);
    for (const [i, id] of ids.entries()) {
      const service = Object.entries(found).find(([, s]) => s.id === id);
      expect(service?.[0]).toBe(`${id}._edge-esdb._udp.local.`);
      expect(service?.[1].port).toBe(7400);
      expect(service?.[1].addresses).toContain(`10.77.0.${i + 1}`);
    }
  });

  test("a node with the wrong secret is never discovered and none of its frames is accepted", async () => {
    const evil = startNode(5, {
      nodeId: "node-evil",
      secret: "another secret, same cluster name",
      blast: [1, 2, 3].map((n) => ({ host: `10.77.0.${n}`, udpPort: 7400, tcpPort: 7401 })),
    });
    await waitFor(
      // Unverified frames are counted under their source address, not the id they claim.
      () => nodes.every((n) => discoveryDrops(n, "10.77.0.5", "bad_tag") >= 2 && transportDrops(n, "10.77.0.5", "bad_tag") >= 2),
      "every node to refuse the evil node's beacons and frames (bad_tag)",
      10_000,
      [evil, ...nodes],
    );
    const fromEvil = (l: ChildLine) => l.peer === "node-evil" || l.from === "node-evil" || String(l.from).startsWith("blast");
    for (const node of nodes) expect(node.lines.filter(fromEvil)).toEqual([]);
    expect(evil.lines.filter((l) => l.event === "cluster node up" || l.event === "message")).toEqual([]);
    await evil.kill("SIGKILL");
  });

  // Runs after the tests above, whether they passed or not: the next ones start fresh nodes.
  async function stopNodes(): Promise<void> {
    await Promise.all(nodes.map((n) => n.kill("SIGKILL")));
  }

  test("a captured beacon replayed later is ignored; a killed node goes down, and up again after restart", async () => {
    const capture = runTool(4, ["capture", "10.77.0.3"]);
    await waitFor(() => capture.has((l) => l.event === "captured"), "a beacon of node-3 captured", 5000, [capture]);
    const capturedAtMs = performance.now();
    const hex = capture.lines.find((l) => l.event === "captured")?.hex as string;
    await nodes[2]!.kill("SIGKILL");
    await waitFor(() => !nodes[0]!.isUp("node-3") && !nodes[1]!.isUp("node-3"), "node-3 reported down", 5000, nodes);
    const ignoredBefore = discoveryDrops(nodes[0]!, "node-3", "replayed") + discoveryDrops(nodes[0]!, "node-3", "stale");
    const replay = runTool(4, ["replay", hex]);
    await replay.exited;
    await waitFor(
      () => discoveryDrops(nodes[0]!, "node-3", "replayed") + discoveryDrops(nodes[0]!, "node-3", "stale") > ignoredBefore,
      "the replayed beacon refused",
      3000,
      nodes,
    );
    await waitFor(() => performance.now() - capturedAtMs > windowMs + 500, "the beacon window to pass", windowMs + 1000);
    const staleBefore = discoveryDrops(nodes[0]!, "node-3", "stale");
    await runTool(4, ["replay", hex]).exited;
    await waitFor(() => discoveryDrops(nodes[0]!, "node-3", "stale") > staleBefore, "the old beacon refused as stale", 3000, nodes);
    expect(nodes[0]!.isUp("node-3") || nodes[1]!.isUp("node-3")).toBe(false);

    const countBefore = messagesFrom(nodes[0]!, "node-3", 16);
    nodes[2] = startNode(3, { nodeId: "node-3" });
    await waitFor(() => nodes[0]!.isUp("node-3") && nodes[1]!.isUp("node-3"), "node-3 up again after its restart", 5000, nodes);
    // The restarted node's UDP frames pass the replay window (its sequence starts above the last run).
    await waitFor(() => messagesFrom(nodes[0]!, "node-3", 16) > countBefore + 3, "pings from the restarted node", 5000, nodes);
  });

  test("a node that stops cleanly says goodbye: the others report it down at once", async () => {
    await nodes[1]!.kill("SIGTERM");
    await waitFor(
      () => nodes[0]!.lines.some((l) => l.event === "cluster node down" && l.peer === "node-2" && l.reason === "goodbye"),
      "node-1 to see node-2's goodbye",
      3000,
      nodes,
    );
  });

  test("without a setting, the multicast interface is the default route's (here the lab's eth0)", () => {
    const code = `import { resolveInterface } from "./src/discovery/index.ts"; console.log(JSON.stringify(resolveInterface(undefined)));`;
    const result = Bun.spawnSync(["ip", "netns", "exec", host(4).ns, process.execPath, "-e", code], { cwd: path.join(import.meta.dir, "../..") });
    expect(JSON.parse(result.stdout.toString())).toMatchObject({ name: "eth0", ipv4: "10.77.0.4" });
  });

  test("with 20% packet loss, discovery still converges", async () => {
    await stopNodes();
    lab.setLoss(20);
    try {
      const lossIds = ["loss-1", "loss-2", "loss-3"];
      const lossy = lossIds.map((nodeId, i) => startNode(i + 1, { nodeId, clusterName: "loss-cluster" }));
      try {
        await waitFor(started(lossy), "the nodes to start", 15_000, lossy);
        await waitFor(allSeeAll(lossy, lossIds), `discovery under 20% loss (${lab.lossMethod})`, 15_000, lossy);
        // A 100 kB message over TCP at 20% loss each way: a segment lost again on retransmission
        // doubles the kernel's retransmission timeout (1 s before the first RTT sample, then 200 ms
        // up), so one pair in a run may need several seconds (8.5 s seen here under load). The
        // bound is what the kernel's back-off allows, not a speed; on failure the message names
        // each node's link state.
        const bulkMissing = () =>
          lossy.flatMap((node, i) => lossIds.filter((id, j) => i !== j && messagesFrom(node, id, 17) === 0).map((id) => `${id}->${lossIds[i]}`));
        try {
          await waitFor(() => bulkMissing().length === 0, "bulk over lossy TCP", 45_000, lossy);
        } catch (error) {
          const links = lossy.map((node, i) => `${lossIds[i]}: ${JSON.stringify(node.lines.findLast((l) => l.event === "drops")?.links ?? null)}`);
          throw new Error(`${(error as Error).message}\nno bulk message yet for ${bulkMissing().join(", ")}\n${links.join("\n")}`);
        }
      } finally {
        await Promise.all(lossy.map((n) => n.kill("SIGKILL")));
      }
    } finally {
      lab.clearLoss();
    }
  }, 120_000);

  test.skipIf(!hasDnsmasq)("DNS discovery (A and SRV records) against dnsmasq in a namespace", async () => {
    const dnsmasq = Bun.spawn(
      [
        "ip", "netns", "exec", host(5).ns, "dnsmasq", "-k", "--no-resolv", "--no-hosts", "--pid-file=", "--user=root",
        "--listen-address=10.77.0.5", "--bind-interfaces", "--log-facility=/dev/null",
        "--host-record=nodes.cluster.test,10.77.0.1", "--host-record=nodes.cluster.test,10.77.0.2", "--host-record=nodes.cluster.test,10.77.0.3",
        "--host-record=h1.cluster.test,10.77.0.1", "--host-record=h2.cluster.test,10.77.0.2",
        "--srv-host=_ees._udp.cluster.test,h1.cluster.test,5353", "--srv-host=_ees._udp.cluster.test,h2.cluster.test,5353",
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    try {
      const dnsIds = ["dns-1", "dns-2", "dns-3"];
      const dnsNodes = dnsIds.map((nodeId, i) =>
        startNode(i + 1, {
          nodeId,
          clusterName: "dns-cluster",
          multicast: false,
          dns: { names: [i === 2 ? "_ees._udp.cluster.test" : "nodes.cluster.test"], servers: ["10.77.0.5"], refreshIntervalMs: 500 },
        }),
      );
      try {
        await waitFor(started(dnsNodes), "the nodes to start", 15_000, dnsNodes);
        await waitFor(allSeeAll(dnsNodes, dnsIds), "discovery through DNS", 10_000, dnsNodes);
      } finally {
        await Promise.all(dnsNodes.map((n) => n.kill("SIGKILL")));
      }
    } finally {
      dnsmasq.kill("SIGKILL");
      await dnsmasq.exited;
    }
  });
});
