// The x64 Linux target (mini PCs, industrial boxes, VMs). The "baseline" runtime needs no AVX2:
// common small x64 boards (Celeron J/N Goldmont, older Atoms) do not have it.
import type { Target } from "../build/targets.ts";

export const target: Target = {
  name: "linux-x64",
  bunTarget: "bun-linux-x64-baseline",
  arch: "x64",
  debArch: "amd64",
};
