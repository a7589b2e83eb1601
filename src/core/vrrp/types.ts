/**
 * The VRRP core's vocabulary: what an instance is configured with (decoded once, at the
 * boundary, from the config model), what it remembers, what can happen to it, and what it
 * asks the shell to do. Times are milliseconds on a monotonic clock passed in by the shell.
 */
import type { IpAddr } from "../net/ip.ts";

export type VrrpState = "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP";

/** RFC 5798 §5.2.4: the address owner's priority. */
export const OWNER_PRIORITY = 255;

export interface GarpParams {
  /** Second burst after becoming MASTER; 0 = none (garp_master_delay). */
  readonly masterDelayMs: number;
  readonly masterRepeat: number;
  /** Periodic refresh while MASTER; 0 = off (garp_master_refresh). */
  readonly masterRefreshMs: number;
  readonly masterRefreshRepeat: number;
  /** On a lower-priority advert while MASTER (garp_lower_prio_*). */
  readonly lowerPrioDelayMs: number;
  readonly lowerPrioRepeat: number;
}

/** One vrrp_instance, as the core needs it. Immutable. */
export interface InstanceParams {
  readonly name: string;
  readonly vrid: number;
  readonly version: 2 | 3;
  readonly family: 4 | 6;
  /** 1..255; 255 is the address owner (never changed by trackers). */
  readonly basePriority: number;
  /** Our own advert interval. v2 intervals are whole seconds (multiples of 100 cs). */
  readonly advertIntervalCs: number;
  /** `state MASTER`: with base 255 this makes the instance master at once. */
  readonly wantMaster: boolean;
  readonly nopreempt: boolean;
  readonly preemptDelayMs: number;
  /** Adverts missed before Master_Down (keepalived's down_timer_adverts; RFC: 3). */
  readonly downTimerAdverts: number;
  readonly lowerPrioNoAdvert: boolean;
  readonly higherPrioSendAdvert: boolean;
  /** Our advert source address, compared with a peer's on equal priority (RFC 5798 §6.4.3). */
  readonly localAddress: IpAddr;
  readonly garp: GarpParams;
  /** In a vrrp_sync_group: an expired down timer only makes it ready; the group promotes. */
  readonly inSyncGroup?: boolean;
}

/** keepalived's per-instance statistics (its SIGUSR2 / JSON "stats" set). */
export interface Stats {
  advert_rcvd: number;
  advert_sent: number;
  become_master: number;
  release_master: number;
  packet_len_err: number;
  advert_interval_err: number;
  ip_ttl_err: number;
  invalid_type_rcvd: number;
  addr_list_err: number;
  invalid_authtype: number;
  authtype_mismatch: number;
  auth_failure: number;
  pri_zero_rcvd: number;
  pri_zero_sent: number;
  /** Counted by keepalived for SNMP only; status shows them too. */
  chk_err: number;
  vers_err: number;
}

export const ZERO_STATS: Readonly<Stats> = Object.freeze({
  advert_rcvd: 0,
  advert_sent: 0,
  become_master: 0,
  release_master: 0,
  packet_len_err: 0,
  advert_interval_err: 0,
  ip_ttl_err: 0,
  invalid_type_rcvd: 0,
  addr_list_err: 0,
  invalid_authtype: 0,
  authtype_mismatch: 0,
  auth_failure: 0,
  pri_zero_rcvd: 0,
  pri_zero_sent: 0,
  chk_err: 0,
  vers_err: 0,
});

export interface MasterSeen {
  readonly address: string;
  readonly priority: number;
  readonly atMs: number;
}

/** Everything the instance remembers. Deadlines are absolute monotonic ms. */
export interface InstanceState {
  readonly params: InstanceParams;
  readonly state: VrrpState;
  readonly sinceMs: number;
  readonly effectivePriority: number;
  /** v3 learns the master's interval (RFC 5798 §6.4.2); v2 always uses its own. */
  readonly masterAdvertIntervalCs: number;
  /** BACKUP: Master_Down timer. */
  readonly downAtMs?: number;
  /** MASTER: next advertisement. */
  readonly advertAtMs?: number;
  /** End of the preempt_delay window, once a lower-priority advert has opened it. */
  readonly preemptUntilMs?: number;
  /** MASTER: second GARP burst after takeover, then periodic refresh. */
  readonly garpAtMs?: number;
  /** MASTER: second GARP burst after a lower-priority advert. */
  readonly lowerPrioGarpAtMs?: number;
  /** Why the instance is held in FAULT (interface down, a weight-0 tracker …). */
  readonly faults: readonly string[];
  readonly master?: MasterSeen;
  readonly lastTransition?: {
    readonly from: VrrpState;
    readonly to: VrrpState;
    readonly reason: string;
    readonly atMs: number;
  };
  /** Sync-group member whose down timer expired: it wants MASTER and waits for the group. */
  readonly syncReady?: boolean;
  /**
   * Kept out of MASTER by the operator: `maintenance` until turned off, `handover` (agent
   * failover) until another router's advert shows it has taken over.
   */
  readonly drain?: "maintenance" | "handover";
  readonly stats: Readonly<Stats>;
}

/** An advert that passed the receive checks (decode + receive-check), as step needs it. */
export interface AdvertIn {
  readonly src: IpAddr;
  /** Canonical text of src, for status and logs. */
  readonly srcText: string;
  readonly priority: number;
  /** v3: the advert's Max Adver Int; v2: equal to ours (others are dropped before step). */
  readonly advertIntervalCs: number;
  /** The address list differed from ours (counted, still accepted: keepalived ≥ 2.3.3). */
  readonly addrListMismatch?: boolean;
}

export type Event =
  | { readonly type: "start" }
  /** A deadline may have passed: handle every deadline ≤ now. */
  | { readonly type: "tick" }
  | { readonly type: "advert"; readonly advert: AdvertIn }
  /** Trackers moved the effective priority (already clamped by core/track). */
  | { readonly type: "priority"; readonly effective: number }
  /** A fault flag set or cleared; all must clear to leave FAULT. */
  | { readonly type: "fault"; readonly reason: string; readonly on: boolean }
  | { readonly type: "shutdown" }
  /** From the sync group: every member is ready, become MASTER now. */
  | { readonly type: "sync-master"; readonly reason: string }
  /** From the sync group: another member backed off, leave MASTER now. */
  | { readonly type: "sync-backup"; readonly reason: string }
  /** The operator: maintenance on/off, or a one-off hand-over (see InstanceState.drain). */
  | { readonly type: "drain"; readonly mode: "maintenance" | "handover" | undefined };

export type NotifyState = "MASTER" | "BACKUP" | "FAULT" | "STOP";

export type Action =
  /** Send one advertisement now with this priority (0 = hand over). */
  | {
      readonly type: "send-advert";
      readonly priority: number;
      /** A periodic advert: how late it goes out against its schedule (metrics). */
      readonly lateMs?: number;
    }
  /** Add the VIPs, excluded VIPs, virtual routes and rules. */
  | { readonly type: "add-vips" }
  | { readonly type: "remove-vips" }
  /** A burst of GARP / unsolicited NA for every VIP. */
  | { readonly type: "garp"; readonly repeat: number }
  | { readonly type: "notify"; readonly state: NotifyState }
  | {
      readonly type: "notify-master-rx-lower-pri";
      readonly from: string;
      readonly priority: number;
    }
  /** For logs, status and metrics. */
  | {
      readonly type: "transition";
      readonly from: VrrpState;
      readonly to: VrrpState;
      readonly reason: string;
    }
  | { readonly type: "mark"; readonly what: string };

export interface StepResult {
  readonly state: InstanceState;
  readonly actions: readonly Action[];
}
