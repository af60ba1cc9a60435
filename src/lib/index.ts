// The shared basics every folder of src/ may import: assertions, the seeded PRNG, limits, errors.
export * from "./assert.ts";
export * from "./prng.ts";
export * from "./errors.ts";
export * as limits from "./limits.ts";
export * from "./uuid.ts";
