/**
 * VRRP blocks: vrrp_script, track_http, vrrp_track_process, track_file, bfd_instance,
 * vrrp_sync_group, vrrp_instance and the small global blocks (reference §1.4–§1.10).
 */
import { scalar } from "./args.ts";
import { int, ip, mac, num, oneOf, str } from "./atoms.ts";
import { url as httpGetUrl } from "./checkers.ts";
import {
  Bool,
  Enum,
  FLAG,
  Flag,
  Int,
  LEAD_FLAG,
  OptValue,
  RunAs,
  Script,
  Secs,
  Str,
  tuple,
  Weight,
  WordList,
  Words,
} from "./common.ts";
import { arg, block, clearing, deprecated, lines, multi, repeat } from "./dsl.ts";
import { hostHeader, httpUrl } from "./http-url.ts";
import { addressLine, routeLine, ruleLine } from "./lines.ts";
import { optionalScript } from "./script.ts";

/** `NAME [weight W [reverse|noreverse]]` lines in track_* blocks. */
export const trackLine = (min: number, max: number) =>
  lines(
    tuple(
      {
        name: { atom: str("a name"), pos: 0, required: true },
        weight: { atom: int(min, max) },
        reverse: FLAG,
        noreverse: FLAG,
      },
      { short: "name" },
    ),
  );

export const vrrpScript = block({
  script: Script(),
  interval: Secs(0.001, 86400),
  timeout: Secs(0.001, 86400),
  weight: Weight(-253, 253),
  rise: Int(1, 2147483647),
  fall: Int(1, 2147483647),
  user: RunAs(),
  init_fail: Flag(),
});

/**
 * `track_http NAME { … }` (an edge-agent extension; keepalived has no such block): GET `url`
 * every `interval`; a status in `status` is a success. Timing, weight and hysteresis are
 * vrrp_script's, keyword for keyword, so a `vrrp_script` running curl can be swapped for one.
 */
export const trackHttp = block({
  url: arg(scalar(httpUrl)),
  /** HTTP_GET's `status_code` words (`200`, `200-299 404`), so both read statuses alike. */
  status: httpGetUrl.block.fields.status_code,
  host: arg(scalar(hostHeader)),
  tls_verify: Bool(),
  interval: Secs(0.001, 86400),
  timeout: Secs(0.001, 86400),
  weight: Weight(-253, 253),
  rise: Int(1, 2147483647),
  fall: Int(1, 2147483647),
  init_fail: Flag(),
});

export const vrrpTrackProcess = block({
  // A plain keyword (vrrp_parser.c install_keyword): words, "…" groups one with spaces, no
  // user or group as script keywords have. [0] is the name or path, the rest its parameters.
  process: Words(str("a process name or path, then its parameters"), 1),
  // Bare `param_match` means exact: the command has exactly the given parameters.
  param_match: OptValue("match", oneOf(["initial", "partial"] as const)),
  weight: Weight(-254, 254),
  quorum: Int(0, 65535),
  quorum_max: Int(0, 65535),
  fork_delay: Secs(0, 86400),
  terminate_delay: Secs(0, 86400),
  delay: Secs(0, 86400),
  full_command: Flag(),
});

export const trackFile = block({
  file: Str("a path"),
  weight: Weight(-2147483647, 2147483647),
  init_file: arg(
    tuple(
      { value: { atom: int(-2147483648, 2147483647), pos: 0 }, overwrite: FLAG },
      { flagShort: true, short: "value" },
    ),
  ),
});

export const bfdInstance = block(
  {
    neighbor_ip: arg(scalar(ip())),
    source_ip: arg(scalar(ip())),
    min_rx: arg(scalar(num(1, 60000, "ms"))),
    min_tx: arg(scalar(num(1, 60000, "ms"))),
    idle_tx: arg(scalar(num(1, 60000, "ms"))),
    multiplier: Int(1, 255),
    passive: Flag(),
    ttl: Int(1, 255),
    max_hops: Int(0, 255),
    multihop: Bool(),
    weight: Weight(-253, 253),
    vrrp: Flag(),
    checker: Flag(),
  },
  { neighbour_ip: "neighbor_ip", hoplimit: "ttl" },
);

const tracking = {
  track_interface: trackLine(-253, 253),
  track_script: trackLine(-253, 253),
  track_file: trackLine(-254, 254),
  track_process: trackLine(-254, 254),
  track_bfd: trackLine(-253, 253),
  /** Extension: binds a track_http block; weights as for track_script. */
  track_http: trackLine(-253, 253),
} as const;

const notifies = {
  notify_master: Script(),
  notify_backup: Script(),
  notify_fault: Script(),
  notify_stop: Script(),
  notify: Script(),
} as const;

export const vrrpSyncGroup = block({
  group: WordList(str("a vrrp_instance name")),
  ...tracking,
  ...notifies,
  notify_priority_changes: Bool(),
  smtp_alert: Bool(),
  sync_group_tracking_weight: Flag(),
  global_tracking: deprecated(Flag(), "use sync_group_tracking_weight"),
});

const garp = {
  garp_master_delay: Int(0, 86400),
  garp_master_repeat: Int(1, 65535),
  garp_lower_prio_delay: Int(0, 86400),
  garp_lower_prio_repeat: Int(0, 65535),
  garp_master_refresh: Int(0, 86400),
  garp_master_refresh_repeat: Int(1, 65535),
  garp_extra_if: arg(
    tuple(
      { all: LEAD_FLAG, interval: { atom: int(0, 86400), pos: 0, required: true } },
      { short: "interval" },
    ),
  ),
} as const;

const auth = block({
  auth_type: Enum(["PASS", "AH"] as const, true),
  auth_pass: Str("a password"),
});

const authHmac = block({
  key: multi(
    tuple({
      id: { atom: int(0, 255), pos: 0, required: true },
      secret: { atom: str("hex:…, file:… or a string"), pos: 1, required: true },
    }),
  ),
  active_key: Int(0, 255),
  anti_replay: Enum(["time", "monotonic"] as const),
  time_window: Int(1, 300),
  mode: Enum(["enforce", "permissive", "receive-only"] as const),
});

const addressing = {
  virtual_ipaddress: lines(addressLine),
  virtual_ipaddress_excluded: lines(addressLine),
  no_virtual_ipaddress: Flag(),
  virtual_routes: lines(routeLine),
  virtual_rules: lines(ruleLine),
  promote_secondaries: Flag(),
  mcast_src_ip: arg(scalar(ip())),
  unicast_src_ip: arg(scalar(ip())),
  track_src_ip: Flag(),
  mcast_dst_ip: arg(scalar(ip())),
  unicast_peer: lines(
    tuple(
      {
        address: { atom: ip(), pos: 0, required: true },
        min_ttl: { atom: int(0, 255) },
        max_ttl: { atom: int(0, 255) },
      },
      { short: "address" },
    ),
  ),
  unicast_fault_no_peer: Flag(),
  check_unicast_src: Flag(),
  unicast_ttl: Int(0, 255),
  old_unicast_checksum: arg(tuple({ never: FLAG }, { flagShort: true })),
  v3_checksum_as_v2: Bool(),
  use_vmac: arg(
    tuple(
      {
        interface: { atom: str("an interface name"), pos: 0, aliases: ["name"] },
        mac: { atom: mac, pos: 1 },
        netlink_notify_msg: FLAG,
        group: { atom: str() },
      },
      { flagShort: true },
    ),
  ),
  use_vmac_addr: Flag(),
  vmac_xmit_base: Flag(),
  use_ipvlan: arg(
    tuple(
      {
        interface: { atom: str("an interface name"), pos: 0, aliases: ["name"] },
        address: { atom: str("an address/prefix"), pos: 1 },
        bridge: FLAG,
        private: FLAG,
        vepa: FLAG,
        group: { atom: str() },
      },
      { flagShort: true },
    ),
  ),
} as const;

const behaviour = {
  down_timer_adverts: Int(1, 100),
  timer_expired_backup: OptValue("priority", int(1, 254)),
  lower_prio_no_advert: Bool(),
  higher_prio_send_advert: Bool(),
  owner_ignore_adverts: Bool(),
  accept: clearing(Flag(), ["no_accept"]),
  no_accept: clearing(Flag(), ["accept"]),
  nopreempt: clearing(Flag(), ["preempt"]),
  /** keepalived keeps it for compatibility: it only switches nopreempt off again. */
  preempt: clearing(Flag(), ["nopreempt"]),
  preempt_delay: Secs(0, 1000),
  skip_check_adv_addr: Bool(),
  strict_mode: Bool(),
  dont_track_primary: Flag(),
} as const;

export const vrrpInstance = block(
  {
    state: Enum(["MASTER", "BACKUP"] as const),
    interface: Str("an interface"),
    vrf: Str("a VRF interface"),
    virtual_router_id: Int(1, 255),
    priority: Int(1, 255),
    advert_int: Secs(0.001, 4095),
    version: Int(2, 3),
    authentication: auth,
    auth_hmac: authHmac,
    ...addressing,
    ...tracking,
    ...garp,
    ...behaviour,
    ...notifies,
    notify_deleted: optionalScript(),
    notify_master_rx_lower_pri: Script(),
    notify_priority_changes: Bool(),
    smtp_alert: Bool(),
    kernel_rx_buf_size: Int(0, 2147483647),
    debug: Int(0, 4),
    native_ipv6: deprecated(Flag(), "the family comes from the virtual addresses"),
    linkbeat_use_polling: deprecated(Flag(), "use linkbeat_interfaces"),
    lvs_sync_daemon_interface: deprecated(Str("an interface"), "use global lvs_sync_daemon"),
  },
  {
    thread_timer_expired: "timer_expired_backup",
    vmac_garp_intvl: { to: "garp_extra_if", deprecated: "use garp_extra_if" },
  },
);

export const trackGroup = block({ group: WordList(str("a vrrp_instance name")) });

export const garpGroup = repeat(
  block({
    garp_interval: Secs(0, 1000),
    gna_interval: Secs(0, 1000),
    interface: Str("an interface"),
    interfaces: WordList(str("an interface")),
  }),
);
