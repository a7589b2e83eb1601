/**
 * `agent reload [--control PATH]`: the running agent re-reads its configuration (keepalived:
 * SIGHUP). A refused configuration leaves the agent on the old one: diagnostics, exit 1.
 */
import { defineCommand } from "citty";
import { EXIT, writeOut } from "./common.ts";
import {
  ACTION_TIMEOUT_MS,
  ask,
  controlArgs,
  controlPath,
  printAnswerDiagnostics,
} from "./control-client.ts";

export default defineCommand({
  meta: { name: "reload", description: "Make the running agent re-read its configuration" },
  args: { ...controlArgs },
  async run({ args }): Promise<number> {
    const r = await ask("reload", controlPath(args.control), "reload", {}, ACTION_TIMEOUT_MS);
    if (!r.ok) return r.exit;
    const res = r.result;
    // Warnings of an accepted configuration, if the agent sends them.
    if (
      typeof res === "object" &&
      res !== null &&
      "diagnostics" in res &&
      Array.isArray(res.diagnostics)
    )
      printAnswerDiagnostics(res.diagnostics);
    writeOut("reloaded\n");
    return EXIT.OK;
  },
});
