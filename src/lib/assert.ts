// Assertions for invariants the code relies on. They stay on in production: a broken invariant
// is a programmer error, and a database that goes on after one corrupts data. Operating errors
// (bad input, full disk, a peer gone) are not asserted; they are handled and typed (errors.ts).

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`assertion failed: ${message}`);
}

/** For the branch of a switch that the types say cannot be reached. */
export function unreachable(value: never, message = "unreachable"): never {
  throw new AssertionError(`${message}: ${JSON.stringify(value)}`);
}
