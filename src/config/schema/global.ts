/**
 * `global_defs` and the root-level keywords (reference §1.2–§1.4). Every keyword keepalived
 * 2.2–2.4 installs is here, so an operator's file parses unchanged; most are carried in the
 * model for later issues to act on.
 */
import { scalar } from "./args.ts";
import { host, int, ip, num, oneOf, port, str } from "./atoms.ts";
import {
  Bool,
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
  WordList,
  Words,
} from "./common.ts";
import { arg, block } from "./dsl.ts";

const fifo = () =>
  arg(
    tuple(
      {
        path: { atom: str("a path"), pos: 0, required: true },
        user: { atom: str(), pos: 1 },
        group: { atom: str(), pos: 2 },
      },
      { short: "path" },
    ),
  );

const identity = {
  router_id: Str(),
  notification_email: WordList(str("an e-mail address")),
  notification_email_from: Str("an e-mail address"),
  smtp_server: arg(
    tuple(
      { host: { atom: host, pos: 0, required: true }, port: { atom: port, pos: 1 } },
      { short: "host" },
    ),
  ),
  smtp_helo_name: Str(),
  smtp_connect_timeout: Secs(1, 86400),
  smtp_alert: Bool(),
  smtp_alert_vrrp: Bool(),
  smtp_alert_checker: Bool(),
  checker_log_all_failures: Bool(),
  no_email_faults: Flag(),
  no_checker_emails: Flag(),
  process_names: Flag(),
  process_name: Str(),
  vrrp_process_name: Str(),
  checker_process_name: Str(),
  bfd_process_name: Str(),
  data_use_instance: Bool(),
} as const;

const scripts = {
  script_user: RunAs(),
  enable_script_security: Flag(),
  set_supplementary_groups: Flag(),
  use_symlink_paths: Bool(),
  startup_script: Script(),
  shutdown_script: Script(),
  startup_script_timeout: Int(1, 1000),
  shutdown_script_timeout: Int(1, 1000),
  notify_fifo: fifo(),
  notify_fifo_script: Script(),
  vrrp_notify_fifo: fifo(),
  vrrp_notify_fifo_script: Script(),
  lvs_notify_fifo: fifo(),
  lvs_notify_fifo_script: Script(),
  vrrp_notify_priority_changes: Bool(),
  fifo_write_vrrp_states_on_reload: Flag(),
} as const;

const vrrpDefaults = {
  vrrp_version: Int(2, 3),
  vrrp_mcast_group4: arg(scalarIp(4)),
  vrrp_mcast_group6: arg(scalarIp(6)),
  default_interface: Str("an interface"),
  vrrp_garp_master_repeat: Int(1, 65535),
  vrrp_garp_master_delay: Int(0, 86400),
  vrrp_garp_master_refresh: Int(0, 86400),
  vrrp_garp_master_refresh_repeat: Int(1, 65535),
  vrrp_garp_lower_prio_repeat: Int(0, 65535),
  vrrp_garp_lower_prio_delay: Int(0, 86400),
  vrrp_garp_interval: Secs(0, 1000),
  vrrp_gna_interval: Secs(0, 1000),
  vrrp_min_garp: Bool(),
  vrrp_garp_extra_if: arg(
    tuple(
      { all: LEAD_FLAG, interval: { atom: int(0, 86400), pos: 0, required: true } },
      { short: "interval" },
    ),
  ),
  vrrp_down_timer_adverts: Int(1, 100),
  vrrp_lower_prio_no_advert: Bool(),
  vrrp_higher_prio_send_advert: Bool(),
  vrrp_owner_ignore_adverts: Bool(),
  vrrp_check_unicast_src: Flag(),
  vrrp_skip_check_adv_addr: Flag(),
  vrrp_strict: Flag(),
  v3_checksum_as_v2: Bool(),
  vrrp_startup_delay: Secs(0, 3600),
  vrrp_delay_after_boot: Secs(0, 86400),
  log_unknown_vrids: Flag(),
  vmac_prefix: Str(),
  vmac_addr_prefix: Str(),
  vrrp_rx_bufs_policy: Str("MTU|ADVERT|a size"),
  vrrp_rx_bufs_multiplier: Int(1, 65535),
  dynamic_interfaces: arg(tuple({ allow_if_changes: FLAG }, { flagShort: true })),
  disable_local_igmp: Flag(),
} as const;

const firewall = {
  nftables: OptValue("table", str("a table name")),
  nftables_priority: Int(-2147483648, 2147483647),
  nftables_counters: Flag(),
  nftables_ifindex: Flag(),
  nftables_ipvs: OptValue("table", str("a table name")),
  nftables_ipvs_priority: Int(-2147483648, 2147483647),
  nftables_ipvs_start_fwmark: Int(1, 4294967295),
  vrrp_iptables: arg(
    tuple(
      { in_chain: { atom: str(), pos: 0 }, out_chain: { atom: str(), pos: 1 } },
      { flagShort: true },
    ),
  ),
  vrrp_ipsets: Words(str()),
} as const;

const lvs = {
  lvs_sync_daemon: arg(
    tuple(
      {
        interface: { atom: str("an interface"), pos: 0, required: true },
        instance: { atom: str("a vrrp_instance"), pos: 1, aliases: ["inst"] },
        id: { atom: int(0, 255) },
        maxlen: { atom: int(1, 65507) },
        port: { atom: int(1, 65535) },
        ttl: { atom: int(1, 255) },
        group: { atom: ip() },
      },
      { short: "interface" },
    ),
  ),
  lvs_timeouts: arg(
    tuple({
      tcp: { atom: int(0, 86400 * 31) },
      tcpfin: { atom: int(0, 86400 * 31) },
      udp: { atom: int(0, 86400 * 31) },
    }),
  ),
  lvs_flush: Flag(),
  lvs_flush_on_stop: arg(tuple({ VS: FLAG }, { flagShort: true })),
  rs_init_notifies: Flag(),
  snmp_vs_stats_update_interval: Secs(0.001, 30),
  snmp_rs_stats_update_interval: Secs(0.001, 30),
} as const;

const procTuning = {
  vrrp_priority: Int(-20, 19),
  checker_priority: Int(-20, 19),
  bfd_priority: Int(-20, 19),
  vrrp_no_swap: Flag(),
  checker_no_swap: Flag(),
  bfd_no_swap: Flag(),
  vrrp_rt_priority: Int(1, 99),
  checker_rt_priority: Int(1, 99),
  bfd_rt_priority: Int(1, 99),
  vrrp_cpu_affinity: Words(int(0, 4095), 1),
  checker_cpu_affinity: Words(int(0, 4095), 1),
  bfd_cpu_affinity: Words(int(0, 4095), 1),
  vrrp_rlimit_rttime: Int(2, 4294967295),
  checker_rlimit_rttime: Int(2, 4294967295),
  bfd_rlimit_rttime: Int(2, 4294967295),
  max_auto_priority: OptValue("priority", int(-1, 99)),
  min_auto_priority_delay: Int(1, 4294967295),
  vrrp_netlink_cmd_rcv_bufs: Int(0, 2147483647),
  vrrp_netlink_cmd_rcv_bufs_force: Bool(),
  vrrp_netlink_monitor_rcv_bufs: Int(0, 2147483647),
  vrrp_netlink_monitor_rcv_bufs_force: Bool(),
  lvs_netlink_cmd_rcv_bufs: Int(0, 2147483647),
  lvs_netlink_cmd_rcv_bufs_force: Bool(),
  lvs_netlink_monitor_rcv_bufs: Int(0, 2147483647),
  lvs_netlink_monitor_rcv_bufs_force: Bool(),
  process_monitor_rcv_bufs: Int(0, 2147483647),
  process_monitor_rcv_bufs_force: Bool(),
  umask: Str("an octal number or IRUSR|IWUSR|… bits"),
} as const;

const observe = {
  snmp_socket: Str(),
  enable_snmp_vrrp: Flag(),
  enable_snmp_checker: Flag(),
  enable_snmp_rfc: Flag(),
  enable_snmp_rfcv2: Flag(),
  enable_snmp_rfcv3: Flag(),
  enable_traps: Flag(),
  enable_dbus: Flag(),
  dbus_service_name: Str(),
  dbus_no_interface_name: Str(),
  json_version: Int(1, 2),
  state_dump_file: Str("a path"),
  stats_dump_file: Str("a path"),
  json_dump_file: Str("a path"),
  tmp_config_directory: Str("a directory"),
  config_save_dir: Str("a directory"),
  reload_check_config: OptValue("log_file", str("a path")),
  reload_time_file: Str("a path"),
  reload_repeat: Flag(),
  reload_file: OptValue("path", str("a path")),
  /** Read by the preprocessor (lexer-include.ts); kept here so the model round-trips. */
  include_check: Words(oneOfIncludeCheck()),
  random_seed: Int(0, 4294967295),
  iproute_usr_dir: Str("a directory"),
  iproute_etc_dir: Str("a directory"),
  /** edge-agent: Prometheus endpoint, "ADDRESS:PORT" (an extension; keepalived has none). */
  metrics_listen: Str("ADDRESS:PORT"),
} as const;

export const globalDefs = block(
  { ...identity, ...scripts, ...vrrpDefaults, ...firewall, ...lvs, ...procTuning, ...observe },
  {
    lvs_process_name: "checker_process_name",
    vrrp_vmac_garp_intvl: { to: "vrrp_garp_extra_if", deprecated: "use vrrp_garp_extra_if" },
    lvs_flush_onstop: "lvs_flush_on_stop",
    enable_snmp_keepalived: "enable_snmp_vrrp",
    vrrp_rlimit_rtime: "vrrp_rlimit_rttime",
    checker_rlimit_rtime: "checker_rlimit_rttime",
    bfd_rlimit_rtime: "bfd_rlimit_rttime",
  },
);

/** Root-level keywords outside any block (reference §1.2). */
export const rootScalars = {
  net_namespace: Str("a namespace name"),
  net_namespace_ipvs: OptValue("name", str("a namespace name")),
  namespace_with_ipsets: Flag(),
  instance: Str("an instance name"),
  use_pid_dir: Flag(),
  linkbeat_use_polling: Flag(),
  child_wait_time: Int(0, 3600),
} as const;

export const linkbeatInterfaces = tuple(
  {
    interface: { atom: str("an interface"), pos: 0, required: true },
    method: { atom: oneOfMethods(), pos: 1 },
  },
  { short: "interface" },
);

export const upDownDelays = tuple({
  interface: { atom: str("an interface"), pos: 0, required: true },
  down_delay: { atom: numSecs(), pos: 1, required: true },
  up_delay: { atom: numSecs(), pos: 2 },
});

function scalarIp(f: 4 | 6) {
  return scalar(ip(f));
}
function oneOfMethods() {
  return oneOf(["MII", "ETHTOOL", "IOCTL"] as const, { caseInsensitive: true });
}
function oneOfIncludeCheck() {
  const words = ["readable", "read", "match", "wildcard_match", "brace_match"];
  const all = words.flatMap((w) => [w, `+${w}`, `-${w}`]);
  return oneOf(all, {});
}
function numSecs() {
  return num(0, 255, "s");
}
