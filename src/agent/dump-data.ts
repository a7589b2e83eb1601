/**
 * keepalived.data (SIGUSR1): the readable state dump, laid out as keepalived 2.2.7's
 * vrrp_data.c dump_data_vrrp lays it out — `------< Section >------` headers, one space
 * before an object's `Name = value`, three before its fields, five before list items —
 * because keepalived-exporter reads instances (State, Wantstate, Interface, Virtual Router
 * ID, Gratuitous ARP delay, the Virtual IP list) and scripts (Status, State) from it.
 *
 * keepalived calls this format unstable, and we keep only lines we can fill truthfully: no
 * file descriptors, socket pool, interface table or process uids, and the global section
 * carries only the router ID. Lines are in keepalived's order.
 */

import { formatIp } from "../core/net/ip.ts";
import {
  acceptMode,
  cmdStr,
  type DumpContext,
  formatAddress,
  masterAdverIntMs,
  planFor,
  stateName,
  timevalText,
} from "./dump-format.ts";
import type { InstancePlan } from "./params.ts";
import type { StatusDoc, StatusInstance, StatusTracker } from "./status-types.ts";

const header = (s: string) => `------< ${s} >------`;
const onOff = (b: boolean, on = "enabled", off = "disabled") => (b ? on : off);

export function dataDump(doc: StatusDoc, ctx: DumpContext): string {
  const out: string[] = [header("Global definitions")];
  const routerId = ctx.model?.global_defs.router_id;
  if (routerId) out.push(` Router ID = ${routerId}`);
  if (doc.instances.length) {
    out.push(header("VRRP Topology"));
    for (const i of doc.instances) out.push(...instance(i, planFor(ctx, i.name), ctx));
  }
  if (doc.sync_groups.length) {
    out.push(header("VRRP Sync groups"));
    for (const g of doc.sync_groups) {
      out.push(` VRRP Sync Group = ${g.name}, ${stateName(g.state)}`);
      out.push("   VRRP member instances :", ...g.members.map((n) => `     ${n}`));
    }
  }
  const scripts = scriptSection(doc, ctx);
  if (scripts.length) out.push(header("VRRP Scripts"), ...scripts);
  return out.map((l) => `${l}\n`).join("");
}

/** One ` VRRP Instance = NAME` block (vrrp_data.c dump_vrrp). */
function instance(i: StatusInstance, plan: InstancePlan, ctx: DumpContext): string[] {
  const p = plan.params;
  const im = ctx.model?.vrrp_instance[i.name];
  const out = [` VRRP Instance = ${i.name}`, `   VRRP Version = ${i.version}`];
  if (i.sync_group) out.push(`   Sync group = ${i.sync_group}`);
  if (i.family === 6) out.push("   Using Native IPv6");
  out.push(`   State = ${stateName(i.state)}`);
  const backupV3 = i.state === "BACKUP" && i.version === 3;
  const masterIntMs = masterAdverIntMs(i, p.downTimerAdverts);
  if (i.state === "BACKUP" && i.master) {
    out.push(`   Master router = ${i.master.address}`, `   Master priority = ${i.master.priority}`);
    if (backupV3) out.push(`   Master advert int = ${(masterIntMs / 1000).toFixed(2)} sec`);
  }
  out.push(...(plan.unicast ? ["   Flags:", "     Using unicast"] : ["   Flags: none"]));
  out.push(
    `   Wantstate = ${stateName(i.state)}`,
    "   Number of config faults = 0",
    `   Number of interface and track script faults = ${i.faults.length}`,
    `   Number of track scripts init = ${scriptsInit(i.trackers)}`,
    `   Last transition = ${timevalText(new Date(i.since))}`,
    `   Master down timer = ${Math.round(i.master_down_interval_ms * 1000)} usecs`,
  );
  out.push(
    plan.vmac
      ? `   Interface = ${plan.vmac.name}, vmac on ${plan.vmac.parent}${plan.vmac.xmitBase ? ", xmit base i/f" : ""}`
      : `   Interface = ${i.interface}`,
  );
  if (im?.dont_track_primary) out.push("   VRRP interface tracking disabled");
  if (plan.rx.skipCheckAdvAddr) out.push("   Skip checking advert IP addresses");
  if (im?.strict_mode) out.push("   Enforcing strict VRRP compliance");
  const fromConfig = im?.unicast_src_ip ?? im?.mcast_src_ip;
  out.push(
    `   Using src_ip = ${formatIp(plan.source)}${fromConfig ? " (from configuration)" : ""}`,
  );
  if (!plan.unicast) out.push(`   Multicast address ${formatIp(plan.group)}`);
  const g = p.garp;
  out.push(
    `   Gratuitous ARP delay = ${Math.floor(g.masterDelayMs / 1000)}`,
    `   Gratuitous ARP repeat = ${g.masterRepeat}`,
    `   Gratuitous ARP refresh = ${Math.floor(g.masterRefreshMs / 1000)}`,
    `   Gratuitous ARP refresh repeat = ${g.masterRefreshRepeat}`,
    `   Gratuitous ARP lower priority delay = ${Math.floor(g.lowerPrioDelayMs / 1000)}`,
    `   Gratuitous ARP lower priority repeat = ${g.lowerPrioRepeat}`,
    `   Down timer adverts = ${p.downTimerAdverts}`,
    `   Send advert after receive lower priority advert = ${!p.lowerPrioNoAdvert}`,
    `   Send advert after receive higher priority advert = ${p.higherPrioSendAdvert}`,
    `   Virtual Router ID = ${i.vrid}`,
    `   Priority = ${i.priority.base}`,
    `   Effective priority = ${i.priority.effective}`,
    `   Total priority = ${i.priority.base + i.trackers.reduce((s, t) => s + t.delta, 0)}`,
    i.version === 2
      ? `   Advert interval = ${Math.floor(i.advert_interval_ms / 1000)} sec`
      : `   Advert interval = ${i.advert_interval_ms} milli-sec`,
  );
  if (backupV3) out.push(`   Master advert interval = ${masterIntMs} milli-sec`);
  out.push(`   Accept = ${onOff(acceptMode(ctx.model, i.name, p.basePriority, p.version))}`);
  out.push(`   Preempt = ${onOff(!p.nopreempt)}`);
  if (p.preemptDelayMs) out.push(`   Preempt delay = ${p.preemptDelayMs / 1000} secs`);
  out.push(`   Promote_secondaries = ${onOff(im?.promote_secondaries ?? false)}`);
  // The password itself never appears (keepalived masks it since 2.4.0).
  if (plan.authType) out.push("   Authentication type = SIMPLE_PASSWORD", "   Password = ********");
  else if (i.version === 2) out.push("   Authentication type = none");
  out.push(...addresses(i, plan), ...tracked(i.trackers), ...notifies(i, plan, ctx));
  return out;
}

/** keepalived's num_script_init: bound scripts (and our HTTP probes) not reported yet. */
const scriptsInit = (ts: readonly StatusTracker[]) =>
  ts.filter((t) => (t.kind === "script" || t.kind === "http") && t.state === "unknown").length;

function addresses(i: StatusInstance, plan: InstancePlan): string[] {
  const held = i.state === "MASTER";
  const out: string[] = [];
  if (plan.vips.length) {
    out.push(`   Virtual IP (${plan.vips.length}):`);
    for (const v of plan.vips) out.push(`     ${formatAddress(v, plan, held)}`);
  }
  if (plan.evips.length) {
    out.push("   Virtual IP Excluded :");
    for (const v of plan.evips) out.push(`     ${formatAddress(v, plan, held)}`);
  }
  if (plan.unicast) {
    out.push(`   Unicast TTL = ${plan.ttl}`, "   Unicast Peer :");
    for (const d of plan.destinations) out.push(`     ${formatIp(d)}`);
  }
  return out;
}

/** The instance's trackers, grouped as vrrp_data.c groups them (vrrp_track.c wording). */
function tracked(ts: readonly StatusTracker[]): string[] {
  const groups: [StatusTracker["kind"], string, string][] = [
    ["interface", "Tracked interfaces :", " "],
    ["script", "Tracked scripts :", " "],
    ["file", "Tracked files :", ", "],
    ["process", "Tracked processes :", ", "],
    ["http", "Tracked HTTP probes :", " "],
  ];
  const out: string[] = [];
  for (const [kind, title, sep] of groups) {
    const list = ts.filter((t) => t.kind === kind);
    if (!list.length) continue;
    out.push(`   ${title}`);
    for (const t of list)
      out.push(`     ${t.name}${sep}weight ${t.weight}${t.reverse ? " reverse" : ""}`);
  }
  return out;
}

function notifies(i: StatusInstance, plan: InstancePlan, ctx: DumpContext): string[] {
  const im = ctx.model?.vrrp_instance[i.name];
  const deleted = im?.notify_deleted;
  const out = [
    `   Using smtp notification = ${onOff(im?.smtp_alert ?? false, "yes", "no")}`,
    `   Notify deleted = ${deleted !== undefined ? "Deleted" : "Fault"}`,
  ];
  const n = plan.notify;
  const rows = [
    ["Backup", n.BACKUP],
    ["Master", n.MASTER],
    ["Fault", n.FAULT],
    ["Stop", n.STOP],
    ["Deleted", typeof deleted === "object" ? deleted : undefined],
    ["Generic", n.generic],
    ["Master rx lower pri", im?.notify_master_rx_lower_pri],
  ] as const;
  for (const [kind, s] of rows)
    if (s) out.push(`   ${kind} state transition script = ${cmdStr(s)}`);
  const prio = im?.notify_priority_changes ?? ctx.model?.global_defs.vrrp_notify_priority_changes;
  out.push(`   Notify priority changes = ${prio ?? false}`);
  return out;
}

/**
 * `------< VRRP Scripts >------` (vrrp_data.c dump_vscript): each vrrp_script an instance
 * tracks, with the Status keepalived-exporter graphs. We do not follow the script's process
 * between runs, so State always reads "idle".
 */
function scriptSection(doc: StatusDoc, ctx: DumpContext): string[] {
  const users = new Map<string, { instance: string; t: StatusTracker }[]>();
  for (const i of doc.instances)
    for (const t of i.trackers)
      if (t.kind === "script")
        users.set(t.name, [...(users.get(t.name) ?? []), { instance: i.name, t }]);
  const out: string[] = [];
  for (const [name, list] of users) {
    const s = ctx.model?.vrrp_script[name];
    const first = list[0]?.t;
    out.push(` VRRP Script = ${name}`);
    if (s?.script) out.push(`   Command = ${cmdStr(s.script)}`);
    if (s) {
      out.push(
        `   Interval = ${Math.floor(s.interval)} sec`,
        `   Timeout = ${Math.floor(s.timeout)} sec`,
        `   Weight = ${s.weight.value}${s.weight.reverse ? " reverse" : ""}`,
        `   Rise = ${s.rise}`,
        `   Fall = ${s.fall}`,
      );
    }
    out.push(`   Status = ${first?.state === "up" ? "GOOD" : "BAD"}`, "   Tracking instances :");
    for (const u of list)
      out.push(`     ${u.instance}, weight ${u.t.weight}${u.t.reverse ? " reverse" : ""}`);
    out.push("   State = idle");
  }
  return out;
}
