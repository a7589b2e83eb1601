/**
 * `agent failover [INSTANCE] [--control PATH]`: graceful hand-over — the agent, as MASTER,
 * sends a priority-0 advert so a backup takes over at once (RFC 5798 §6.4.3). All instances
 * when none is named.
 */
import { defineCommand } from "citty";
import { EXIT } from "./common.ts";
import { ACTION_TIMEOUT_MS, ask, controlArgs, controlPath, printResult } from "./control-client.ts";

export default defineCommand({
  meta: { name: "failover", description: "Hand MASTER over to a backup (priority-0 advert)" },
  args: {
    instance: {
      type: "positional",
      required: false,
      description: "The vrrp_instance to hand over (default: all)",
      valueHint: "INSTANCE",
    },
    ...controlArgs,
    json: { type: "boolean", description: "Print the agent's answer as JSON" },
  },
  async run({ args }): Promise<number> {
    const inst = args.instance;
    const r = await ask(
      "failover",
      controlPath(args.control),
      "failover",
      inst ? { instance: inst } : {},
      ACTION_TIMEOUT_MS,
    );
    if (!r.ok) return r.exit;
    printResult(r.result, args.json === true, `failover requested for ${inst ?? "all instances"}`);
    return EXIT.OK;
  },
});
