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
  /** IPVS virtual servers with their real servers, as configured and as the kernel holds them. */
  readonly virtual_servers: readonly StatusVirtualServer[];
}

/** The kernel's traffic counters of a service or destination (ipvsadm --stats). */
export interface StatusIpvsCounters {
  readonly connections: number;
  readonly packets_in: number;
  readonly packets_out: number;
  readonly bytes_in: number;
  readonly bytes_out: number;
  /** Destinations only: connections now established, and the others (ipvsadm -Ln). */
  readonly active_connections?: number;
  readonly inactive_connections?: number;
}

export interface StatusChecker {
  /** The checker keyword: TCP_CHECK, HTTP_GET, MISC_CHECK… */
  readonly type: string;
  readonly state: "up" | "down";
  /** Probes started so far. */
  readonly attempts: number;
  readonly last_result?: "success" | "failure";
  readonly last_reason?: string;
  readonly last_latency_ms?: number;
  readonly last_check?: string;
}

export interface StatusRealServer {
  readonly address: string;
  readonly port: number;
  /** The verdict of its checkers (every one up). */
  readonly alive: boolean;
  /** The weight it has now (misc_dynamic may move it) and the configured one. */
  readonly weight: number;
  readonly configured_weight: number;
  /** The weight the kernel holds for it; absent when it is not in the kernel's table. */
  readonly kernel_weight?: number;
  readonly checkers: readonly StatusChecker[];
  readonly counters?: StatusIpvsCounters;
}

export interface StatusVirtualServer {
  /** "192.0.2.1:80/TCP", "fwmark 7" or "group NAME": how logs and events name it. */
  readonly name: string;
  readonly address?: string;
  readonly port?: number;
  readonly protocol?: "TCP" | "UDP" | "SCTP";
  readonly fwmark?: number;
  readonly group?: string;
  readonly scheduler: string;
  readonly forwarding: "NAT" | "DR" | "TUN";
  /** Live weight ≥ quorum (always true without a quorum setting). */
  readonly quorum_up: boolean;
  /** The sorry server is in the kernel's table in place of the real servers. */
  readonly sorry_server_active: boolean;
  readonly real_servers: readonly StatusRealServer[];
  /** Summed over the kernel services this virtual server is programmed as. */
  readonly counters?: StatusIpvsCounters;
}
