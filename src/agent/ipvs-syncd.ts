/**
 * `lvs_sync_daemon` (global_defs): the kernel's IPVS connection-sync daemons. Tied to a VRRP
 * instance, the MASTER runs the master daemon and every other state the backup one
 * (vrrp.c vrrp_state_become_master → ipvs_syncd_master, vrrp_state_leave_master →
 * ipvs_syncd_backup: stop the other, then start). Without an instance both run, started
 * by the checker side (check_daemon.c, IPVS_MASTER_BACKUP). Stopped at exit.
 */
import type { Model } from "../config/model.ts";
import type { VrrpView } from "../core/ipvs/desired.ts";
import type { IpvsDaemon } from "../core/ipvs/types.ts";
import { parseIp } from "../core/net/ip.ts";

type Role = IpvsDaemon["state"];

interface SyncdCfg {
  readonly interface: string;
  readonly instance?: string;
  readonly id?: number;
  readonly maxlen?: number;
  readonly port?: number;
  readonly ttl?: number;
  readonly group?: string;
}

/** The part of the kernel handle this needs (io/ipvs.ts Ipvs). */
export interface SyncdKernel {
  startDaemon(d: IpvsDaemon): void;
  stopDaemon(state: Role, syncId: number): void;
}

export interface SyncdLog {
  info(message: string): void;
  error(message: string): void;
}

export function syncdOf(m: Model): SyncdCfg | undefined {
  return (m.global_defs as { lvs_sync_daemon?: SyncdCfg }).lvs_sync_daemon;
}

export class SyncDaemons {
  private readonly running = new Set<Role>();

  constructor(
    private cfg: SyncdCfg,
    private readonly kernel: SyncdKernel,
    private readonly log: SyncdLog,
  ) {}

  /** The roles that should run now, given the owning instance's state. */
  wanted(vrrp: (instance: string) => VrrpView): Role[] {
    const i = this.cfg.instance;
    if (i === undefined) return ["master", "backup"];
    return [vrrp(i) === "MASTER" ? "master" : "backup"];
  }

  /** Stop what should not run, then start what should (master ↔ backup swaps). */
  apply(want: readonly Role[]): void {
    for (const r of [...this.running]) if (!want.includes(r)) this.stop(r);
    for (const r of want) if (!this.running.has(r)) this.start(r);
  }

  /** A reload: a changed lvs_sync_daemon restarts the daemons with the new settings. */
  reconfigure(cfg: SyncdCfg): boolean {
    if (JSON.stringify(cfg) === JSON.stringify(this.cfg)) return false;
    const was = [...this.running];
    for (const r of was) this.stop(r);
    this.cfg = cfg;
    return true;
  }

  stopAll(): void {
    for (const r of [...this.running]) this.stop(r);
  }

  private daemon(role: Role): IpvsDaemon {
    const c = this.cfg;
    const group = c.group === undefined ? undefined : parseIp(c.group);
    return {
      state: role,
      mcastIfn: c.interface,
      syncId: c.id ?? 0,
      ...(c.maxlen !== undefined ? { syncMaxLen: c.maxlen } : {}),
      ...(c.port !== undefined ? { mcastPort: c.port } : {}),
      ...(c.ttl !== undefined ? { mcastTtl: c.ttl } : {}),
      ...(group ? { mcastGroup: group.bytes } : {}),
    };
  }

  private start(role: Role): void {
    try {
      this.kernel.startDaemon(this.daemon(role));
      this.running.add(role);
      this.log.info(
        `Starting IPVS ${role} sync daemon on ${this.cfg.interface} (syncid ${this.cfg.id ?? 0})`,
      );
    } catch (e) {
      this.log.error(
        `cannot start the IPVS ${role} sync daemon: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private stop(role: Role): void {
    this.running.delete(role);
    try {
      this.kernel.stopDaemon(role, this.cfg.id ?? 0);
      this.log.info(`Stopping IPVS ${role} sync daemon`);
    } catch (e) {
      this.log.error(
        `cannot stop the IPVS ${role} sync daemon: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
