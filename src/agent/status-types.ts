/**
 * The status document (`agent status --json`, design §4): versioned, read-only, built from
 * the running agent's state. Consumers: the control socket, the metrics endpoint, the
 * keepalived-compatible dump files. docs/status.schema.json describes the same shape; a test
 * checks every document against it. Times are ISO 8601 (UTC); durations are milliseconds
 * and say so in their names. Never a secret (auth_pass, SMTP credentials).
 */

export const STATUS_SCHEMA_VERSION = 1;

export type StatusState = "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP";

/** keepalived's per-instance statistics (SIGUSR2 / JSON "stats"), by keepalived's names. */
export interface StatusCounters {
  readonly advert_rcvd: number;
  readonly advert_sent: number;
  readonly become_master: number;
  readonly release_master: number;
  readonly packet_len_err: number;
  readonly advert_interval_err: number;
  readonly ip_ttl_err: number;
  readonly invalid_type_rcvd: number;
  readonly addr_list_err: number;
  readonly invalid_authtype: number;
  readonly authtype_mismatch: number;
  readonly auth_failure: number;
  readonly pri_zero_rcvd: number;
  readonly pri_zero_sent: number;
  readonly chk_err: number;
  readonly vers_err: number;
}

export interface StatusTracker {
  readonly kind: "script" | "interface" | "process" | "file" | "http" | "group";
  readonly name: string;
  readonly weight: number;
  readonly reverse: boolean;
  /** "up" / "down" / "unknown" (not reported yet); a track_file reports its value. */
  readonly state: "up" | "down" | "unknown" | "value";
  readonly value?: number;
  /** What it adds to the priority now, or whether it holds the instance in FAULT. */
  readonly delta: number;
  readonly fault: boolean;
}

export interface StatusInstance {
  readonly name: string;
  readonly vrid: number;
  readonly interface: string;
  readonly family: 4 | 6;
  readonly version: 2 | 3;
  readonly state: StatusState;
  readonly since: string;
  readonly priority: { readonly base: number; readonly effective: number };
  /** The master as last heard (absent until an advert was accepted). */
  readonly master?: { readonly address: string; readonly priority: number; readonly seen: string };
  readonly advert_interval_ms: number;
  readonly master_down_interval_ms: number;
  readonly skew_ms: number;
  /** Addresses this instance holds on the host now (VIPs and excluded VIPs), CIDR. */
  readonly vips: readonly string[];
  readonly faults: readonly string[];
  readonly trackers: readonly StatusTracker[];
  readonly last_transition?: {
    readonly from: StatusState;
    readonly to: StatusState;
    readonly reason: string;
    readonly at: string;
  };
  readonly sync_group?: string;
  readonly counters: StatusCounters;
}

export interface StatusSyncGroup {
  readonly name: string;
  readonly state: StatusState;
  readonly members: readonly string[];
}

export interface StatusDoc {
  readonly schema: typeof STATUS_SCHEMA_VERSION;
  readonly agent: {
    readonly version: string;
    readonly commit: string;
    readonly pid: number;
    readonly started: string;
    /** `agent maintenance on`: this node never becomes MASTER. */
    readonly maintenance: boolean;
  };
  readonly config: { readonly file: string; readonly loaded: string; readonly reloads: number };
  readonly instances: readonly StatusInstance[];
  readonly sync_groups: readonly StatusSyncGroup[];
  /** IPVS virtual and real servers (issue 6); empty until then. */
  readonly virtual_servers: readonly unknown[];
}
