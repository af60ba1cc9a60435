// Proves the simulator's checkers can fail: each planted bug (RaftConfig.testingBugs, off in
// production) must be caught within a bounded number of seeds, by the checker meant for it.

import { expect, test } from "bun:test";
import type { TestingBugs } from "../../src/raft/index.ts";
import { runSeed } from "./simulator.ts";

interface Case {
  readonly bug: keyof TestingBugs;
  readonly profile: "default" | "adversarial";
  readonly seedsMax: number;
  /** The checker that should report it (a prefix of the failure message). */
  readonly caughtBy: RegExp;
}

const cases: Case[] = [
  // The paper's Figure 8: needs a leader cut off right after committing; the adversarial
  // profile makes that common.
  { bug: "commitOlderTermByCount", profile: "adversarial", seedsMax: 500, caughtBy: /^(leader completeness|state machine safety|apply order)/ },
  { bug: "grantTwoVotesInTerm", profile: "default", seedsMax: 200, caughtBy: /^election safety/ },
  { bug: "voteWithoutLogCheck", profile: "default", seedsMax: 300, caughtBy: /^(leader completeness|state machine safety|apply order)/ },
  { bug: "applyBeforeCommit", profile: "default", seedsMax: 200, caughtBy: /^(apply order|linearizability|durability|state machines differ)/ },
  { bug: "readWithoutQuorum", profile: "default", seedsMax: 1000, caughtBy: /^linearizability/ },
];

for (const c of cases) {
  test(`planted bug ${c.bug} is caught within ${c.seedsMax} seeds (${c.profile} profile)`, () => {
    // A bug may also trip one of the core's own assertions first (defence in depth); the test
    // wants the simulator's checker to catch it too, so it looks for the first checker failure.
    let caught: { seed: number; failure: string } | null = null;
    for (let seed = 1; seed <= c.seedsMax && caught === null; seed++) {
      const result = runSeed(seed, { profile: c.profile, testingBugs: { [c.bug]: true } });
      if (!result.ok && c.caughtBy.test(result.failure as string)) caught = { seed, failure: result.failure as string };
    }
    expect(caught).not.toBeNull();
  });
}
