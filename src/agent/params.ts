/**
 * Decode once, at the boundary: each configured vrrp_instance becomes what the core needs
 * (InstanceParams, the receive-check parameters) and what the effects need (interface,
 * addresses to send to, VIPs, routes, rules, scripts). Interface facts come from a resolver
 * so this stays pure and testable.
 */
import type { AddressLine } from "../config/lines/address.ts";
import type { RouteLine } from "../config/lines/route-model.ts";
import type { RuleLine } from "../config/lines/rule-model.ts";
import type { ScriptCommand } from "../config/lines/shell.ts";
import type { InstanceModel, Model } from "../config/model.ts";
import { instanceFamily } from "../config/validate.ts";
import { formatIp, type IpAddr, parseIp } from "../core/net/ip.ts";
import { passwordAuthData } from "../core/vrrp/advert.ts";
import type { ReceivingInstance } from "../core/vrrp/receive-check.ts";
import type { InstanceParams } from "../core/vrrp/types.ts";
import { AgentError } from "../errors.ts";

export interface InterfaceResolver {
  /** Whether the interface exists now (keepalived refuses a missing one without dynamic_interfaces). */
  interfaceExists?(ifname: string): boolean;
  /** The interface's primary IPv4 address, or its IPv6 link-local one (keepalived's default source). */
  primaryAddress(ifname: string, family: 4 | 6): IpAddr | undefined;
}

/** keepalived's use_vmac (reference §2.12): a macvlan carrying the virtual MAC. */
export interface VmacPlan {
  readonly name: string;
  readonly family: 4 | 6;
  readonly mac: string;
  readonly parent: string;
  /** vmac_xmit_base: adverts on the parent, only the VIPs on the VMAC. */
  readonly xmitBase: boolean;
}

export interface InstancePlan {
  readonly name: string;
  /** The interface adverts go out on (the VMAC unless vmac_xmit_base). */
  readonly ifname: string;
  /** Where the VIPs go by default (the VMAC when there is one). */
  readonly vipDev: string;
  /** Interfaces whose loss means FAULT: the configured one, and the VMAC. */
  readonly tracked: readonly string[];
  readonly vmac?: VmacPlan;
  readonly family: 4 | 6;
  readonly params: InstanceParams;
  readonly rx: Omit<ReceivingInstance, "priority" | "lastMasterSrc">;
  readonly unicast: boolean;
  /** Where adverts go: the peers, or the multicast group. */
  readonly destinations: readonly IpAddr[];
  readonly group: IpAddr;
  readonly source: IpAddr;
  readonly ttl: number;
  readonly vipAddrs: readonly IpAddr[];
  readonly vips: readonly AddressLine[];
  readonly evips: readonly AddressLine[];
  readonly routes: readonly RouteLine[];
  readonly rules: readonly RuleLine[];
  readonly authType: 0 | 1;
  readonly authData?: Uint8Array;
  readonly notify: Readonly<Record<string, ScriptCommand | undefined>>;
  readonly syncGroup?: string;
}

const ip = (s: string): IpAddr => {
  const a = parseIp(s.split("/")[0] ?? s);
  if (!a) throw new AgentError("E_CONFIG_INVALID", `not an address: ${s}`, s);
  return a;
};

export function planInstances(m: Model, resolve: InterfaceResolver): InstancePlan[] {
  const groupOf = new Map<string, string>();
  for (const [g, sg] of Object.entries(m.vrrp_sync_group ?? {}))
    for (const name of sg.group ?? []) groupOf.set(name, g);
  return Object.entries(m.vrrp_instance).map(([name, i]) =>
    planInstance(name, i as InstanceModel, m, resolve, groupOf.get(name)),
  );
}

function vmacOf(i: InstanceModel, m: Model, family: 4 | 6, parent: string): VmacPlan | undefined {
  const v = i.use_vmac;
  if (!v) return undefined;
  const vrid = i.virtual_router_id ?? 0;
  const hex = vrid.toString(16).padStart(2, "0");
  // A MAC given with five octets gets the VRID appended (keepalived.conf(5) use_vmac).
  const mac = v.mac
    ? v.mac.split(":").length === 5
      ? `${v.mac}:${hex}`
      : v.mac
    : `00:00:5e:00:0${family === 4 ? 1 : 2}:${hex}`;
  return {
    name: v.interface ?? `${m.global_defs.vmac_prefix}.${vrid}`,
    mac,
    family,
    parent,
    xmitBase: i.vmac_xmit_base ?? false,
  };
}

function planInstance(
  name: string,
  i: InstanceModel,
  m: Model,
  resolve: InterfaceResolver,
  syncGroup: string | undefined,
): InstancePlan {
  const family = instanceFamily(i);
  const ifname = i.interface;
  if (!ifname)
    throw new AgentError(
      "E_CONFIG_INVALID",
      `${name}: an interface is needed (routed unicast without one is not supported yet)`,
      name,
    );
  if (i.authentication?.auth_type === "AH")
    throw new AgentError(
      "E_CONFIG_INVALID",
      `${name}: AH authentication is not supported; use PASS or none`,
      name,
    );
  const g = m.global_defs;
  if (resolve.interfaceExists && !resolve.interfaceExists(ifname))
    throw new AgentError("E_INTERFACE", `${name}: interface ${ifname} does not exist`, ifname);
  const vmac = vmacOf(i, m, family, ifname);
  const configured = i.unicast_src_ip ?? i.mcast_src_ip;
  // A VMAC has no address of its own: adverts leave with the parent's (keepalived does so).
  const source = configured ? ip(configured) : resolve.primaryAddress(ifname, family);
  if (!source)
    throw new AgentError(
      "E_INTERFACE",
      `${name}: interface ${ifname} has no ${family === 4 ? "IPv4" : "IPv6 link-local"} address to send adverts from`,
      ifname,
    );
  const peers = (i.unicast_peer ?? []).map((p) => ({
    address: ip(p.address),
    ...(p.min_ttl === undefined ? {} : { minTtl: p.min_ttl }),
    ...(p.max_ttl === undefined ? {} : { maxTtl: p.max_ttl }),
  }));
  const unicast = peers.length > 0;
  const group = ip(i.mcast_dst_ip ?? (family === 4 ? g.vrrp_mcast_group4 : g.vrrp_mcast_group6));
  const advertIntervalCs = Math.round(i.advert_int * 100);
  const authType = i.authentication?.auth_type === "PASS" ? 1 : 0;
  const authData = authType === 1 ? passwordAuthData(i.authentication?.auth_pass ?? "") : undefined;
  const vipAddrs = i.virtual_ipaddress.map((v) => ip(v.address));
  const params: InstanceParams = {
    name,
    vrid: i.virtual_router_id ?? 0,
    version: i.version as 2 | 3,
    family,
    basePriority: i.priority,
    advertIntervalCs,
    wantMaster: i.state === "MASTER",
    nopreempt: i.nopreempt ?? false,
    preemptDelayMs: i.preempt_delay * 1000,
    downTimerAdverts: i.down_timer_adverts,
    lowerPrioNoAdvert: i.lower_prio_no_advert,
    higherPrioSendAdvert: i.higher_prio_send_advert,
    localAddress: source,
    garp: {
      masterDelayMs: i.garp_master_delay * 1000,
      masterRepeat: i.garp_master_repeat,
      masterRefreshMs: i.garp_master_refresh * 1000,
      masterRefreshRepeat: i.garp_master_refresh_repeat,
      lowerPrioDelayMs: i.garp_lower_prio_delay * 1000,
      lowerPrioRepeat: i.garp_lower_prio_repeat,
    },
    ...(syncGroup ? { inSyncGroup: true } : {}),
  };
  const checkUnicastSrc =
    (g.vrrp_check_unicast_src ?? false) ||
    (i.check_unicast_src ?? false) ||
    peers.some((p) => "minTtl" in p || "maxTtl" in p);
  const rx: InstancePlan["rx"] = {
    version: params.version,
    family,
    vrid: params.vrid,
    authType,
    ...(authData ? { authData } : {}),
    ...(params.version === 2 ? { advertIntervalS: advertIntervalCs / 100 } : { advertIntervalCs }),
    unicast,
    peers,
    checkUnicastSrc,
    vips: vipAddrs.map(formatIp),
    skipCheckAdvAddr: i.skip_check_adv_addr,
    ownerIgnoreAdverts: i.owner_ignore_adverts,
    checksumAsV2: i.v3_checksum_as_v2,
  };
  const sendOn = vmac && !vmac.xmitBase ? vmac.name : ifname;
  return {
    name,
    ifname: sendOn,
    vipDev: vmac ? vmac.name : ifname,
    tracked: vmac ? [ifname, vmac.name] : [ifname],
    ...(vmac ? { vmac } : {}),
    family,
    params,
    rx,
    unicast,
    destinations: unicast ? peers.map((p) => p.address) : [group],
    group,
    source,
    ttl: i.unicast_ttl ?? 255,
    vipAddrs,
    vips: i.virtual_ipaddress as readonly AddressLine[],
    evips: (i.virtual_ipaddress_excluded ?? []) as readonly AddressLine[],
    routes: (i.virtual_routes ?? []) as readonly RouteLine[],
    rules: (i.virtual_rules ?? []) as readonly RuleLine[],
    authType,
    ...(authData ? { authData } : {}),
    notify: {
      MASTER: i.notify_master as ScriptCommand | undefined,
      BACKUP: i.notify_backup as ScriptCommand | undefined,
      FAULT: i.notify_fault as ScriptCommand | undefined,
      STOP: i.notify_stop as ScriptCommand | undefined,
      generic: i.notify as ScriptCommand | undefined,
    },
    ...(syncGroup ? { syncGroup } : {}),
  };
}
