/**
 * What an operator reaches a running agent through, started once the agent runs: the
 * control socket (status, reload, failover, maintenance), the Prometheus endpoint, and
 * keepalived's dump signals (SIGUSR1 data, SIGUSR2 stats, SIGRTMIN+2 JSON — the last
 * through native/signals.ts, since Bun cannot catch real-time signals).
 */
import type { ConsolaInstance } from "consola";
import { formatDiagnostic } from "../config/diag.ts";
import { catchByAlarm, sigrtmin } from "../io/signals.ts";
import { logger } from "../log/index.ts";
import { startControlServer } from "./control.ts";
import type { Daemon } from "./daemon.ts";
import { startMetricsServer } from "./metrics-server.ts";

export interface OperationsOptions {
  readonly control: string;
  readonly metrics?: string;
  /** systemd, told about reloads (RELOADING=1, then READY=1). */
  readonly notify?: { reloading(): void; ready(status?: string): void };
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function startOperations(
  daemon: Daemon,
  opts: OperationsOptions,
): Promise<{ stop(): Promise<void> }> {
  const log: ConsolaInstance = logger("control");
  // One reload at a time, whether from SIGHUP or the socket.
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = () => {
    const next = reloading.then(async () => {
      opts.notify?.reloading();
      try {
        return await daemon.reload();
      } finally {
        opts.notify?.ready(`${daemon.agent.running.size} instance(s) from ${daemon.configPath}`);
      }
    });
    reloading = next.catch(() => undefined);
    return next;
  };
  const control = await startControlServer(
    opts.control,
    {
      status: () => daemon.status(),
      reload: async () => {
        const r = await reload();
        return r.ok ? { ok: true } : { ok: false, diagnostics: r.diagnostics };
      },
      failover: async (instance) => daemon.failover(instance),
      maintenance: async (on) => daemon.maintenance(on),
    },
    log,
  );
  const metrics = opts.metrics
    ? await startMetricsServer(opts.metrics, () => daemon.renderMetrics(), logger("metrics"))
    : undefined;
  const dump = (kind: "data" | "stats" | "json") => {
    try {
      daemon.writeDump(kind);
    } catch (e) {
      log.error(`${kind} dump: ${errText(e)}`);
    }
  };
  const onUsr1 = () => dump("data");
  const onUsr2 = () => dump("stats");
  const onHup = () => {
    reload().then(
      (r) => {
        if (!r.ok) for (const d of r.diagnostics) log.error(formatDiagnostic(d));
      },
      (e: unknown) => log.error(`reload: ${errText(e)}`),
    );
  };
  process.on("SIGUSR1", onUsr1);
  process.on("SIGUSR2", onUsr2);
  process.on("SIGHUP", onHup);
  // keepalived's JSON signal (SIGRTMIN+2): Bun cannot catch it, native/signals.ts turns it
  // into an alarm we look for four times a second (and SIGALRM itself, should we be late).
  const jsonSignal = catchByAlarm(sigrtmin(2));
  const onJson = () => dump("json");
  const jsonPoll = setInterval(() => {
    if (jsonSignal.poll()) onJson();
  }, 250);
  process.on("SIGALRM", onJson);
  return {
    async stop() {
      process.off("SIGUSR1", onUsr1);
      process.off("SIGUSR2", onUsr2);
      process.off("SIGHUP", onHup);
      clearInterval(jsonPoll);
      process.off("SIGALRM", onJson);
      await control.stop();
      await metrics?.stop();
    },
  };
}
