// The wire's limits (owned by src/codec, src/transport, src/discovery). Units last in every name.
export {};
