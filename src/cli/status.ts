/** `agent status [--json] [--control PATH]`: the running agent's state (design §4). */
import { defineCommand } from "citty";
import type { StatusDoc } from "../agent/status-types.ts";
import { EXIT, writeOut } from "./common.ts";
import { ask, controlArgs, controlPath, STATUS_TIMEOUT_MS } from "./control-client.ts";
import { renderStatus } from "./status-format.ts";

export default defineCommand({
  meta: {
    name: "status",
    description: "Show the running agent's instances, priorities, masters and VIPs",
  },
  args: {
    ...controlArgs,
    json: { type: "boolean", description: "Print the status document (schema 1) as JSON" },
  },
  async run({ args }): Promise<number> {
    const r = await ask("status", controlPath(args.control), "status", {}, STATUS_TIMEOUT_MS);
    if (!r.ok) return r.exit;
    // The agent builds the document from its own types; the CLI only prints it.
    const doc = r.result as StatusDoc;
    writeOut(args.json ? `${JSON.stringify(doc, null, 2)}\n` : renderStatus(doc, Date.now()));
    return EXIT.OK;
  },
});
