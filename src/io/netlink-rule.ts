/**
 * virtual_rules / static_rules through rtnl_rule (keepalived/vrrp/vrrp_iprule.c netlink_rule).
 */
import type { NlPtr } from "../../native/libnl.ts";
import { AgentError } from "../errors.ts";
import {
  AF_INET,
  AF_INET6,
  CHANGED,
  familyOf,
  type NetChange,
  NLE,
  NLM_F_EXCL,
  NlScope,
  nlAddr,
  nlCheck,
  nlSocket,
  prefixOf,
  unchanged,
  unsupported,
} from "./netlink-core.ts";
import { ipprotoNumber, tableNumber } from "./netlink-names.ts";

/**
 * The rule-line record (config RuleLine: src/config/lines/rule-model.ts) as this layer reads
 * it; RuleLine is assignable to it. Other options are refused as "not supported yet".
 */
export interface NetRule {
  readonly from?: string;
  readonly to?: string;
  readonly table?: number | string;
  readonly preference?: number;
  readonly tos?: number | string;
  readonly fwmark?: number;
  readonly fwmask?: number;
  readonly iif?: string;
  readonly oif?: string;
  readonly l3mdev?: true;
  readonly protocol?: number;
  readonly ipproto?: number | string;
  readonly sport?: readonly [number, number];
  readonly dport?: readonly [number, number];
  readonly goto?: number;
  readonly nop?: true;
  readonly type?: "blackhole" | "unreachable" | "prohibit";
  readonly family?: "inet" | "inet6";
  readonly no_track?: true;
  readonly track_group?: string;
}

/** FR_ACT_* (uapi linux/fib_rules.h). */
const FR_ACT = { TO_TBL: 1, GOTO: 2, NOP: 3, blackhole: 6, unreachable: 7, prohibit: 8 } as const;
const RTPROT_KEEPALIVED = 18;
const RT_TABLE_MAIN = 254;

const HANDLED = new Set([
  ...["from", "to", "table", "preference", "tos", "fwmark", "fwmask", "iif", "oif", "l3mdev"],
  ...["protocol", "ipproto", "sport", "dport", "goto", "nop", "type", "family", "no_track"],
  "track_group",
]);

function describe(r: NetRule): string {
  const parts = ["rule"];
  if (r.preference !== undefined) parts.push(`pref ${r.preference}`);
  if (r.from !== undefined) parts.push(`from ${r.from}`);
  if (r.to !== undefined) parts.push(`to ${r.to}`);
  if (r.fwmark !== undefined) parts.push(`fwmark ${r.fwmark}`);
  if (r.table !== undefined) parts.push(`table ${r.table}`);
  return parts.join(" ");
}

/**
 * Adds the rule with NLM_F_EXCL, as keepalived does: without it the kernel would add a second
 * identical rule. An identical rule already there is success.
 */
export function addRule(r: NetRule): NetChange {
  const what = `add ${describe(r)}`;
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const rc = nl.rtnl_rule_add(sk, buildRule(s, r, what, true), NLM_F_EXCL);
  if (rc === -NLE.EXIST) return unchanged("present");
  nlCheck(rc, what);
  return CHANGED;
}

/** Deletes the rule; one that is not there is success. */
export function deleteRule(r: NetRule): NetChange {
  const what = `delete ${describe(r)}`;
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const rc = nl.rtnl_rule_delete(sk, buildRule(s, r, what, false), 0);
  if (rc === -NLE.OBJ_NOTFOUND) return unchanged("absent");
  nlCheck(rc, what);
  return CHANGED;
}

function familyFor(r: NetRule, what: string): number {
  const fromSel = [r.from, r.to].find((x) => x !== undefined && !/^(all|any|default)$/.test(x));
  const byAddr = fromSel === undefined ? undefined : familyOf(prefixOf(fromSel, what).addr);
  const byWord = r.family === "inet6" ? AF_INET6 : r.family === "inet" ? AF_INET : undefined;
  if (byAddr !== undefined && byWord !== undefined && byAddr !== byWord)
    throw new AgentError("E_CONFIG_INVALID", `${what}: address family differs from ${r.family}`);
  return byAddr ?? byWord ?? AF_INET;
}

function buildRule(s: NlScope, r: NetRule, what: string, add: boolean): NlPtr {
  for (const [k, v] of Object.entries(r))
    if (v !== undefined && !HANDLED.has(k)) throw unsupported(k, what);
  if (typeof r.tos === "string") throw unsupported(`tos name '${r.tos}'`, what);
  const { nl } = nlSocket();
  const rule = s.own(nl.rtnl_rule_alloc(), nl.rtnl_rule_put);
  if (!rule) throw new AgentError("E_INTERFACE", `${what}: out of memory`);
  nl.rtnl_rule_set_family(rule, familyFor(r, what));
  setSelectors(s, rule, r, what);
  setAction(rule, r, what, add);
  // keepalived tags tracked rules with its protocol, as it does routes.
  const proto = r.no_track ? r.protocol : RTPROT_KEEPALIVED;
  if (proto !== undefined) nlCheck(nl.rtnl_rule_set_protocol(rule, proto), `${what} protocol`);
  if (r.preference !== undefined) nl.rtnl_rule_set_prio(rule, r.preference);
  return rule;
}

function setSelectors(s: NlScope, rule: NlPtr, r: NetRule, what: string): void {
  const { nl } = nlSocket();
  const sel = (x: string | undefined, set: (p: NlPtr) => number, name: string) => {
    // all / any / default select everything: no attribute, as iproute2 sends.
    if (x === undefined || /^(all|any|default)$/.test(x)) return;
    const p = prefixOf(x, what);
    nlCheck(set(nlAddr(s, p.addr, p.len)), `${what} ${name}`);
  };
  sel(r.from, (p) => nl.rtnl_rule_set_src(rule, p), "from");
  sel(r.to, (p) => nl.rtnl_rule_set_dst(rule, p), "to");
  if (typeof r.tos === "number") nl.rtnl_rule_set_dsfield(rule, r.tos);
  if (r.fwmark !== undefined) nl.rtnl_rule_set_mark(rule, r.fwmark);
  if (r.fwmask !== undefined) nl.rtnl_rule_set_mask(rule, r.fwmask);
  const iif = r.iif === undefined ? undefined : new TextEncoder().encode(`${r.iif}\0`);
  if (iif) nlCheck(nl.rtnl_rule_set_iif(rule, iif), `${what} iif`);
  const oif = r.oif === undefined ? undefined : new TextEncoder().encode(`${r.oif}\0`);
  if (oif) nlCheck(nl.rtnl_rule_set_oif(rule, oif), `${what} oif`);
  if (r.ipproto !== undefined)
    nlCheck(nl.rtnl_rule_set_ipproto(rule, ipprotoNumber(r.ipproto, what)), `${what} ipproto`);
  if (r.sport) nlCheck(nl.rtnl_rule_set_sport_range(rule, r.sport[0], r.sport[1]), what);
  if (r.dport) nlCheck(nl.rtnl_rule_set_dport_range(rule, r.dport[0], r.dport[1]), what);
}

/**
 * The action. With none given, `ip rule add` looks up table main, and a delete matches any
 * action (the kernel treats action 0 as a wildcard in rule_find).
 */
function setAction(rule: NlPtr, r: NetRule, what: string, add: boolean): void {
  const { nl } = nlSocket();
  if (r.table !== undefined) nl.rtnl_rule_set_table(rule, tableNumber(r.table, what));
  if (r.type !== undefined) nl.rtnl_rule_set_action(rule, FR_ACT[r.type]);
  else if (r.goto !== undefined) {
    nl.rtnl_rule_set_action(rule, FR_ACT.GOTO);
    nl.rtnl_rule_set_goto(rule, r.goto);
  } else if (r.nop) nl.rtnl_rule_set_action(rule, FR_ACT.NOP);
  else if (r.l3mdev) {
    nl.rtnl_rule_set_action(rule, FR_ACT.TO_TBL);
    nl.rtnl_rule_set_l3mdev(rule, 1);
  } else if (r.table !== undefined) nl.rtnl_rule_set_action(rule, FR_ACT.TO_TBL);
  else if (add) {
    nl.rtnl_rule_set_action(rule, FR_ACT.TO_TBL);
    nl.rtnl_rule_set_table(rule, RT_TABLE_MAIN);
  }
}
