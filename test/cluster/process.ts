// Child processes inside namespaces, with their JSON-line output collected for the tests to wait on.

import type { Subprocess } from "bun";
import path from "node:path";

export interface ChildLine {
  event: string;
  [key: string]: unknown;
}

export class Child {
  readonly lines: ChildLine[] = [];
  readonly stderr: string[] = [];
  readonly process: Subprocess<"ignore", "pipe", "pipe">;
  readonly exited: Promise<number>;

  constructor(ns: string, script: string, args: string[]) {
    this.process = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, path.join(import.meta.dir, script), ...args], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      cwd: path.join(import.meta.dir, "../.."),
    });
    this.exited = this.process.exited;
    void this.read(this.process.stdout, (line) => {
      try {
        this.lines.push(JSON.parse(line) as ChildLine);
      } catch {
        this.stderr.push(line);
      }
    });
    void this.read(this.process.stderr, (line) => this.stderr.push(line));
  }

  has(predicate: (line: ChildLine) => boolean): boolean {
    return this.lines.some(predicate);
  }

  /** The node's view of a peer from its last up / down line. */
  isUp(peer: string): boolean {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const line = this.lines[i] as ChildLine;
      if (line.peer === peer && line.event === "cluster node up") return true;
      if (line.peer === peer && line.event === "cluster node down") return false;
    }
    return false;
  }

  lastDrops(): { transport: Record<string, Record<string, number>>; discovery: Record<string, Record<string, number>> } | null {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const line = this.lines[i] as ChildLine;
      if (line.event === "drops") return line as never;
    }
    return null;
  }

  async kill(signal: "SIGKILL" | "SIGTERM" = "SIGTERM"): Promise<void> {
    this.process.kill(signal);
    await this.exited;
  }

  private async read(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      let index: number;
      while ((index = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, index));
        buffer = buffer.slice(index + 1);
      }
    }
  }
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs: number, children: Child[] = []): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      const errors = children.flatMap((c) => c.stderr.slice(-5)).join("\n");
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${errors === "" ? "" : `\nchild stderr:\n${errors}`}`);
    }
    await Bun.sleep(20);
  }
}
