/**
 * virtual_routes / static_routes lines (keepalived.conf(5) "Static routes"; ip-route(8)
 * without abbreviations; keepalived/vrrp/vrrp_iproute.c alloc_route). keepalived drops a
 * route on any error, so every problem here is an error except deprecated words and the
 * protocol override, which keepalived applies and reports.
 */
import { formatIp, hostBitsSet, type IpFamily, parsePrefix } from "../../core/net/ip.ts";
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import {
  type At,
  error,
  familyOf,
  familyWord,
  finish,
  isPlainObject,
  parseAddr,
  type Result,
  warn,
} from "./common.ts";
import { checkLocks, formatOptions, type Model, readOption, readTomlField } from "./opts.ts";
import {
  ROUTE_OPTS,
  ROUTE_TYPES,
  type RouteKind,
  type RouteLine,
  RTPROT_KEEPALIVED,
  routeType,
} from "./route-model.ts";
import {
  encapFromToml,
  formatEncap,
  formatNexthop,
  type Nexthop,
  nexthopFromToml,
  readAs,
  readEncap,
  readNexthops,
  readVia,
} from "./route-parts.ts";
import { splitWords } from "./words.ts";

export { ROUTE_TYPES, type RouteKind, type RouteLine, type RouteType } from "./route-model.ts";
export type { Encap, Nexthop } from "./route-parts.ts";

/** A destination: a prefix, or default/any/all (family decided by the rest of the line). */
type Dest = { prefix: string; family: IpFamily } | { prefix: undefined; family?: IpFamily };

function parseDest(text: string, issues: Issue[], at: At): Dest | undefined {
  if (text === "default" || text === "any" || text === "all") return { prefix: undefined };
  if (text === "default6") {
    warn(issues, at, "deprecated", "'default6' is deprecated; write 'inet6 default'");
    return { prefix: undefined, family: 6 };
  }
  const p = parsePrefix(text);
  if (p.ok) return { prefix: `${formatIp(p.prefix)}/${p.prefix.len}`, family: p.prefix.family };
  // keepalived takes any word it does not know as the destination.
  if (/^[0-9a-fA-F.:/]+$/.test(text)) error(issues, at, p.code, p.message);
  else error(issues, at, "unknown-option", `unknown route option '${text}'`);
  return undefined;
}

interface State {
  out: Model;
  dest?: Dest;
  destAt: At;
  /** A destination was written (maybe invalid), so "missing" would be a second report. */
  destTried: boolean;
  usedOr: boolean;
}

/** The destination, maybe after `to` or a type word, at toks[i]; returns the next index. */
function readDest(toks: readonly Tok[], i: number, st: State, issues: Issue[]): number {
  const w = toks[i]!.text;
  let j = i;
  st.destTried = true;
  // keepalived takes a type word only without `to` (after `to` it reads the destination).
  const type = w === "to" ? undefined : routeType(w);
  if (w === "to" || type !== undefined) j++;
  if (type !== undefined) {
    if ("type" in st.out) error(issues, i, "duplicate-option", "a second route type");
    st.out.type = type;
  }
  const t = toks[j];
  if (!t) {
    error(issues, i, "missing-argument", `'${w}' needs a destination`);
    return j;
  }
  if (st.dest !== undefined) error(issues, j, "duplicate-option", "a second destination");
  const d = parseDest(t.text, issues, j);
  if (d) {
    st.dest = d;
    st.destAt = j;
  }
  return j + 1;
}

/** `or ADDR`: the old way to give a second gateway; becomes two nexthops. */
function readOr(toks: readonly Tok[], i: number, st: State, issues: Issue[]): number {
  warn(issues, i, "deprecated", "'or' is deprecated; write nexthops");
  if (st.usedOr) error(issues, i, "duplicate-option", "a second 'or'");
  else if (typeof st.out.via !== "string")
    error(issues, i, "or-without-via", "'or' needs a 'via' before it");
  const t = toks[i + 1];
  if (!t) {
    error(issues, i, "missing-argument", "'or' needs an address");
    return i + 1;
  }
  const a = parseAddr(t.text);
  if (!a.ok) error(issues, i + 1, a.code, a.message);
  else if (!st.usedOr && typeof st.out.via === "string") {
    st.out.nexthop = [{ via: st.out.via }, { via: a.value.text }];
    delete st.out.via;
  }
  st.usedOr = true;
  return i + 2;
}

/** One step of the option loop at toks[i]; returns the next index (toks.length to stop). */
function step(
  toks: readonly Tok[],
  i: number,
  st: State,
  issues: Issue[],
  kind: RouteKind,
): number {
  const w = toks[i]!.text;
  const out = st.out;
  if (w === "inet" || w === "inet6") {
    if (out.family !== undefined && out.family !== w)
      error(issues, i, "family-mismatch", "both inet and inet6");
    out.family = w;
    return i + 1;
  }
  if (w === "via" || w === "gw") {
    if (w === "gw") warn(issues, i, "deprecated", "'gw' is deprecated; write 'via'");
    if ("via" in out || st.usedOr) error(issues, i, "duplicate-option", "a second gateway");
    const [via, j] = readVia(toks, i, issues);
    if (via !== undefined) out.via = via;
    return j;
  }
  if (w === "or") return readOr(toks, i, st, issues);
  if (w === "as") return readAs(toks, i, issues);
  if (w === "add" || w === "append" || w === "prepend") {
    if ("mode" in out) error(issues, i, "duplicate-option", "a second add/append/prepend");
    out.mode = w;
    return i + 1;
  }
  if (w === "encap") {
    if ("encap" in out) error(issues, i, "duplicate-option", "a second encap");
    const [e, j] = readEncap(toks, i, issues);
    if (e) out.encap = e;
    return j;
  }
  if (w === "nexthop") {
    if (st.usedOr) error(issues, i, "conflicting-options", "nexthop cannot follow 'or'");
    const [list, j] = readNexthops(toks, i, issues);
    if (!st.usedOr) out.nexthop = list;
    // keepalived reads nexthops to the end of the line; anything else there is an error.
    if (j < toks.length)
      error(issues, j, "trailing-argument", `'${toks[j]!.text}' after the nexthops`);
    return toks.length;
  }
  const spec = ROUTE_OPTS.byWord.get(w);
  if (spec && !(spec.key === "track_group" && kind === "virtual"))
    return readOption(spec, toks, i, out, issues);
  return readDest(toks, i, st, issues);
}

export function fromTokens(toks: readonly Tok[], kind?: RouteKind): Result<RouteLine> {
  const issues: Issue[] = [];
  const st: State = { out: {}, destAt: 0, destTried: false, usedOr: false };
  let i = 0;
  while (i < toks.length) i = step(toks, i, st, issues, kind);
  const where = (key: string, n?: number): At => tokenIndex(toks, key, n, st.destAt);
  check(st.out, st.dest, st.destTried, issues, where);
  return finish(st.out as unknown as RouteLine, issues);
}

const WORDS_OF: Record<string, readonly string[]> = {
  via: ["via", "gw"],
  family: ["inet", "inet6"],
  nexthop: ["nexthop"],
};

function tokenIndex(toks: readonly Tok[], key: string, n: number | undefined, destAt: At): At {
  if (key === "to") return destAt;
  const words = WORDS_OF[key] ?? ROUTE_OPTS.byKey.get(key)?.words ?? [];
  let seen = 0;
  const i = toks.findIndex((t) => words.includes(t.text) && (n === undefined || seen++ === n));
  return Math.max(i, 0);
}

/** Whole-line checks; `where(key, nexthopIndex?)` locates a field. */
function check(
  out: Model,
  dest: Dest | undefined,
  destTried: boolean,
  issues: Issue[],
  where: (key: string, n?: number) => At,
): void {
  if (!destTried) error(issues, 0, "missing-destination", "a route needs a destination");
  const family = routeFamily(out, dest, issues, where);
  if (dest) {
    out.to = dest.prefix ?? (family === 6 ? "::/0" : "0.0.0.0/0");
    const p = parsePrefix(out.to as string);
    if (p.ok && hostBitsSet(p.prefix)) {
      // The kernel refuses an IPv4 route with host bits set; IPv6 clears them silently.
      const msg = `destination ${out.to} has bits set after the prefix length`;
      if (family === 4) error(issues, where("to"), "host-bits-set", msg);
      else warn(issues, where("to"), "host-bits-set", msg);
    }
  }
  const proto = out.protocol;
  if (
    (typeof proto === "number" || typeof proto === "string") &&
    out.no_track !== true &&
    out.protocol !== RTPROT_KEEPALIVED &&
    out.protocol !== "keepalived"
  ) {
    warn(
      issues,
      where("protocol"),
      "protocol-overridden",
      "a tracked route gets protocol keepalived (18); add no_track to keep this one",
    );
  }
  if ("track_group" in out && !("dev" in out)) {
    error(issues, where("track_group"), "track-group-needs-dev", "track_group needs dev");
  }
}

/** The family every address and family-specific option agrees on (IPv4 if nothing says). */
function routeFamily(
  out: Model,
  dest: Dest | undefined,
  issues: Issue[],
  where: (key: string, n?: number) => At,
): IpFamily {
  const notes: { family: IpFamily; at: At; what: string }[] = [];
  const note = (family: IpFamily | undefined, at: At, what: string) =>
    family && notes.push({ family, at, what });
  note(
    out.family === undefined ? undefined : out.family === "inet" ? 4 : 6,
    where("family"),
    String(out.family),
  );
  note(dest?.family, where("to"), "the destination");
  for (const k of ["src", "via", "from"])
    if (typeof out[k] === "string") note(familyOf(out[k] as string), where(k), k);
  const hops = (out.nexthop ?? []) as Nexthop[];
  hops.forEach((h, n) => {
    note(
      h.via === undefined ? undefined : familyOf(h.via),
      where("nexthop", n),
      "a nexthop gateway",
    );
    if (h.realms !== undefined) note(4, where("nexthop", n), "nexthop realms");
  });
  if ("realms" in out) note(4, where("realms"), "realms");
  for (const k of ["expires", "pref"]) if (k in out) note(6, where(k), k);
  const first = notes[0];
  for (const n of notes) {
    if (first && n.family !== first.family) {
      const f = familyWord(first.family);
      error(
        issues,
        n.at,
        "family-mismatch",
        `${n.what} is not ${f}, as ${first.what} makes the route`,
      );
    }
  }
  return first?.family ?? 4;
}

/** A string as keepalived writes the line, or a table with RouteLine's fields. */
export function fromToml(v: unknown, kind?: RouteKind): Result<RouteLine> {
  if (typeof v === "string") {
    const w = splitWords(v);
    return w.issues.length > 0 ? { issues: w.issues } : fromTokens(w.toks, kind);
  }
  if (!isPlainObject(v))
    return { issues: [{ code: "bad-type", message: "a route must be a string or a table" }] };
  const issues: Issue[] = [];
  const out: Model = {};
  let dest: Dest | undefined;
  for (const [k, x] of Object.entries(v)) {
    const at = [k];
    if (k === "to") {
      if (typeof x === "string") dest = parseDest(x, issues, at);
      else error(issues, at, "bad-type", "to must be a string");
    } else if (k === "nexthop") {
      if (!Array.isArray(x)) error(issues, at, "bad-type", "nexthop must be an array of tables");
      else
        out.nexthop = x
          .map((h, n) => nexthopFromToml(h, issues, [k, n]))
          .filter((h) => h !== undefined);
    } else if (k === "encap") {
      const e = encapFromToml(x, issues, at);
      if (e) out.encap = e;
    } else if (k === "via") {
      const a = typeof x === "string" ? parseAddr(x) : undefined;
      if (!a) error(issues, at, "bad-type", "via must be a string");
      else if (!a.ok) error(issues, at, a.code, a.message);
      else out.via = a.value.text;
    } else if (k === "type" || k === "mode" || k === "family") {
      special(k, x, out, issues);
    } else if (
      (k === "track_group" && kind === "virtual") ||
      !readTomlField(ROUTE_OPTS, k, x, out, issues, [])
    ) {
      error(issues, at, "unknown-field", `unknown route field '${k}'`);
    }
  }
  if (!("to" in v)) error(issues, ["to"], "missing-field", "to is required");
  checkLocks(ROUTE_OPTS, out, issues, []);
  check(out, dest, "to" in v, issues, (key, n) => (n === undefined ? [key] : [key, n]));
  if (!dest) return { issues };
  return finish(out as unknown as RouteLine, issues);
}

function special(k: "type" | "mode" | "family", x: unknown, out: Model, issues: Issue[]): void {
  const words: Record<typeof k, readonly string[]> = {
    type: ROUTE_TYPES,
    mode: ["add", "append", "prepend"],
    family: ["inet", "inet6"],
  };
  const t =
    k === "type" && typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 255
      ? x
      : undefined;
  if (t !== undefined) out.type = t;
  else if (typeof x === "string" && words[k].includes(x)) out[k] = x;
  else
    error(
      issues,
      [k],
      "bad-value",
      `${k} must be one of ${words[k].join(", ")}${k === "type" ? " or 0-255" : ""}`,
    );
}

/** The keepalived line; fromTokens(splitWords(toLine(x)).toks) deep-equals x. */
export function toLine(r: RouteLine): string {
  const words: string[] = [];
  if (r.family !== undefined) words.push(r.family);
  if (r.type !== undefined) words.push(String(r.type));
  words.push(r.to);
  if (r.via !== undefined) words.push("via", r.via);
  if (r.mode !== undefined) words.push(r.mode);
  words.push(...formatOptions(ROUTE_OPTS, r as unknown as Model));
  // encap ip/ip6 reads KEY VALUE pairs greedily, so it goes after every other option.
  if (r.encap) words.push(...formatEncap(r.encap));
  for (const nh of r.nexthop ?? []) words.push(...formatNexthop(nh));
  return words.join(" ");
}
