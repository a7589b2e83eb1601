/**
 * keepalived's three state dumps, built from a StatusDoc (reference §3.1–§3.2), so tooling
 * written for keepalived keeps working:
 * - keepalived.stats (SIGUSR2; vrrp_print.c vrrp_print_stats): the counters, line for line
 *   as keepalived 2.2.7 writes them — keepalived-exporter parses this file;
 * - keepalived.json (SIGRTMIN+2; vrrp_json.c, json_version 1): an array of
 *   `{ data, stats }`, keepalived's field names and order;
 * - keepalived.data (SIGUSR1; vrrp_data.c dump_data_vrrp): the readable dump, in
 *   dump-data.ts.
 * Where we differ from keepalived, and why, is in docs/status.md.
 *
 * Files are written whole or not at all (writeAtomic), mode 0644. keepalived 2.2.7 runs with
 * umask 0177 and leaves them 0600; we make them readable so an unprivileged exporter can
 * read them, which is safe because no dump ever contains a secret.
 */

import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
// Routes and rules as our canonical keepalived-syntax line: keepalived's format_iproute /
// format_iprule word them alike, but not always in the same order.
import { toLine as routeText } from "../config/lines/route.ts";
import { toLine as ruleText } from "../config/lines/rule.ts";
import type { ScriptCommand } from "../config/lines/shell.ts";
import { AgentError } from "../errors.ts";
import {
  acceptMode,
  cmdStr,
  type DumpContext,
  formatAddress,
  masterAdverIntMs,
  planFor,
  stateCode,
} from "./dump-format.ts";
import type { StatusDoc, StatusInstance } from "./status-types.ts";

export { dataDump } from "./dump-data.ts";
export { type DumpContext, dumpContext } from "./dump-format.ts";

/** keepalived's KA_TMP_DIR (configure.ac, --with-tmp-dir): where dumps go without TMPDIR. */
export const KA_TMP_DIR = "/tmp";
export const DATA_FILE = "keepalived.data";
export const STATS_FILE = "keepalived.stats";
export const JSON_FILE = "keepalived.json";

export interface DumpPaths {
  readonly data: string;
  readonly stats: string;
  readonly json: string;
}

export const DEFAULT_DUMP_PATHS: DumpPaths = Object.freeze({
  data: `${KA_TMP_DIR}/${DATA_FILE}`,
  stats: `${KA_TMP_DIR}/${STATS_FILE}`,
  json: `${KA_TMP_DIR}/${JSON_FILE}`,
});

/**
 * lib/utils.c set_tmp_dir: $TMPDIR if it is an absolute path to a directory, else
 * KA_TMP_DIR (keepalived logs "not a directory" and falls back; so do we, silently).
 */
export function tmpDirFrom(env: Readonly<Record<string, string | undefined>>): string {
  const t = env.TMPDIR;
  if (!t?.startsWith("/")) return KA_TMP_DIR;
  try {
    return statSync(t).isDirectory() ? t : KA_TMP_DIR;
  } catch {
    return KA_TMP_DIR;
  }
}

/**
 * Where the dumps go. stats and json: `tmpDir`/keepalived.{stats,json} (make_tmp_filename).
 * data: global_defs `state_dump_file` may move it (global_data.c open_dump_file): an
 * absolute path names the directory (a trailing `/`) or the directory and file; a relative
 * one names the file inside `tmpDir`.
 */
export function dumpPaths(
  opts: { tmpDir?: string | undefined; stateDumpFile?: string | undefined } = {},
): DumpPaths {
  const tmp = (opts.tmpDir ?? KA_TMP_DIR).replace(/\/+$/, "") || "/";
  const f = opts.stateDumpFile;
  let data = join(tmp, DATA_FILE);
  if (f) {
    const dir = f.startsWith("/") ? (f.endsWith("/") ? f : dirname(f)) : tmp;
    data = join(dir, f.endsWith("/") ? DATA_FILE : basename(f));
  }
  return { data, stats: join(tmp, STATS_FILE), json: join(tmp, JSON_FILE) };
}

/**
 * Write `text` to `path` atomically: a new file beside it under an unguessable name, created
 * with O_EXCL (so never through a planted symlink), mode 0644 whatever the umask, then
 * renamed over `path` — a reader sees the old file or the new one, never a part (as
 * vrrp_json.c vrrp_print_json does with mkostemp and rename).
 */
export function writeAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(tmp, "wx", 0o644);
    created = true;
    fchmodSync(fd, 0o644);
    const bytes = new TextEncoder().encode(text);
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    // Only our own file: a name someone else holds is not ours to remove.
    if (created) {
      try {
        unlinkSync(tmp);
      } catch {
        // Already renamed into place: nothing to clean.
      }
    }
    const why = err instanceof Error ? err.message : String(err);
    throw new AgentError("E_OUTPUT_UNWRITABLE", `cannot write ${path}: ${why}`, path, {
      cause: err,
    });
  }
}

/** vrrp_print.c vrrp_print_stats, keepalived 2.2.7's layout (no HMAC extension counters). */
export function statsDump(doc: StatusDoc): string {
  const out: string[] = [];
  for (const i of doc.instances) {
    const c = i.counters;
    out.push(
      `VRRP Instance: ${i.name}`,
      "  Advertisements:",
      `    Received: ${c.advert_rcvd}`,
      `    Sent: ${c.advert_sent}`,
      `  Became master: ${c.become_master}`,
      `  Released master: ${c.release_master}`,
      "  Packet Errors:",
      `    Length: ${c.packet_len_err}`,
      `    TTL: ${c.ip_ttl_err}`,
      `    Invalid Type: ${c.invalid_type_rcvd}`,
      `    Advertisement Interval: ${c.advert_interval_err}`,
      `    Address List: ${c.addr_list_err}`,
      "  Authentication Errors:",
      `    Invalid Type: ${c.invalid_authtype}`,
      `    Type Mismatch: ${c.authtype_mismatch}`,
      `    Failure: ${c.auth_failure}`,
      "  Priority Zero:",
      `    Received: ${c.pri_zero_rcvd}`,
      `    Sent: ${c.pri_zero_sent}`,
    );
  }
  return out.map((l) => `${l}\n`).join("");
}

/**
 * vrrp_json.c, json_version 1: one `{ "data", "stats" }` per instance, keepalived's keys in
 * its order; optional keys (scripts, address lists, trackers, auth_data) only when set, as
 * keepalived leaves them out. Written compact with "/" escaped, as its json_writer does.
 */
export function jsonDump(doc: StatusDoc, ctx: DumpContext): string {
  const list = doc.instances.map((i) => ({ data: jsonData(i, ctx), stats: jsonStats(i) }));
  return `${JSON.stringify(list).replaceAll("/", "\\/")}\n`;
}

const bit = (b: boolean | undefined): number => (b ? 1 : 0);

function jsonData(i: StatusInstance, ctx: DumpContext): Record<string, unknown> {
  const plan = planFor(ctx, i.name);
  const p = plan.params;
  const m = ctx.model;
  const im = m?.vrrp_instance[i.name];
  const g = m?.global_defs;
  const held = i.state === "MASTER";
  const deleted = im?.notify_deleted;
  const d: Record<string, unknown> = {
    iname: i.name,
    dont_track_primary: bit(im?.dont_track_primary),
    skip_check_adv_addr: bit(plan.rx.skipCheckAdvAddr),
    strict_mode: bit(im?.strict_mode),
    vmac_ifname: plan.vmac?.name ?? "",
    ifp_ifname: i.interface,
    master_priority: i.master?.priority ?? 0,
    last_transition: Date.parse(i.since) / 1000,
    garp_delay: p.garp.masterDelayMs / 1000,
    garp_refresh: Math.floor(p.garp.masterRefreshMs / 1000),
    garp_rep: p.garp.masterRepeat,
    garp_refresh_rep: p.garp.masterRefreshRepeat,
    garp_lower_prio_delay: Math.floor(p.garp.lowerPrioDelayMs / 1000),
    garp_lower_prio_rep: p.garp.lowerPrioRepeat,
    lower_prio_no_advert: bit(p.lowerPrioNoAdvert),
    higher_prio_send_advert: bit(p.higherPrioSendAdvert),
    vrid: i.vrid,
    base_priority: i.priority.base,
    effective_priority: i.priority.effective,
    vipset: held,
    promote_secondaries: im?.promote_secondaries ?? false,
    adver_int: i.advert_interval_ms / 1000,
    master_adver_int: masterAdverIntMs(i, p.downTimerAdverts) / 1000,
    accept: bit(acceptMode(m, i.name, p.basePriority, p.version)),
    nopreempt: p.nopreempt,
    preempt_delay: Math.floor(p.preemptDelayMs / 1000),
    state: stateCode(i.state),
    // We keep no separate wanted state: what an instance wants is where it is.
    wantstate: stateCode(i.state),
    version: i.version,
    smtp_alert: im?.smtp_alert ?? g?.smtp_alert_vrrp ?? g?.smtp_alert ?? false,
    notify_deleted: deleted !== undefined,
  };
  Object.assign(d, jsonOptional(i, ctx));
  d.auth_type = plan.authType;
  // keepalived masks the password since 2.4.0 (2.2.7 printed it); we never even read it.
  if (plan.authType) d.auth_data = "********";
  return d;
}

/** The keys keepalived writes only when set: notify scripts, address lists, trackers. */
function jsonOptional(i: StatusInstance, ctx: DumpContext): Record<string, unknown> {
  const plan = planFor(ctx, i.name);
  const m = ctx.model;
  const im = m?.vrrp_instance[i.name];
  const deleted = im?.notify_deleted;
  const held = i.state === "MASTER";
  const named = (k: string) => i.trackers.filter((t) => t.kind === k).map((t) => t.name);
  const scriptCmd = (n: string) => {
    const s = m?.vrrp_script[n]?.script;
    return s ? cmdStr(s) : n;
  };
  const d: Record<string, unknown> = {};
  const scripts: [string, ScriptCommand | undefined][] = [
    ["script_backup", plan.notify.BACKUP],
    ["script_master", plan.notify.MASTER],
    ["script_fault", plan.notify.FAULT],
    ["script_stop", plan.notify.STOP],
    ["script_deleted", typeof deleted === "object" ? deleted : undefined],
    ["script", plan.notify.generic],
    ["script_master_rx_lower_pri", im?.notify_master_rx_lower_pri],
  ];
  for (const [k, s] of scripts) if (s) d[k] = cmdStr(s);
  const lists: [string, string[]][] = [
    ["vips", plan.vips.map((v) => formatAddress(v, plan, held))],
    ["evips", plan.evips.map((v) => formatAddress(v, plan, held))],
    ["vroutes", plan.routes.map(routeText)],
    ["vrules", plan.rules.map(ruleText)],
    ["track_ifp", named("interface")],
    ["track_script", named("script").map(scriptCmd)],
    ["track_process", named("process")],
  ];
  for (const [k, l] of lists) if (l.length) d[k] = l;
  return d;
}

function jsonStats(i: StatusInstance): Record<string, number> {
  const c = i.counters;
  return {
    advert_rcvd: c.advert_rcvd,
    advert_sent: c.advert_sent,
    become_master: c.become_master,
    release_master: c.release_master,
    packet_len_err: c.packet_len_err,
    advert_interval_err: c.advert_interval_err,
    ip_ttl_err: c.ip_ttl_err,
    invalid_type_rcvd: c.invalid_type_rcvd,
    addr_list_err: c.addr_list_err,
    invalid_authtype: c.invalid_authtype,
    authtype_mismatch: c.authtype_mismatch,
    auth_failure: c.auth_failure,
    pri_zero_rcvd: c.pri_zero_rcvd,
    pri_zero_sent: c.pri_zero_sent,
  };
}
