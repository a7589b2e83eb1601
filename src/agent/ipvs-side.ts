/**
 * The IPVS half of `agent run` (keepalived's checker child, check/check_daemon.c): opens the
 * kernel's IPVS family when the configuration has virtual servers, applies the global LVS
 * settings (lvs_flush at start, lvs_timeouts — the kernel's own values saved first and put
 * back at stop, as libipvs ipvs_set_timeout(NULL) does), runs the IpvsHost (checkers,
 * reconciliation, notifies) and answers for the status document. Without IPVS in the kernel
 * it says so once and the VRRP side runs on alone.
 */
import type { ConsolaInstance } from "consola";
import type { Model } from "../config/model.ts";
import type { VrrpView } from "../core/ipvs/desired.ts";
import type { IpvsTimeouts } from "../core/ipvs/types.ts";
import { Ipvs, IpvsError } from "../io/ipvs.ts";
import type { ScriptRunner } from "../io/script-runner.ts";
import type { WatchFile } from "./ipvs-file-checks.ts";
import { IpvsHost } from "./ipvs-host.ts";
import { type IpvsNotifyIo, ipvsNotifier } from "./ipvs-notify.ts";
import { type CounterView, ipvsStatus } from "./ipvs-status.ts";
import { SyncDaemons, syncdOf } from "./ipvs-syncd.ts";
import { RealIpvsHostIo } from "./real-ipvs.ts";
import type { StatusVirtualServer } from "./status-types.ts";

export interface IpvsSideDeps {
  readonly log: ConsolaInstance;
  readonly nowMs: () => number;
  /** The VRRP state of an instance, for ha_suspend. */
  readonly vrrpState: (instance: string) => VrrpView;
  /** Scripts (MISC_CHECK, notify_up/down, quorum_up/down), FIFO lines and mail. */
  readonly hooks: () => IpvsNotifyIo & {
    readonly runner: ScriptRunner;
    readonly watchFile: WatchFile;
  };
  /** Read the kernel's traffic counters (absent: status shows none). */
  readonly counters?: (ipvs: Ipvs) => CounterView;
  /** Open the kernel's IPVS family (tests hand in a fake). */
  readonly open?: () => Ipvs;
}

type LvsTimeouts = { readonly tcp?: number; readonly tcpfin?: number; readonly udp?: number };

const timeoutsOf = (m: Model): IpvsTimeouts | undefined => {
  const t = (m.global_defs as { lvs_timeouts?: LvsTimeouts }).lvs_timeouts;
  // 0 leaves a timeout as it is (IPVS_CMD_SET_CONFIG); all unset means "do nothing".
  if (!t || (!t.tcp && !t.tcpfin && !t.udp)) return undefined;
  return { tcpS: t.tcp ?? 0, tcpFinS: t.tcpfin ?? 0, udpS: t.udp ?? 0 };
};

export class IpvsSide {
  private host: IpvsHost | undefined;
  private kernel: Ipvs | undefined;
  /** The kernel's timeouts before we changed them, to put back at stop. */
  private savedTimeouts: IpvsTimeouts | undefined;
  private unavailable = false;
  private daemons: SyncDaemons | undefined;
  private started = false;

  constructor(
    private model: Model,
    private readonly deps: IpvsSideDeps,
  ) {}

  /** Open the kernel and program it, if the configuration has virtual servers. */
  start(): void {
    this.started = true;
    this.ensure();
  }

  /** A new configuration: carried checkers, a minimal diff, timeouts set or put back. */
  reload(m: Model): void {
    this.model = m;
    if (!this.started) return;
    if (this.host) {
      this.applyTimeouts(m);
      this.host.reload(m);
    }
    this.ensure();
  }

  /** A VRRP instance changed state: ha_suspend services and the sync daemon follow. */
  vrrpChanged(): void {
    if (this.model.virtual_server.some((vs) => vs.ha_suspend)) this.host?.reconcile();
    this.daemons?.apply(this.daemons.wanted(this.deps.vrrpState));
  }

  /** Whatever the configuration needs and is not running yet: the host, the sync daemons. */
  private ensure(): void {
    const m = this.model;
    const syncd = syncdOf(m);
    if (m.virtual_server.length === 0 && !syncd && !this.daemons) return;
    if (!this.openKernel()) return;
    if (m.virtual_server.length > 0 && !this.host) {
      const g = m.global_defs as { lvs_flush?: boolean };
      if (g.lvs_flush) this.guard("flush the IPVS table (lvs_flush)", (k) => k.flush());
      this.applyTimeouts(m);
      this.host = this.makeHost(m);
      this.host.start();
    }
    const k = this.kernel;
    if (!syncd || !k) {
      this.daemons?.stopAll();
      this.daemons = undefined;
      return;
    }
    if (this.daemons) this.daemons.reconfigure(syncd);
    else this.daemons = new SyncDaemons(syncd, k, this.deps.log);
    this.daemons.apply(this.daemons.wanted(this.deps.vrrpState));
  }

  /** Remove our services (unless lvs_flush_on_stop says flush), restore timeouts, close. */
  stop(): void {
    this.started = false;
    this.daemons?.stopAll();
    this.daemons = undefined;
    const flush = (this.model.global_defs as { lvs_flush_on_stop?: { VS?: boolean } })
      .lvs_flush_on_stop;
    this.host?.stop();
    this.host = undefined;
    // lvs_flush_on_stop without VS: one FLUSH of the whole table (keepalived's fast path).
    if (flush && !flush.VS) this.guard("flush the IPVS table at stop", (k) => k.flush());
    if (this.savedTimeouts) {
      const t = this.savedTimeouts;
      this.guard("restore the IPVS timeouts", (k) => k.setTimeouts(t));
      this.savedTimeouts = undefined;
    }
    this.kernel?.close();
    this.kernel = undefined;
  }

  status(wallOf: (monoMs: number) => Date): StatusVirtualServer[] {
    const host = this.host;
    if (!host) return [];
    const k = this.kernel;
    let counters: CounterView | undefined;
    if (k && this.deps.counters) {
      try {
        counters = this.deps.counters(k);
      } catch (e) {
        this.deps.log.warn(`cannot read the IPVS counters: ${errText(e)}`);
      }
    }
    return ipvsStatus({
      model: this.model,
      health: host.health(),
      table: host.table(),
      quorumUp: (id) => host.quorumUp(id),
      ...(counters ? { counters } : {}),
      wallOf,
    });
  }

  private openKernel(): boolean {
    if (this.kernel) return true;
    if (this.unavailable) return false;
    try {
      this.kernel = (this.deps.open ?? (() => Ipvs.open()))();
      return true;
    } catch (e) {
      this.unavailable = true;
      const no = e instanceof IpvsError && e.code === "E_NO_IPVS";
      this.deps.log.error(`${no ? "" : "cannot open IPVS: "}${errText(e)}; ${this.whatIsLost()}`);
      return false;
    }
  }

  private whatIsLost(): string {
    const n = this.model.virtual_server.length;
    const vs = n
      ? `the ${n} virtual server(s) are not programmed and their checkers do not run`
      : "";
    const sd = syncdOf(this.model) ? "the IPVS sync daemon does not run" : "";
    return [vs, sd].filter((x) => x !== "").join("; ");
  }

  private makeHost(m: Model): IpvsHost {
    const d = this.deps;
    const kernel = this.kernel as Ipvs;
    const notifier = ipvsNotifier(() => this.model, {
      runScript: (cmd, args, why) => d.hooks().runScript(cmd, args, why),
      lvs: (line) => d.hooks().lvs(line),
      alert: (e) => d.hooks().alert(e),
    });
    const io = new RealIpvsHostIo({
      ipvs: kernel,
      // A reload may replace the hooks (and their runner): always use the current one.
      get runner() {
        return d.hooks().runner;
      },
      nowMs: d.nowMs,
    });
    return new IpvsHost(m, io, d.log, d.nowMs, {
      vrrpState: d.vrrpState,
      onRealServer: notifier.onRealServer,
      onQuorum: notifier.onQuorum,
      watchFile: (path, init, onValue) => d.hooks().watchFile(path, init, onValue),
    });
  }

  private applyTimeouts(m: Model): void {
    const want = timeoutsOf(m);
    if (want) {
      if (!this.savedTimeouts)
        this.guard("read the IPVS timeouts", (k) => {
          this.savedTimeouts = k.getTimeouts();
        });
      this.guard("set the IPVS timeouts (lvs_timeouts)", (k) => k.setTimeouts(want));
    } else if (this.savedTimeouts) {
      // A reload dropped lvs_timeouts: the kernel's own values come back (check_daemon.c).
      const t = this.savedTimeouts;
      this.guard("restore the IPVS timeouts", (k) => k.setTimeouts(t));
      this.savedTimeouts = undefined;
    }
  }

  private guard(what: string, f: (k: Ipvs) => void): void {
    const k = this.kernel;
    if (!k) return;
    try {
      f(k);
    } catch (e) {
      this.deps.log.error(`cannot ${what}: ${errText(e)}`);
    }
  }
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
