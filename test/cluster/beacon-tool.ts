// An attacker's tool for the replay test, run inside a namespace:
//   capture <source ip>  joins the mDNS group on eth0, waits for one edge-esdb announcement from
//                        that address, prints {"event":"captured","hex":...} and exits;
//   replay <hex>         sends those bytes, unchanged, to the mDNS group from eth0 and exits.

import { createSocket } from "node:dgram";
import os from "node:os";

const [command, argument] = process.argv.slice(2);
const eth0 = os.networkInterfaces().eth0?.find((i) => i.family === "IPv4")?.address;
if (eth0 === undefined || argument === undefined) throw new Error("usage: capture <ip> | replay <hex>, in a namespace with eth0");
const socket = createSocket({ type: "udp4", reuseAddr: true });

if (command === "capture") {
  socket.bind(5353, "0.0.0.0", () => {
    socket.addMembership("224.0.0.251", eth0);
  });
  socket.on("message", (message, rinfo) => {
    if (rinfo.address !== argument || !message.includes("_edge-esdb") || !message.includes("h=")) return;
    process.stdout.write(`${JSON.stringify({ event: "captured", hex: message.toString("hex") })}\n`);
    socket.close();
    process.exit(0);
  });
} else if (command === "replay") {
  socket.bind(0, eth0, () => {
    socket.setMulticastInterface(eth0);
    const bytes = Buffer.from(argument, "hex");
    socket.send(bytes, 5353, "224.0.0.251", () => {
      process.stdout.write(`${JSON.stringify({ event: "replayed" })}\n`);
      socket.close();
      process.exit(0);
    });
  });
} else {
  throw new Error(`unknown command ${command}`);
}
