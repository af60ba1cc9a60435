// The registry of message types. Each type has a numeric id (carried in the frame header), a
// name, a size class (small: UDP when the frame fits; bulk: TCP) and a validator that every
// decoded body must pass before it reaches the caller. Raft, the node and tests register their
// types; ids below firstUserTypeId are the wire's own (handshake).

import { assert, InvalidArgumentError } from "../lib/index.ts";

export type SizeClass = "small" | "bulk";

/** A message as callers send and receive it: a registered type id and its body. */
export interface Message<Body = unknown> {
  readonly type: number;
  readonly body: Body;
}

export interface MessageType<Body = unknown> {
  readonly id: number;
  readonly name: string;
  readonly sizeClass: SizeClass;
  /** True when the decoded CBOR value is a well-formed body of this type. Must not throw. */
  readonly validate: (body: unknown) => body is Body;
}

/** Type ids 0..15 are the wire's own; callers register 16..65535. */
export const firstUserTypeId = 16;
export const typeIdMax = 0xffff;

/** A message type, typed: `defineMessage<Vote>(20, "raft.vote", "small", isVote)`. */
export function defineMessage<Body>(
  id: number,
  name: string,
  sizeClass: SizeClass,
  validate: (body: unknown) => body is Body,
): MessageType<Body> {
  assert(Number.isInteger(id) && id >= 0 && id <= typeIdMax, `message type id ${id} is a u16`);
  assert(name.length > 0, "message type has a name");
  return { id, name, sizeClass, validate };
}

export class MessageRegistry {
  private readonly types = new Map<number, MessageType>();
  private readonly names = new Set<string>();

  /** Registers a type; its id and name must be new, and not in the wire's reserved range. */
  register<Body>(type: MessageType<Body>): MessageType<Body> {
    if (type.id < firstUserTypeId) {
      throw new InvalidArgumentError(`message type id ${type.id} is reserved (user ids start at ${firstUserTypeId})`);
    }
    if (this.types.has(type.id)) throw new InvalidArgumentError(`message type id ${type.id} is already registered`);
    if (this.names.has(type.name)) throw new InvalidArgumentError(`message type name '${type.name}' is already registered`);
    this.types.set(type.id, type as MessageType);
    this.names.add(type.name);
    return type;
  }

  get(id: number): MessageType | undefined {
    return this.types.get(id);
  }

  /** The registered type of a message to send; a programmer error when it is not registered. */
  require(id: number): MessageType {
    const type = this.types.get(id);
    assert(type !== undefined, `message type ${id} is registered`);
    return type;
  }

  /** True when the message's type is registered and its body passes the validator. */
  isValid(message: Message): boolean {
    const type = this.types.get(message.type);
    return type !== undefined && type.validate(message.body);
  }
}

// ---- small validator helpers, for bodies that are plain objects ----

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function isUint(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= max;
}

export function isBytes(value: unknown, maxBytes: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length <= maxBytes;
}

export function isShortString(value: unknown, maxLength: number): value is string {
  return typeof value === "string" && value.length <= maxLength;
}
