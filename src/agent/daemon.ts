/**
 * `agent run` as one object: the configuration, the real world (RealIo, RealHooks), the
 * agent loop, and what an operator does to it while it runs — reload (SIGHUP, `agent
 * reload`), maintenance (persisted in the state directory), failover, status. The CLI
 * command only wires signals and the control socket to these methods.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ConsolaInstance } from "consola";
import type { Diagnostic } from "../config/diag.ts";
import { type Loaded, loadConfig } from "../config/load.ts";
import type { Model } from "../config/model.ts";
import { readCounters } from "../io/ipvs-counters.ts";
import { logger } from "../log/index.ts";
import { COMMIT, VERSION } from "../version.ts";
import {
  type DumpPaths,
  dataDump,
  dumpContext,
  dumpPaths,
  jsonDump,
  statsDump,
  tmpDirFrom,
  writeAtomic,
} from "./dumps.ts";
import { Hooks } from "./hooks.ts";
import { IpvsSide } from "./ipvs-side.ts";
import { counterView } from "./ipvs-status.ts";
import { Agent, type AgentOptions, type ReloadReport } from "./loop.ts";
import { Metrics } from "./metrics.ts";
import { planInstances } from "./params.ts";
import { RealHooks } from "./real-hooks.ts";
import { RealIo } from "./real-io.ts";
import { snapshot } from "./snapshot.ts";
import type { StatusDoc } from "./status-types.ts";
import { planTracking } from "./track-plan.ts";

export const DEFAULT_STATE_DIR = "/var/lib/edge-agent";

/** Global settings RealHooks is built from: a reload that changes none keeps it. */
const HOOK_SETTINGS = [
  "script_user",
  "enable_script_security",
  "set_supplementary_groups",
  "use_symlink_paths",
  "notify_fifo",
  "notify_fifo_script",
  "vrrp_notify_fifo",
  "vrrp_notify_fifo_script",
  "notification_email",
  "notification_email_from",
  "smtp_server",
  "smtp_helo_name",
  "smtp_connect_timeout",
  "router_id",
  "lvs_notify_fifo",
  "lvs_notify_fifo_script",
] as const;

const hookSettings = (m: Model): string =>
  JSON.stringify([
    ...HOOK_SETTINGS.map((k) => (m.global_defs as Record<string, unknown>)[k]),
    // The LVS FIFO lines are planned only when there are virtual servers.
    m.virtual_server.length > 0,
  ]);

export interface DaemonOptions {
  readonly configPath: string;
  readonly configId?: string;
  readonly stateDir?: string;
}

export type ReloadOutcome =
  | { readonly ok: true; readonly report: ReloadReport }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export class Daemon {
  readonly agent: Agent;
  readonly io: RealIo;
  private hooksIo: RealHooks;
  private model: Model;
  readonly startedAt = new Date();
  loadedAt = new Date();
  reloads = 0;
  reloadFailures = 0;
  private readonly log: ConsolaInstance = logger("agent");
  readonly metrics: Metrics;
  /** Virtual servers, real servers and their checkers (keepalived's checker child). */
  readonly ipvs: IpvsSide;
  private dumps: DumpPaths;

  constructor(
    loaded: Loaded & { model: Model },
    private readonly opts: DaemonOptions,
  ) {
    const m = loaded.model;
    this.model = m;
    const g = m.global_defs;
    this.io = new RealIo(logger("io"), {
      garpIntervalMs: g.vrrp_garp_interval * 1000,
      naIntervalMs: g.vrrp_gna_interval * 1000,
    });
    this.hooksIo = new RealHooks(m, logger("hooks"));
    this.dumps = dumpsOf(m);
    this.agent = new Agent(planInstances(m, this.io), this.io, logger("vrrp"), this.options(m));
    const agent = this.agent;
    this.metrics = new Metrics({
      configOf: (name) => {
        const p = agent.running.get(name)?.plan;
        return (
          p && {
            vips: p.vips,
            evips: p.evips,
            vipDev: p.vipDev,
            garpDelaySeconds: p.params.garp.masterDelayMs / 1000,
          }
        );
      },
      bunVersion: Bun.version,
    });
    this.ipvs = new IpvsSide(m, {
      log: logger("ipvs"),
      nowMs: () => this.io.nowMs(),
      vrrpState: (name) => (agent.running.get(name)?.state.state === "MASTER" ? "MASTER" : "other"),
      hooks: () => this.hooksIo,
      counters: (k) => counterView(readCounters(k)),
    });
    this.agent.observer = {
      transition: (name, from, to) => {
        this.metrics.onTransition(name, from, to, new Date());
        this.ipvs.vrrpChanged();
      },
      advertLateness: (ms) => this.metrics.observeAdvertLateness(ms / 1000),
    };
  }

  /** The live status document (`agent status --json`, metrics, dumps). */
  status(): StatusDoc {
    const io = this.io;
    const wallOf = (mono: number) => new Date(Date.now() - (io.nowMs() - mono));
    return snapshot(this.agent, {
      version: VERSION,
      commit: COMMIT,
      pid: process.pid,
      startedAt: this.startedAt,
      configFile: this.opts.configPath,
      loadedAt: this.loadedAt,
      reloads: this.reloads,
      maintenance: this.agent.inMaintenance,
      wallOf,
      virtualServers: this.ipvs.status(wallOf),
    });
  }

  renderMetrics(): string {
    return this.metrics.render(this.status());
  }

  /** keepalived's dump files on its signals: SIGUSR1 data, SIGUSR2 stats, and the JSON one. */
  writeDump(kind: "data" | "stats" | "json"): string {
    const doc = this.status();
    const ctx = dumpContext(this.agent, this.model);
    const [path, text] =
      kind === "data"
        ? [this.dumps.data, dataDump(doc, ctx)]
        : kind === "stats"
          ? [this.dumps.stats, statsDump(doc)]
          : [this.dumps.json, jsonDump(doc, ctx)];
    writeAtomic(path, text);
    this.log.info(`${kind} dump written to ${path}`);
    return path;
  }

  private options(m: Model): AgentOptions {
    const tracking = planTracking(m);
    for (const n of tracking.notes) logger("vrrp").warn(`(${n.owner}) ${n.text}`);
    const io = this.io;
    return {
      hooks: new Hooks(m, this.hooksIo),
      tracking: { model: m, plan: tracking, io: this.hooksIo, linkUp: (i) => io.linkUp(i) },
    };
  }

  get configPath(): string {
    return this.opts.configPath;
  }

  private get maintenanceFile(): string {
    return `${this.opts.stateDir ?? DEFAULT_STATE_DIR}/maintenance`;
  }

  async start(): Promise<void> {
    // Maintenance survives restarts: a drained node must not come back as MASTER.
    if (existsSync(this.maintenanceFile)) {
      this.log.warn(`maintenance is on (${this.maintenanceFile}): staying out of MASTER`);
      this.agent.maintenance(true);
    }
    await this.agent.start();
    this.ipvs.start();
  }

  /** Re-read the configuration; an invalid one is refused and the running one stays. */
  async reload(): Promise<ReloadOutcome> {
    const t0 = performance.now();
    const loaded = loadConfig(
      this.opts.configPath,
      this.opts.configId ? { configId: this.opts.configId } : {},
    );
    if (!loaded.model) {
      this.reloadFailures++;
      this.metrics.onReload(false);
      const errors = loaded.diagnostics.filter((d) => d.severity === "error").length;
      this.log.error(
        `reload refused: ${this.opts.configPath} has ${errors} error(s); still running the previous configuration`,
      );
      return { ok: false, diagnostics: loaded.diagnostics };
    }
    const m = loaded.model;
    if (hookSettings(m) !== hookSettings(this.model)) {
      const old = this.hooksIo;
      this.hooksIo = new RealHooks(m, logger("hooks"));
      void old.close(0);
    }
    const report = await this.agent.reload(planInstances(m, this.io), this.options(m));
    this.ipvs.reload(m);
    this.model = m;
    this.dumps = dumpsOf(m);
    this.loadedAt = new Date();
    this.reloads++;
    this.metrics.onReload(true);
    this.log.info(
      `reloaded ${this.opts.configPath}: ${report.kept} unchanged, ${report.changed} changed, ${report.added} added, ${report.removed} removed (${(performance.now() - t0).toFixed(1)} ms)`,
    );
    return { ok: true, report };
  }

  /** Turn maintenance on or off, and remember it across restarts. */
  maintenance(on: boolean): { maintenance: boolean } {
    const f = this.maintenanceFile;
    if (on) {
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, `${new Date().toISOString()}\n`);
    } else rmSync(f, { force: true });
    this.agent.maintenance(on);
    this.log.info(`maintenance ${on ? "on: handing over and staying BACKUP" : "off"}`);
    return { maintenance: on };
  }

  failover(instance?: string): { handedOver: string[] } {
    const handedOver = this.agent.failover(instance);
    this.log.info(
      handedOver.length
        ? `failover: ${handedOver.join(", ")} handing over`
        : `failover: no MASTER instance${instance ? ` named ${instance}` : ""} to hand over`,
    );
    return { handedOver };
  }

  /** SIGTERM/SIGINT (§2.17): kill running scripts, hand over, STOP notifies, close. */
  async stop(): Promise<void> {
    this.hooksIo.runner.terminateAll();
    await this.agent.stop();
    // After the scripts were told to stop: omega's down notifiers start now and get the
    // hooks' drain bound like the STOP notifies.
    this.ipvs.stop();
    await this.hooksIo.close();
  }
}

/** Where keepalived writes its dumps: $TMPDIR (an absolute directory) or /tmp; state_dump_file. */
function dumpsOf(m: Model): DumpPaths {
  const stateDumpFile = (m.global_defs as { state_dump_file?: string }).state_dump_file;
  return dumpPaths({ tmpDir: tmpDirFrom(process.env), stateDumpFile });
}
