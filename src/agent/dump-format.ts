/**
 * Small formatters shared by the keepalived-compatible dumps (dumps.ts, dump-data.ts):
 * keepalived's state numbers and names, its quoting of a script command, its address text
 * and its ctime-with-microseconds stamp. Each follows the keepalived function it names.
 */
import type { AddressLine } from "../config/lines/address.ts";
import type { ScriptCommand } from "../config/lines/shell.ts";
import type { Model } from "../config/model.ts";
import { formatIp, maskHostBits, parsePrefix } from "../core/net/ip.ts";
import type { Agent } from "./loop.ts";
import type { InstancePlan } from "./params.ts";
import type { StatusInstance, StatusState } from "./status-types.ts";

/**
 * What the dumps need beside the document: the running plans (addresses with their
 * options, GARP settings, notify scripts …) and, if at hand, the model (router_id, script
 * commands, flags a plan does not keep). Take both from the same agent as the document.
 */
export interface DumpContext {
  readonly plans: readonly InstancePlan[];
  readonly model?: Model;
}

export function dumpContext(agent: Pick<Agent, "running">, model?: Model): DumpContext {
  const plans = [...agent.running.values()].map((r) => r.plan);
  return model ? { plans, model } : { plans };
}

/** The plan of a documented instance; both come from one agent, so a miss is a bug. */
export function planFor(ctx: DumpContext, name: string): InstancePlan {
  const plan = ctx.plans.find((p) => p.name === name);
  if (!plan) throw new Error(`dump: instance ${name} has no plan in the dump context`);
  return plan;
}

/** include/vrrp.h VRRP_STATE_*: INIT 0, BACKUP 1, MASTER 2, FAULT 3, STOP 98 (internal). */
const STATE_CODE: Record<StatusState, number> = {
  INIT: 0,
  BACKUP: 1,
  MASTER: 2,
  FAULT: 3,
  STOP: 98,
};

export const stateCode = (s: StatusState): number => STATE_CODE[s];

/** vrrp_data.c get_state_str: anything but the four RFC-ish states reads "unknown". */
export const stateName = (s: StatusState): string => (s === "STOP" ? "unknown" : s);

/**
 * notify.c cmd_str: every word in single quotes, a quote inside written '\'' — except a
 * first word starting with < or > (a bare redirection, a file-existence test), kept as is.
 * keepalived shows the program's resolved path; we show it as configured.
 */
export function cmdStr(cmd: ScriptCommand): string {
  return cmd.command
    .map((w, i) => (i === 0 && /^[<>]/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`))
    .join(" ");
}

/** ipaddresstos: the prefix length is left out when it covers the whole address. */
function addressText(cidr: string): string {
  const [addr, len] = cidr.split("/");
  const full = (addr ?? "").includes(":") ? "128" : "32";
  return len === undefined || len === full ? (addr ?? cidr) : cidr;
}

/** `brd ADDR|+|-` as the address keepalived stores: given, host bits set, or cleared. */
function broadcast(v: AddressLine): string | undefined {
  if (v.brd === undefined) return undefined;
  if (v.brd !== "+" && v.brd !== "-") return v.brd;
  const p = parsePrefix(v.address);
  return p.ok ? formatIp(maskHostBits(p.prefix, v.brd === "+")) : undefined;
}

/**
 * vrrp_ipaddress.c format_ipaddress, for a virtual_ipaddress(_excluded) line of `plan`:
 * `ADDR[/LEN] [brd B] dev IF[@BASE] [use_vmac] scope S [label L] [peer P/LEN] [flags…]
 * [preferred_lft …] [set]`. `held`: the address is on the interface now (keepalived's
 * trailing "set"). IPv6 always reads "scope global" (keepalived ignores a configured scope
 * there) and shows its preferred lifetime, /128 defaulting to 0 ("deprecated").
 */
export function formatAddress(v: AddressLine, plan: InstancePlan, held: boolean): string {
  const v6 = v.address.includes(":");
  const dev = v.dev ?? (v.use_vmac && plan.vmac ? plan.vmac.name : plan.vipDev);
  const out = [addressText(v.address)];
  const brd = v6 ? undefined : broadcast(v);
  if (brd) out.push(`brd ${brd}`);
  out.push(`dev ${dev}${plan.vmac && dev === plan.vmac.name ? `@${plan.vmac.parent}` : ""}`);
  if (v.use_vmac) out.push("use_vmac");
  out.push(`scope ${v6 ? "global" : (v.scope ?? "global")}`);
  if (v.label && !v6) out.push(`label ${v.label}`);
  if (v.peer) out.push(`peer ${v.peer}/${v.address.split("/")[1] ?? (v6 ? 128 : 32)}`);
  if (v.home) out.push("home");
  if (v["-nodad"]) out.push("-nodad");
  if (v.mngtmpaddr) out.push("mngtmpaddr");
  if (v.noprefixroute) out.push("noprefixroute");
  if (v.autojoin) out.push("autojoin");
  if (v.no_track) out.push("no_track");
  if (v.track_group) out.push(`track_group ${v.track_group}`);
  if (v6) {
    const lft = v.preferred_lft ?? (v.address.endsWith("/128") ? 0 : "forever");
    out.push(lft === 0 ? "deprecated" : `preferred_lft ${lft}`);
  }
  if (held) out.push("set");
  return out.join(" ");
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/**
 * `SECONDS.MICROS (Www Mmm dd hh:mm:ss.uuuuuu yyyy)` as vrrp_data.c prints a timeval with
 * ctime_us_r — in UTC rather than keepalived's local time, so the text does not depend on
 * the host's zone. Our clock has millisecond resolution: the last three digits are 0.
 */
export function timevalText(at: Date): string {
  const ms = at.getTime();
  const sec = Math.floor(ms / 1000);
  const us = pad((ms - sec * 1000) * 1000, 6);
  const d = at;
  // ctime pads the day of the month with a space ("Jan  2"), the rest with zeros.
  const day = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${sec}.${us} (${day} ${time}.${us} ${d.getUTCFullYear()})`;
}

/**
 * keepalived's master_adver_int, in ms. The document has Master_Down_Interval =
 * down_timer_adverts × Master_Adver_Interval + Skew_Time and the skew, so the master's
 * interval is (down − skew) / adverts, rounded to the centisecond the wire carries
 * (RFC 5798 §5.2.7). In v2 that is our own interval.
 */
export function masterAdverIntMs(i: StatusInstance, downTimerAdverts: number): number {
  const ms = (i.master_down_interval_ms - i.skew_ms) / downTimerAdverts;
  return Math.round(ms / 10) * 10;
}

/**
 * vrrp.c vrrp_complete_instance: accept mode is on unless asked off (no_accept) or strict —
 * strict v2 clears even an explicit `accept` — and always on for the address owner.
 */
export function acceptMode(
  m: Model | undefined,
  name: string,
  basePriority: number,
  version: 2 | 3,
): boolean {
  const i = m?.vrrp_instance[name];
  const owner = basePriority === 255;
  const strict = i?.strict_mode ?? false;
  if (i?.no_accept) return false;
  if (i?.accept) return owner || !(strict && version === 2);
  return owner || !strict;
}
