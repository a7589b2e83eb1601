/**
 * `agent maintenance on|off [--control PATH]`: drain mode. While on, the agent hands over
 * and stays BACKUP (it never becomes MASTER) until `off`.
 */
import { defineCommand } from "citty";
import { AgentError } from "../errors.ts";
import { EXIT } from "./common.ts";
import { ACTION_TIMEOUT_MS, ask, controlArgs, controlPath, printResult } from "./control-client.ts";

export default defineCommand({
  meta: { name: "maintenance", description: "Drain this node (on: stay BACKUP) or end it (off)" },
  args: {
    mode: { type: "positional", required: true, description: "on or off", valueHint: "on|off" },
    ...controlArgs,
    json: { type: "boolean", description: "Print the agent's answer as JSON" },
  },
  async run({ args }): Promise<number> {
    const mode = args.mode;
    if (mode !== "on" && mode !== "off")
      throw new AgentError("E_USAGE", `expected 'on' or 'off', got '${mode}'`, "mode");
    const on = mode === "on";
    const r = await ask(
      "maintenance",
      controlPath(args.control),
      "maintenance",
      { on },
      ACTION_TIMEOUT_MS,
    );
    if (!r.ok) return r.exit;
    printResult(r.result, args.json === true, `maintenance ${mode}`);
    return EXIT.OK;
  },
});
