/**
 * Names the config model leaves unresolved ("resolved by the address manager at run time"):
 * routing tables and protocols from iproute2's rt_tables / rt_protos (plus their .d
 * directories), IP protocols from /etc/protocols, scopes and route types from their fixed
 * tables. Files are read once, on first use, as keepalived's lib/rttables.c does.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { AgentError } from "../errors.ts";

/** Where iproute2 (and so keepalived) looks, in its order: /etc overrides the vendor copy. */
const IPROUTE2_DIRS = ["/etc/iproute2", "/usr/share/iproute2", "/usr/lib/iproute2"];

const TABLE_DEFAULTS: Readonly<Record<string, number>> = {
  unspec: 0,
  default: 253,
  main: 254,
  local: 255,
};

/** iproute2 lib/rt_names.c rtnl_rtprot_tab, which rt_protos may extend. */
const PROTO_DEFAULTS: Readonly<Record<string, number>> = {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  openr: 99,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
};

/** What /etc/protocols says on every distribution, if the file is missing (containers). */
const IPPROTO_DEFAULTS: Readonly<Record<string, number>> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  "ipv6-icmp": 58,
  sctp: 132,
};

export const SCOPES: Readonly<Record<string, number>> = {
  global: 0,
  site: 200,
  link: 253,
  host: 254,
  nowhere: 255,
};

/** rtnetlink RTN_* route types (uapi linux/rtnetlink.h). */
export const ROUTE_TYPES: Readonly<Record<string, number>> = {
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
  nat: 10,
  xresolve: 11,
};

/** "NUMBER NAME" lines (iproute2 format; '#' comments; numbers decimal or 0x hex). */
function readNumberNames(path: string, into: Map<string, number>): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return; // an unreadable optional file is the same as a missing one to iproute2
  }
  for (const line of text.split("\n")) {
    const [num, name] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (!num || !name) continue;
    const n = /^0x[0-9a-f]+$/i.test(num) ? Number.parseInt(num, 16) : Number(num);
    if (Number.isInteger(n) && n >= 0 && !into.has(name)) into.set(name, n);
  }
}

function loadIproute2(file: string, defaults: Readonly<Record<string, number>>) {
  const m = new Map<string, number>();
  for (const dir of IPROUTE2_DIRS) {
    readNumberNames(`${dir}/${file}`, m);
    const d = `${dir}/${file}.d`;
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) if (f.endsWith(".conf")) readNumberNames(`${d}/${f}`, m);
  }
  for (const [k, v] of Object.entries(defaults)) if (!m.has(k)) m.set(k, v);
  return m;
}

function loadProtocols(): Map<string, number> {
  const m = new Map<string, number>();
  try {
    for (const line of readFileSync("/etc/protocols", "utf8").split("\n")) {
      const [name, num, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
      if (!name || !num || !/^[0-9]+$/.test(num)) continue;
      for (const n of [name, ...aliases]) if (!m.has(n)) m.set(n, Number(num));
    }
  } catch {
    // no /etc/protocols: the defaults below cover what rules use in practice
  }
  for (const [k, v] of Object.entries(IPPROTO_DEFAULTS)) if (!m.has(k)) m.set(k, v);
  return m;
}

let tables: Map<string, number> | undefined;
let protos: Map<string, number> | undefined;
let ipprotos: Map<string, number> | undefined;

function resolve(
  v: number | string,
  map: () => Map<string, number>,
  kind: string,
  what: string,
): number {
  if (typeof v === "number") return v;
  const n = map().get(v);
  if (n === undefined)
    throw new AgentError("E_CONFIG_INVALID", `${what}: unknown ${kind} name '${v}'`, v);
  return n;
}

export function tableNumber(v: number | string, what: string): number {
  return resolve(v, () => (tables ??= loadIproute2("rt_tables", TABLE_DEFAULTS)), "table", what);
}

export function protocolNumber(v: number | string, what: string): number {
  return resolve(v, () => (protos ??= loadIproute2("rt_protos", PROTO_DEFAULTS)), "protocol", what);
}

export function ipprotoNumber(v: number | string, what: string): number {
  return resolve(v, () => (ipprotos ??= loadProtocols()), "IP protocol", what);
}

export function scopeNumber(v: number | string, what: string): number {
  return resolve(v, () => new Map(Object.entries(SCOPES)), "scope", what);
}

export function routeTypeNumber(v: number | string, what: string): number {
  return resolve(v, () => new Map(Object.entries(ROUTE_TYPES)), "route type", what);
}
