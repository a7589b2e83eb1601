/** Version and commit, stamped by scripts/build.ts (`--define`); "-dev" when run from source. */
import pkg from "../package.json" with { type: "json" };

declare const __AGENT_VERSION__: string | undefined;
declare const __AGENT_COMMIT__: string | undefined;

export const VERSION: string =
  typeof __AGENT_VERSION__ === "string" ? __AGENT_VERSION__ : `${pkg.version}-dev`;
export const COMMIT: string = typeof __AGENT_COMMIT__ === "string" ? __AGENT_COMMIT__ : "unknown";
export const BUN_VERSION: string = Bun.version;
