/**
 * The IPVS host's interfaces: what it needs from the outside world (IpvsHostIo), what it
 * tells its owner (RsEvent, quorum events through IpvsHostOptions) and what it reports
 * (RsHealth).
 */
import type { DesiredOptions, QuorumEvent, VrrpView } from "../core/ipvs/desired.ts";
import type { Op } from "../core/ipvs/diff.ts";
import type { Table } from "../core/ipvs/table.ts";
import type { CheckProbeResult } from "../io/check-tcp.ts";
import type { ProbeSpec } from "./ipvs-checkers.ts";
import type { WatchFile } from "./ipvs-file-checks.ts";

/** What the host needs from the outside world; real-ipvs.ts has the real one. */
export interface IpvsHostIo {
  /** The kernel's IPVS table as table.ts records. */
  readTable(): Table;
  /** One IPVS command; throws when the kernel refuses it. */
  apply(op: Op): void;
  /**
   * Optional: many commands at once, in order. Returns how many succeeded before the first
   * refusal (and the refusal); later ones may have been applied as well.
   */
  applyMany?(ops: readonly Op[]): { done: number; error?: unknown };
  /** Arm the one timer at `atMs` (the host's clock), replacing the previous; undefined disarms. */
  schedule(atMs: number | undefined, fn: () => void): void;
  /** Start a probe; the promise never rejects. */
  probe(spec: ProbeSpec): Promise<CheckProbeResult>;
  /** A draw in [0, 1] for warmup. */
  random(): number;
}

export interface IpvsHostLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A real server changed state: keepalived runs its notify_up / notify_down. */
export interface RsEvent {
  readonly type: "notify_up" | "notify_down";
  readonly vs: string;
  readonly rs: string;
  readonly vsIndex: number;
  readonly rsIndex: number;
  /** The checker keyword whose verdict changed it (absent at stop). */
  readonly checker?: string;
  /** The probe's failure reason, for the SMTP alert body. */
  readonly detail?: string;
  /** MISC_CHECK: the script timed out rather than failed. */
  readonly timedOut?: boolean;
  /** Reported while shutting down (omega virtual servers only, as keepalived does). */
  readonly stopping?: boolean;
}

export interface IpvsHostOptions {
  /** ha_suspend: the VRRP state of an instance (default: every instance MASTER). */
  readonly vrrpState?: (instance: string) => VrrpView;
  readonly haSuspend?: DesiredOptions["haSuspend"];
  readonly onRealServer?: (e: RsEvent) => void;
  readonly onQuorum?: (e: QuorumEvent) => void;
  /** At stop, leave the services in the kernel (keepalived removes them). */
  readonly leaveOnStop?: boolean;
  /** Watch a track_file for FILE_CHECK (without it, FILE_CHECKs see the value 0). */
  readonly watchFile?: WatchFile;
}

export interface CheckerHealth {
  readonly key: string;
  readonly type: string;
  readonly up: boolean;
  readonly attempts: number;
  readonly lastReason?: string;
  /** The last probe: its outcome, how long it took, when it ended (host clock). */
  readonly lastOk?: boolean;
  readonly lastLatencyMs?: number;
  readonly lastAtMs?: number;
}

export interface RsHealth {
  readonly vs: string;
  readonly rs: string;
  readonly vsIndex: number;
  readonly rsIndex: number;
  readonly up: boolean;
  /** The weight the real server has now (configured, or set by misc_dynamic). */
  readonly weight: number;
  readonly checkers: readonly CheckerHealth[];
}
