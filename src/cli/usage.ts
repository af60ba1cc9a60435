// Commander's usage errors (a missing argument, an unknown command or option, a missing command)
// as the product's error: one line on stderr naming the problem, pointing at the command's help,
// and a non-zero exit. `--help` and `help` still print the whole help on stdout with exit 0.
//
// A subclass, not settings: commander copies settings to a subcommand only when it is created,
// and prints help for a missing command through help(), which no setting turns into one line.
// Every command made by `.command()` is made by createCommand, so every level gets this class.

import { Command, type ErrorOptions, type HelpContext } from "commander";

export class UsageCommand extends Command {
  override createCommand(name?: string): Command {
    return new UsageCommand(name);
  }

  /** Every usage error commander finds comes here; the whole help never follows it. */
  override error(message: string, errorOptions?: ErrorOptions): never {
    this.showHelpAfterError(false);
    return super.error(usageLine(message, commandPath(this)), errorOptions);
  }

  /**
   * help({ error: true }) is commander's answer to a command line that names no command (or an
   * unknown one after `help`): one line instead, with commander's exit code for it (1).
   */
  override help(context?: HelpContext | ((text: string) => string)): never {
    if (typeof context === "object" && context.error) return this.error(this.missingCommandMessage(), { code: "commander.help" });
    return super.help(context as HelpContext | undefined);
  }

  private missingCommandMessage(): string {
    const [first, second] = this.args;
    if (first === undefined) return "error: missing command";
    const unknown = first === "help" && second !== undefined ? second : first;
    return `error: unknown command '${unknown}'`;
  }
}

/** `edge-esdb snapshots list`: the names from the program down to `command`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Commander's message (its "error: ..." and any "(Did you mean ...?)" line) as one line. */
export function usageLine(message: string, path: string): string {
  const text = message
    .split("\n")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .join(" ");
  return `edge-esdb: ${text} (see ${path} --help)`;
}
