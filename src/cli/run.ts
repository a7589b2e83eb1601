import { defineCommand } from "citty";
import type { LogType } from "consola";
import { Daemon } from "../agent/daemon.ts";
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
    const daemon = new Daemon(
      { ...loaded, model: loaded.model },
      { configPath: path, ...(args["config-id"] ? { configId: args["config-id"] } : {}) },
    );
    const stopped = new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log.info(`${sig} received: handing over and stopping`);
        daemon.stop().then(resolve, (e: unknown) => {
          log.error(`stopping: ${e instanceof Error ? e.message : String(e)}`);
          resolve();
        });
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
    // SIGHUP: reload, one at a time; a refused configuration leaves the running one.
    let reloading = Promise.resolve();
    process.on("SIGHUP", () => {
      reloading = reloading
        .then(() => daemon.reload())
        .then(
          (r) => {
            if (!r.ok) printDiagnostics(r.diagnostics);
          },
          (e: unknown) => log.error(`reload: ${e instanceof Error ? e.message : String(e)}`),
        );
    });
    await daemon.start();
    log.info(`started from ${path}: ${daemon.agent.running.size} instance(s)`);
    await stopped;
    log.info("stopped");
    return EXIT.OK;
  },
});
