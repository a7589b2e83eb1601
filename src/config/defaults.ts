/**
 * Every default value, in one place, with keepalived's numbers (reference §1–§2). Values
 * derived from other settings (priority from state, version from the address family,
 * inheritance global → instance and VS → RS → checker) are applied in normalize.ts.
 */

export const GLOBAL_DEFAULTS = {
  smtp_connect_timeout: 30,
  startup_script_timeout: 10,
  shutdown_script_timeout: 10,
  vrrp_version: 2,
  vrrp_mcast_group4: "224.0.0.18",
  vrrp_mcast_group6: "ff02::12",
  default_interface: "eth0",
  vrrp_garp_master_repeat: 5,
  vrrp_garp_master_delay: 5,
  vrrp_garp_master_refresh: 0,
  vrrp_garp_master_refresh_repeat: 1,
  vrrp_garp_interval: 0,
  vrrp_gna_interval: 0,
  vrrp_down_timer_adverts: 3,
  vrrp_startup_delay: 0,
  vrrp_delay_after_boot: 0,
  vmac_prefix: "vrrp",
  vrrp_rx_bufs_multiplier: 3,
  json_version: 1,
} as const;

/** `vrrp_min_garp`: one GARP, no second burst, no refresh (only where still at default). */
export const MIN_GARP = {
  vrrp_garp_master_repeat: 1,
  vrrp_garp_master_delay: 0,
  vrrp_garp_master_refresh: 0,
} as const;

export const ROOT_DEFAULTS = {
  child_wait_time: 5,
} as const;

export const INSTANCE_DEFAULTS = {
  advert_int: 1,
  preempt_delay: 0,
  /** Priority without a `priority` line: 255 if `state MASTER`, else 100 (reference §2.3). */
  priority_master: 255,
  priority: 100,
} as const;

/** The owner of the virtual address has priority 255 (RFC 5798 §5.2.4). */
export const OWNER_PRIORITY = 255;

export const SCRIPT_DEFAULTS = {
  interval: 1,
  weight: { value: 0 },
  rise: 1,
  fall: 1,
} as const;

/**
 * track_http (extension): vrrp_script's interval, weight, rise and fall; HTTP_GET's default
 * status set (keepalived check_http.c: any 2xx). `timeout`, when absent, is the interval
 * (as for vrrp_script): a probe that has not answered by the time the next one is due has
 * failed, so there is never more than one in flight and a hung server costs exactly one
 * failure per interval. normalize.ts applies it; validate.ts refuses a longer timeout.
 */
export const HTTP_TRACK_DEFAULTS = {
  status: ["200-299"],
  tls_verify: true,
  interval: 1,
  weight: { value: 0 },
  rise: 1,
  fall: 1,
} as const;

export const TRACK_PROCESS_DEFAULTS = {
  weight: { value: 0 },
  quorum: 1,
  delay: 0,
} as const;

export const TRACK_FILE_DEFAULTS = {
  weight: { value: 1 },
} as const;

export const BFD_DEFAULTS = {
  min_rx: 10,
  min_tx: 10,
  idle_tx: 1000,
  multiplier: 5,
  ttl: 255,
  max_hops: 0,
} as const;

export const VS_DEFAULTS = {
  /** keepalived warns and uses these when the block omits them (reference §1.12). */
  lvs_sched: "wlc",
  lvs_method: { method: "NAT" },
  protocol: "UDP",
  delay_loop: 60,
  connect_timeout: 5,
  weight: 1,
  quorum: 1,
  hysteresis: 0,
  /** `persistence_timeout` alone, or a port-0 service, means 360 s. */
  persistence_timeout: 360,
} as const;

/** Per checker type: retry and delay_before_retry when nothing above sets them (§1.14). */
export const CHECKER_DEFAULTS = {
  retry: 1,
  delay_before_retry: 1,
  byType: {
    MISC_CHECK: { retry: 0 },
    DNS_CHECK: { retry: 3 },
    HTTP_GET: { delay_before_retry: 3 },
    SSL_GET: { delay_before_retry: 3 },
  } as Readonly<Record<string, { retry?: number; delay_before_retry?: number }>>,
  dns_type: "SOA",
  dns_name: ".",
  smtp_helo_name: "smtpchecker.keepalived.org",
  http_protocol: "1.0",
  status_code: ["200-299"],
} as const;

/** RS smtp_alert is true unless a global setting says otherwise (reference §1.13). */
export const RS_SMTP_ALERT = true;
