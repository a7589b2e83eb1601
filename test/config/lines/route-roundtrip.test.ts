import { describe, expect, test } from "bun:test";
import { SCOPES } from "../../../src/config/lines/address.ts";
import {
  type Encap,
  fromTokens,
  fromToml,
  type Nexthop,
  ROUTE_TYPES,
  type RouteLine,
  toLine,
} from "../../../src/config/lines/route.ts";
import { formatIp, formatPrefix, type IpFamily, maskHostBits } from "../../../src/core/net/ip.ts";
import { forCases, type Rng, SEED } from "./rand.ts";
import { errorsOf, fuzzLines, randomToml, toks } from "./util.ts";

/** Generated routes: every field, within the constraints a valid route must meet. */
function addr(r: Rng, f: IpFamily): string {
  return formatIp({ family: f, bytes: r.bytes(f === 4 ? 4 : 16) });
}

function prefix(r: Rng, f: IpFamily): string {
  const len = r.int(0, f === 4 ? 32 : 128);
  return formatPrefix(maskHostBits({ family: f, bytes: r.bytes(f === 4 ? 4 : 16), len }));
}

function genEncap(r: Rng): Encap {
  const t = r.pick(["mpls", "ip", "ip6", "ila"] as const);
  if (t === "mpls")
    return { type: t, labels: Array.from({ length: r.int(1, 2) }, () => r.int(0, 0xfffff)) };
  if (t === "ila")
    return { type: t, locator: [0, 1, 2, 3].map(() => r.int(0, 0xffff).toString(16)).join(":") };
  const f = t === "ip" ? 4 : 6;
  const e: Record<string, unknown> = { type: t };
  if (r.bool()) e.id = r.int(0, 2 ** 40);
  if (!("id" in e) || r.bool()) e.dst = addr(r, f);
  if (r.bool(0.3)) e.src = addr(r, f);
  if (r.bool(0.3)) e[t === "ip" ? "tos" : "tc"] = r.bool() ? r.int(0, 255) : "AF11";
  if (r.bool(0.3)) e[t === "ip" ? "ttl" : "hoplimit"] = r.int(0, 255);
  if (r.bool(0.3)) e.flags = r.int(0, 65535);
  return e as unknown as Encap;
}

function genNexthop(r: Rng, f: IpFamily): Nexthop {
  const nh: Record<string, unknown> = {};
  if (r.bool(0.8)) nh.via = addr(r, f);
  if (r.bool(0.5)) nh.dev = r.pick(["eth0", "wlan0"]);
  if (r.bool(0.3)) nh.weight = r.int(1, 256);
  if (r.bool(0.2)) nh.onlink = true;
  if (f === 4 && r.bool(0.2)) nh.realms = r.pick(["1", "2/3", "lan/wan"]);
  if (r.bool(0.2)) nh.encap = genEncap(r);
  return nh as Nexthop;
}

const NUMERIC: readonly [string, number, number][] = [
  ["metric", 0, 0xffffffff],
  ["mtu", 0, 0xffffffff],
  ["hoplimit", 0, 255],
  ["advmss", 0, 0xffffffff],
  ["rtt", 1600, 960000],
  ["rttvar", 800, 480000],
  ["reordering", 0, 0xffffffff],
  ["window", 0, 0xffffffff],
  ["cwnd", 0, 0xffffffff],
  ["ssthresh", 0, 0xffffffff],
  ["rto_min", 200, 120000],
  ["initcwnd", 0, 0xffffffff],
  ["initrwnd", 0, 0xffffffff],
  ["quickack", 0, 1],
  ["fastopen_no_cookie", 0, 1],
];
const LOCKABLE = [
  "mtu",
  "advmss",
  "rtt",
  "rttvar",
  "reordering",
  "cwnd",
  "ssthresh",
  "rto_min",
  "congctl",
];

function genRoute(r: Rng): RouteLine {
  const f: IpFamily = r.bool(0.4) ? 6 : 4;
  const o: Record<string, unknown> = { to: prefix(r, f) };
  const maybe = (p: number, k: string, v: () => unknown) => {
    if (r.bool(p)) o[k] = v();
  };
  maybe(0.3, "type", () => (r.bool() ? r.pick(ROUTE_TYPES) : r.int(0, 255)));
  maybe(0.2, "family", () => (f === 4 ? "inet" : "inet6"));
  maybe(0.3, "src", () => addr(r, f));
  if (f === 6) maybe(0.2, "from", () => prefix(r, 6));
  maybe(0.4, "via", () => addr(r, f));
  maybe(0.5, "dev", () => r.pick(["eth0", "bond0.10", "p33p1.2"]));
  maybe(0.3, "table", () => (r.bool() ? r.int(0, 0xffffffff) : r.pick(["main", "local", "small"])));
  maybe(0.2, "scope", () => (r.bool() ? r.pick(SCOPES) : r.int(0, 255)));
  maybe(0.2, "protocol", () => (r.bool() ? r.int(0, 255) : r.pick(["bird", "keepalived"])));
  maybe(0.2, "tos", () => (r.bool() ? r.int(0, 255) : "CS1"));
  for (const [k, lo, hi] of NUMERIC) maybe(0.12, k, () => r.int(lo, hi));
  if (f === 6) maybe(0.2, "expires", () => r.int(0, 0xffffffff));
  if (f === 6)
    maybe(0.2, "pref", () => (r.bool() ? r.pick(["low", "medium", "high"]) : r.int(0, 255)));
  if (f === 4) maybe(0.2, "realms", () => r.pick(["1", "2/3", "lan/0x14"]));
  maybe(0.1, "features", () => "ecn");
  maybe(0.1, "congctl", () => r.pick(["cubic", "bbr"]));
  maybe(0.1, "ttl-propagate", () => r.pick(["enabled", "disabled"]));
  maybe(0.1, "vrf", () => "blue");
  maybe(0.2, "mode", () => r.pick(["add", "append", "prepend"]));
  for (const flag of ["onlink", "no_track"]) maybe(0.2, flag, () => true);
  for (const k of LOCKABLE) if (k in o) maybe(0.3, `${k}_lock`, () => true);
  if ("dev" in o) maybe(0.2, "track_group", () => "G1");
  maybe(0.2, "encap", () => genEncap(r));
  maybe(0.3, "nexthop", () => Array.from({ length: r.int(1, 3) }, () => genNexthop(r, f)));
  return o as unknown as RouteLine;
}

describe("route round trips", () => {
  test(`fromTokens(toLine(x)) = x and fromToml(x) = x (seed ${SEED})`, () => {
    forCases(SEED, 3000, (r) => {
      const x = genRoute(r);
      const back = fromTokens(toks(toLine(x)));
      expect(errorsOf(back)).toEqual([]);
      expect(back.value).toEqual(x);
      expect(fromToml(x).value).toEqual(x);
    });
  });

  const VOCAB = [
    "src",
    "to",
    "via",
    "gw",
    "or",
    "from",
    "dev",
    "oif",
    "table",
    "metric",
    "priority",
    "preference",
    "scope",
    "protocol",
    "tos",
    "dsfield",
    "onlink",
    "expires",
    "mtu",
    "hoplimit",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "window",
    "cwnd",
    "ssthresh",
    "realms",
    "rto_min",
    "initcwnd",
    "initrwnd",
    "features",
    "quickack",
    "congctl",
    "pref",
    "ttl-propagate",
    "fastopen_no_cookie",
    "add",
    "append",
    "prepend",
    "nexthop",
    "weight",
    "no_track",
    "track_group",
    "vrf",
    "encap",
    "as",
    "blackhole",
    "unreachable",
    "brd",
    "default",
    "default6",
    "tc",
    "ttl",
    "flags",
  ];

  test(`fuzz: 20k token sequences only produce issues (seed ${SEED})`, () => {
    const accepted = fuzzLines(SEED, 20000, VOCAB, (t) => fromTokens(t), toLine);
    expect(accepted).toBeGreaterThan(50);
  });

  test(`fuzz: random TOML values only produce issues (seed ${SEED})`, () => {
    forCases(SEED, 5000, (r) => {
      const res = fromToml(
        randomToml(r, [...VOCAB, "type", "mode", "family", "labels", "locator", "mtu_lock"]),
      );
      if (res.value) expect(fromTokens(toks(toLine(res.value))).value).toEqual(res.value);
    });
  });
});
