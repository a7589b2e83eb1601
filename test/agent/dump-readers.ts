/**
 * What tooling expects of keepalived's dump files, written down for the tests:
 * - readers that take the files apart the way keepalived-exporter (mehdy/keepalived-exporter,
 *   internal/collector/parser.go ParseStats, ParseVRRPData, ParseVRRPScript) does: by
 *   indentation, `Key: value` / `Key = value`, and section lines ending in ":";
 * - keepalived's JSON keys in vrrp_json.c's order, and the stats layout keepalived 2.2.7
 *   wrote when we ran it (numbers replaced by N).
 * Our own reimplementation, so a change in our text that would break the exporter fails here.
 */
import type { StatusCounters } from "../../src/agent/status-types.ts";

/** "Section.Key" (or a top-level "Key") in keepalived.stats → our counter. */
export const STATS_TO_COUNTER: Readonly<Record<string, keyof StatusCounters>> = {
  "Advertisements.Received": "advert_rcvd",
  "Advertisements.Sent": "advert_sent",
  "Became master": "become_master",
  "Released master": "release_master",
  "Packet Errors.Length": "packet_len_err",
  "Packet Errors.TTL": "ip_ttl_err",
  "Packet Errors.Invalid Type": "invalid_type_rcvd",
  "Packet Errors.Advertisement Interval": "advert_interval_err",
  "Packet Errors.Address List": "addr_list_err",
  "Authentication Errors.Invalid Type": "invalid_authtype",
  "Authentication Errors.Type Mismatch": "authtype_mismatch",
  "Authentication Errors.Failure": "auth_failure",
  "Priority Zero.Received": "pri_zero_rcvd",
  "Priority Zero.Sent": "pri_zero_sent",
};

/** keepalived.stats → instance → "Section.Key" → value; a value that is not an integer throws. */
export function parseStatsLikeExporter(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  let cur: Record<string, number> | undefined;
  let section = "";
  const num = (l: string) => {
    const v = l.slice(l.indexOf(":") + 1).trim();
    if (!/^\d+$/.test(v)) throw new Error(`not a number in keepalived.stats: ${l}`);
    return Number(v);
  };
  for (const l of text.split("\n")) {
    if (l.startsWith("VRRP Instance") && l.includes(":")) {
      cur = {};
      section = "";
      out.set(l.slice(l.indexOf(":") + 1).trim(), cur);
    } else if (!cur) continue;
    else if (l.startsWith("  ") && l.endsWith(":")) section = l.trim().slice(0, -1);
    else if (l.startsWith("    ") && section) cur[`${section}.${l.trim().split(":")[0]}`] = num(l);
    else if (l.startsWith("  ")) {
      section = "";
      cur[l.trim().split(":")[0] as string] = num(l);
    }
  }
  return out;
}

export interface DataInstance {
  [key: string]: string | string[];
  vips: string[];
}

/**
 * keepalived.data → instances (the keys the exporter reads, and the Virtual IP list) and
 * scripts (Status, State). A line with one leading space that is not an instance or script
 * header ends the current object, as in the exporter.
 */
export function parseDataLikeExporter(text: string): {
  instances: Map<string, DataInstance>;
  scripts: Map<string, Record<string, string>>;
} {
  const wanted = ["State", "Wantstate", "Interface", "Virtual Router ID", "Gratuitous ARP delay"];
  const instances = new Map<string, DataInstance>();
  const scripts = new Map<string, Record<string, string>>();
  let inst: DataInstance | undefined;
  let script: Record<string, string> | undefined;
  let key = "";
  for (const l of text.split("\n")) {
    if (l.startsWith(" VRRP Instance") && l.includes("=")) {
      inst = { vips: [] };
      script = undefined;
      instances.set(l.split("=")[1]?.trim() ?? "", inst);
    } else if (l.startsWith(" VRRP Script") && l.includes("=")) {
      script = {};
      inst = undefined;
      scripts.set(l.split("=")[1]?.trim() ?? "", script);
    } else if (l.startsWith("     ") && inst) {
      if (key.startsWith("Virtual IP (")) inst.vips.push(l.trim());
    } else if (l.startsWith("   ") && (inst || script)) {
      const sep = l.includes("=") ? "=" : l.includes(":") ? ":" : undefined;
      if (!sep) continue;
      const [k, ...rest] = l.trim().split(sep);
      key = (k ?? "").trim();
      const val = rest.join(sep).trim();
      if (inst && wanted.includes(key)) inst[key] = val;
      if (script && (key === "Status" || key === "State")) script[key] = val;
    } else {
      inst = undefined;
      script = undefined;
    }
  }
  return { instances, scripts };
}

/** vrrp_json.c vrrp_json_data_dump, in order (optional keys included). */
export const KA_JSON_DATA_KEYS = [
  "iname",
  "dont_track_primary",
  "skip_check_adv_addr",
  "strict_mode",
  "vmac_ifname",
  "ifp_ifname",
  "master_priority",
  "last_transition",
  "garp_delay",
  "garp_refresh",
  "garp_rep",
  "garp_refresh_rep",
  "garp_lower_prio_delay",
  "garp_lower_prio_rep",
  "lower_prio_no_advert",
  "higher_prio_send_advert",
  "vrid",
  "base_priority",
  "effective_priority",
  "vipset",
  "promote_secondaries",
  "adver_int",
  "master_adver_int",
  "accept",
  "nopreempt",
  "preempt_delay",
  "state",
  "wantstate",
  "version",
  "smtp_alert",
  "notify_deleted",
  "script_backup",
  "script_master",
  "script_fault",
  "script_stop",
  "script_deleted",
  "script",
  "script_master_rx_lower_pri",
  "vips",
  "evips",
  "vroutes",
  "vrules",
  "track_ifp",
  "track_script",
  "track_process",
  "auth_type",
  "auth_data",
] as const;

/** vrrp_json.c vrrp_json_stats_dump as keepalived 2.2.7 writes it (no HMAC counters). */
export const KA_JSON_STATS_KEYS = [
  "advert_rcvd",
  "advert_sent",
  "become_master",
  "release_master",
  "packet_len_err",
  "advert_interval_err",
  "ip_ttl_err",
  "invalid_type_rcvd",
  "addr_list_err",
  "invalid_authtype",
  "authtype_mismatch",
  "auth_failure",
  "pri_zero_rcvd",
  "pri_zero_sent",
] as const;

/** A stats file with its numbers and instance names blanked. */
export const statsLayout = (text: string): string =>
  text.replace(/^VRRP Instance: .*$/gm, "VRRP Instance: NAME").replace(/: \d+$/gm, ": N");

/** One instance of keepalived 2.2.7's keepalived.stats, as it wrote it here (SIGUSR2). */
export const KA_STATS_LAYOUT = `VRRP Instance: NAME
  Advertisements:
    Received: N
    Sent: N
  Became master: N
  Released master: N
  Packet Errors:
    Length: N
    TTL: N
    Invalid Type: N
    Advertisement Interval: N
    Address List: N
  Authentication Errors:
    Invalid Type: N
    Type Mismatch: N
    Failure: N
  Priority Zero:
    Received: N
    Sent: N
`;
