// Raft's limits (owned by src/raft). Units last in every name.
export {};
