// The simulator's replicated state machine: a few registers, each holding the id of the last
// write applied to it, plus per register the list of write ids in applied order and the set of
// applied write ids, so a retried write (same id) takes effect once, as the store does for a
// retried event id. Commands and snapshots are JSON bytes: the core only sees Uint8Array.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface WriteCommand {
  /** Unique per client write; a retry reuses it. */
  readonly writeId: number;
  readonly key: number;
}

export class Registers {
  values: Array<number | null>;
  histories: number[][];
  private readonly applied = new Set<number>();

  constructor(keyCount: number) {
    this.values = Array.from({ length: keyCount }, () => null);
    this.histories = Array.from({ length: keyCount }, () => []);
  }

  /** Applies a write; returns false when its id was applied before (a duplicate proposal). */
  apply(command: WriteCommand): boolean {
    if (this.applied.has(command.writeId)) return false;
    this.applied.add(command.writeId);
    this.values[command.key] = command.writeId;
    (this.histories[command.key] as number[]).push(command.writeId);
    return true;
  }

  has(writeId: number): boolean {
    return this.applied.has(writeId);
  }

  encode(): Uint8Array {
    return encoder.encode(JSON.stringify({ values: this.values, histories: this.histories }));
  }

  static decode(data: Uint8Array, keyCount: number): Registers {
    const r = new Registers(keyCount);
    if (data.length === 0) return r;
    const parsed = JSON.parse(decoder.decode(data)) as { values: Array<number | null>; histories: number[][] };
    r.values = parsed.values;
    r.histories = parsed.histories;
    for (const h of parsed.histories) for (const id of h) r.applied.add(id);
    return r;
  }

  fingerprint(): string {
    return JSON.stringify(this.histories);
  }
}

export function encodeWrite(command: WriteCommand): Uint8Array {
  return encoder.encode(`${command.writeId}:${command.key}`);
}

export function decodeWrite(data: Uint8Array): WriteCommand {
  const [id, key] = decoder.decode(data).split(":");
  return { writeId: Number(id), key: Number(key) };
}
