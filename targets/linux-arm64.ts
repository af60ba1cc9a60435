// The 64-bit ARM Linux target: Raspberry Pi 3/4/5, Zero 2 W and similar boards on a 64-bit OS.
import type { Target } from "../build/targets.ts";

export const target: Target = {
  name: "linux-arm64",
  bunTarget: "bun-linux-arm64",
  arch: "arm64",
  debArch: "arm64",
};
