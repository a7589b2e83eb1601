/**
 * The real world for hooks and trackers: scripts through the ScriptRunner (keepalived's
 * execve semantics, own process group, cleaned environment, run-as users), the notify
 * FIFOs (and their reader scripts), SMTP alerts, the process and file watchers, and the
 * track_http probe. Nothing here blocks the event loop.
 */
import { hostname } from "node:os";
import type { ConsolaInstance } from "consola";
import type { ScriptCommand } from "../config/lines/shell.ts";
import type { Model } from "../config/model.ts";
import type { AlertEvent } from "../core/notify/format.ts";
import type { NotifyState } from "../core/vrrp/types.ts";
import { monotonicMs } from "../io/clock.ts";
import { FileWatcher } from "../io/file-watch.ts";
import { probeHttp } from "../io/http-probe.ts";
import { NotifyFifos, planFifos } from "../io/notify-fifo.ts";
import { ProcessWatcher } from "../io/process-watch.ts";
import { ScriptRunner } from "../io/script-runner.ts";
import { securityViolation } from "../io/script-security.ts";
import { SmtpAlerter } from "../io/smtp.ts";
import type { HookIo } from "./hooks.ts";
import type { ScriptProc, Stoppable, TrackerIo } from "./io.ts";

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class RealHooks implements HookIo, TrackerIo {
  readonly runner: ScriptRunner;
  private readonly fifos: NotifyFifos;
  private readonly alerter: SmtpAlerter | undefined;
  private readonly fifoScripts: ScriptProc[] = [];
  private readonly watchers: { stop(): void | Promise<void> }[] = [];

  constructor(
    m: Model,
    private readonly log: ConsolaInstance,
  ) {
    const g = m.global_defs;
    const su = g.script_user;
    const suGroup = su?.group?.replace(/^:/, "");
    this.runner = new ScriptRunner({
      log: log.withTag("script"),
      ...(su
        ? {
            scriptUser: {
              user: su.user,
              ...(suGroup ? { group: suGroup } : {}),
              ...(su.group?.startsWith(":") ? { supplementary: true } : {}),
            },
          }
        : {}),
      scriptSecurity: g.enable_script_security ?? false,
      setSupplementaryGroups: g.set_supplementary_groups ?? false,
      useSymlinkPaths: g.use_symlink_paths ?? false,
    });
    this.prepareAll(m);
    // The LVS lines exist only where keepalived would run its checker child.
    const lvs = m.virtual_server.length > 0;
    this.fifos = NotifyFifos.open(planFifos(g, { vrrp: true, lvs }), log.withTag("fifo"));
    for (const f of this.fifos.fifos) {
      const s = f.plan.script;
      if (!s) continue;
      const h = this.runner.start(s as ScriptCommand, [], {
        why: `${f.plan.role} notify FIFO script`,
      });
      if (h) this.fifoScripts.push(h);
    }
    this.alerter = smtpOf(m, log.withTag("smtp"));
  }

  /**
   * Resolve every configured script once, at load (users, PATH, the security walk), so
   * problems are logged at start and not at first run; then keepalived's summary line.
   */
  private prepareAll(m: Model): void {
    const found: { cmd: ScriptCommand; label: string }[] = [];
    const visit = (v: unknown, label: string): void => {
      if (!v || typeof v !== "object") return;
      const o = v as Record<string, unknown>;
      if (Array.isArray(o.command) && typeof o.command[0] === "string") {
        found.push({ cmd: o as unknown as ScriptCommand, label });
        return;
      }
      for (const [k, x] of Object.entries(o)) visit(x, label ? `${label} ${k}` : k);
    };
    visit(m, "");
    const results = found.map(({ cmd, label }) => this.runner.prepare(cmd, label));
    const summary = securityViolation(
      results.flatMap((r) => (r.security ? [r.security] : [])),
      m.global_defs.enable_script_security ?? false,
    );
    if (summary) this.log.warn(summary);
  }

  runScript(
    cmd: ScriptCommand,
    extraArgs: readonly string[],
    why: string,
    timeoutMs?: number,
  ): void {
    this.runner.start(cmd, extraArgs, { why, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  private trackerTimer: ReturnType<typeof setTimeout> | undefined;

  scheduleTracker(atMs: number | undefined, fn: () => void): void {
    if (this.trackerTimer !== undefined) clearTimeout(this.trackerTimer);
    this.trackerTimer =
      atMs === undefined ? undefined : setTimeout(fn, Math.max(0, atMs - monotonicMs()));
  }

  fifo(line: string): void {
    this.fifos.vrrp(line);
  }

  mail(kind: "instance" | "group", name: string, state: NotifyState): void {
    this.alerter?.alert({ kind, name, state });
  }

  /** A `VS …` / `RS …` line to notify_fifo and lvs_notify_fifo. */
  lvs(line: string): void {
    this.fifos.lvs(line);
  }

  /** A real-server or virtual-server mail (the IPVS side decides whether one is due). */
  alert(e: AlertEvent): void {
    this.alerter?.alert(e);
  }

  startScript(
    cmd: ScriptCommand,
    why: string,
    onExit: (success: boolean, signal?: string) => void,
  ): ScriptProc | undefined {
    return this.runner.start(cmd, [], {
      why,
      onExit: (r) => onExit(r.success, r.signal ?? undefined),
    });
  }

  watchProcesses(
    specs: Parameters<TrackerIo["watchProcesses"]>[0],
    onCount: (name: string, count: number) => void,
  ): Stoppable {
    const w = new ProcessWatcher(specs, onCount, this.log.withTag("process"));
    w.start().catch((e: unknown) => this.log.error(`track_process: ${errText(e)}`));
    this.watchers.push(w);
    return { stop: () => void w.stop() };
  }

  watchFile(
    path: string,
    init: { readonly value: number; readonly overwrite: boolean } | undefined,
    onValue: (value: number | undefined) => void,
  ): Stoppable {
    const w = new FileWatcher(this.log.withTag("file"));
    this.watchers.push(w);
    try {
      w.watch(path, (v) => onValue(v), init ? { init } : {});
    } catch (e) {
      // keepalived drops such a track_file; the tracker then stays at value 0.
      this.log.error(`track_file ${path}: ${errText(e)}`);
    }
    return w;
  }

  async probeHttp(spec: Parameters<TrackerIo["probeHttp"]>[0]): Promise<boolean> {
    return (await probeHttp(spec)).ok;
  }

  /**
   * At shutdown, after the STOP notifies were started: let scripts (STOP scripts have 1 s)
   * and mail finish within a bound, then close the FIFOs and stop their reader scripts.
   */
  async close(boundMs = 1500): Promise<void> {
    for (const w of this.watchers) await w.stop();
    await Promise.race([
      Promise.all([this.runner.drain(boundMs), this.alerter?.whenIdle()]),
      Bun.sleep(boundMs),
    ]);
    this.runner.terminateAll();
    for (const s of this.fifoScripts) s.signal("SIGTERM");
    this.alerter?.close();
    this.fifos.close();
  }
}

function smtpOf(m: Model, log: ConsolaInstance): SmtpAlerter | undefined {
  const g = m.global_defs;
  const to = g.notification_email ?? [];
  if (!g.smtp_server || to.length === 0) return undefined;
  // keepalived's defaults: the host name for HELO, router_id and the sender's domain.
  const host = hostname();
  return new SmtpAlerter(
    {
      server: { host: g.smtp_server.host, port: g.smtp_server.port ?? 25 },
      heloName: g.smtp_helo_name ?? host,
      from: g.notification_email_from ?? `keepalived@${host}`,
      to,
      connectTimeoutMs: g.smtp_connect_timeout * 1000,
      routerId: g.router_id ?? host,
    },
    log,
  );
}
