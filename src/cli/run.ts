import { defineCommand } from "citty";
import type { LogType } from "consola";
import { Hooks } from "../agent/hooks.ts";
import { Agent } from "../agent/loop.ts";
import { planInstances } from "../agent/params.ts";
import { RealHooks } from "../agent/real-hooks.ts";
import { RealIo } from "../agent/real-io.ts";
import { planTracking } from "../agent/track-plan.ts";
import { loadConfig } from "../config/load.ts";
import { AgentError } from "../errors.ts";
import { configureLogging, logger } from "../log/index.ts";
import { configArgs, EXIT, printDiagnostics, resolveConfigPath } from "./common.ts";

export default defineCommand({
  meta: {
    name: "run",
    description: "Run the agent in the foreground (VRRP; SIGTERM/SIGINT hand over and exit)",
  },
  args: {
    ...configArgs,
    control: {
      type: "string",
      description: "Control socket path (default /run/edge-agent/agent.sock)",
      valueHint: "PATH",
    },
    "log-format": {
      type: "enum",
      options: ["text", "json"],
      description: "Log format (default text)",
    },
    "log-level": {
      type: "enum",
      options: ["error", "warn", "info", "debug"],
      description: "Log level (default info)",
    },
  },
  async run({ args }): Promise<number> {
    configureLogging({
      level: (args["log-level"] ?? "info") as LogType,
      json: args["log-format"] === "json",
    });
    const log = logger("agent");
    const path = resolveConfigPath(args.config);
    const loaded = loadConfig(path, args["config-id"] ? { configId: args["config-id"] } : {});
    printDiagnostics(loaded.diagnostics);
    if (!loaded.model) {
      log.error(`${path}: invalid configuration, not starting`);
      return EXIT.INVALID;
    }
    if (process.getuid?.() !== 0)
      throw new AgentError(
        "E_NOT_ROOT",
        "agent run needs root (raw sockets and netlink: CAP_NET_RAW and CAP_NET_ADMIN)",
      );
    const g = loaded.model.global_defs;
    const io = new RealIo(logger("io"), {
      garpIntervalMs: g.vrrp_garp_interval * 1000,
      naIntervalMs: g.vrrp_gna_interval * 1000,
    });
    const m = loaded.model;
    const tracking = planTracking(m);
    for (const n of tracking.notes) logger("vrrp").warn(`(${n.owner}) ${n.text}`);
    const real = new RealHooks(m, logger("hooks"));
    const agent = new Agent(planInstances(m, io), io, logger("vrrp"), {
      hooks: new Hooks(m, real),
      tracking: { model: m, plan: tracking, io: real, linkUp: (i) => io.linkUp(i) },
    });
    const stopped = new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log.info(`${sig} received: handing over and stopping`);
        // keepalived kills running scripts first, then hands over, then runs STOP notifies.
        real.runner.terminateAll();
        agent
          .stop()
          .then(() => real.close())
          .then(resolve, (e: unknown) => {
            log.error(`stopping: ${e instanceof Error ? e.message : String(e)}`);
            resolve();
          });
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
    await agent.start();
    log.info(`started from ${path}: ${agent.running.size} instance(s)`);
    await stopped;
    log.info("stopped");
    return EXIT.OK;
  },
});
