// Run by serve-command-line.test.ts in its own process: building the full program loads every
// command, self-check's cbor-x among them, and that must not leak into the test runner's other
// files (cbor-x would come up with its native addon there). Reads `{ accepted, refused }` (lists
// of argument lists) on stdin; prints what commander hands serve for each accepted line (those are
// serve lines: nothing else runs) and what the plain reader gives for every line.

import type { ServeOptions } from "../../src/cli/commands/serve.ts";
import { buildProgram, plainServeOptions } from "../../src/cli/main.ts";

type Outcome = ServeOptions | { commanderError: string };

async function viaCommander(args: readonly string[]): Promise<Outcome> {
  let seen: ServeOptions | null = null;
  const program = await buildProgram(async (options) => {
    seen = options;
  });
  const silent = { writeOut: () => {}, writeErr: () => {} };
  for (const command of [program, ...program.commands]) command.configureOutput(silent);
  try {
    await program.parseAsync(["bun", "edge-esdb", ...args]);
  } catch (error) {
    return { commanderError: (error as { code?: string }).code ?? String(error) };
  }
  if (seen === null) return { commanderError: "no serve" };
  // Commander passes options it did not see as undefined; the plain reader leaves them out.
  return Object.fromEntries(Object.entries(seen as ServeOptions).filter(([, value]) => value !== undefined));
}

const input = JSON.parse(await new Response(Bun.stdin.stream()).text()) as { accepted: string[][]; refused: string[][] };
const accepted: Array<{ args: string[]; commander: Outcome; plain: ServeOptions | null }> = [];
for (const args of input.accepted) accepted.push({ args, commander: await viaCommander(args), plain: plainServeOptions(["bun", "edge-esdb", ...args]) });
const refused = input.refused.map((args) => ({ args, plain: plainServeOptions(["bun", "edge-esdb", ...args]) }));
process.stdout.write(JSON.stringify({ accepted, refused }));
