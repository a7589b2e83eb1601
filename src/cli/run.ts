import { defineCommand } from "citty";
import type { LogType } from "consola";
import { Daemon } from "../agent/daemon.ts";
import { startOperations } from "../agent/operations.ts";
import { loadConfig } from "../config/load.ts";
import { AgentError } from "../errors.ts";
import { SdNotify } from "../io/sd-notify.ts";
import { configureLogging, logger } from "../log/index.ts";
import { configArgs, EXIT, printDiagnostics, resolveConfigPath } from "./common.ts";
import { controlArgs, controlPath } from "./control-client.ts";

export default defineCommand({
  meta: {
    name: "run",
    description: "Run the agent in the foreground (VRRP; SIGTERM/SIGINT hand over and exit)",
  },
  args: {
    ...configArgs,
    ...controlArgs,
    metrics: {
      type: "string",
      description: "Serve Prometheus metrics on ADDRESS:PORT (overrides metrics_listen)",
      valueHint: "ADDRESS:PORT",
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
    // First: it reads NOTIFY_SOCKET and removes it from the environment scripts inherit.
    const sd = new SdNotify({ log: logger("systemd") });
    let stopWatchdog = () => {};
    const daemon = new Daemon(
      { ...loaded, model: loaded.model },
      { configPath: path, ...(args["config-id"] ? { configId: args["config-id"] } : {}) },
    );
    const stopped = new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log.info(`${sig} received: handing over and stopping`);
        sd.stopping();
        stopWatchdog();
        daemon.stop().then(resolve, (e: unknown) => {
          log.error(`stopping: ${e instanceof Error ? e.message : String(e)}`);
          resolve();
        });
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
    await daemon.start();
    const ops = await startOperations(daemon, {
      control: controlPath(args.control),
      notify: sd,
      ...((args.metrics ?? loaded.model.global_defs.metrics_listen)
        ? { metrics: (args.metrics ?? loaded.model.global_defs.metrics_listen) as string }
        : {}),
    });
    log.info(`started from ${path}: ${daemon.agent.running.size} instance(s)`);
    sd.ready(`${daemon.agent.running.size} instance(s) from ${path}`);
    // Pinged from the event loop: a stuck loop stops the pings and systemd restarts us.
    stopWatchdog = sd.startWatchdog();
    await stopped;
    await ops.stop();
    log.info("stopped");
    return EXIT.OK;
  },
});
