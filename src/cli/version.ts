// The program's version: package.json's, bundled in at build time.
import packageJson from "../../package.json" with { type: "json" };

export const version: string = packageJson.version;
