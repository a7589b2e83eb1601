import { defineCommand } from "citty";
import { BUN_VERSION, COMMIT, VERSION } from "../version.ts";
import { EXIT, writeOut } from "./common.ts";

export default defineCommand({
  meta: { name: "version", description: "Print version, git commit and Bun version" },
  args: {},
  run(): number {
    writeOut(`agent ${VERSION} (commit ${COMMIT}, bun ${BUN_VERSION})\n`);
    return EXIT.OK;
  },
});
