/**
 * Normalize the IPVS part: scheduler/method/protocol defaults with keepalived's warnings,
 * and the inheritance of timing keywords virtual server → real server → checker (§1.12–1.14).
 */
import { CHECKER_DEFAULTS, RS_SMTP_ALERT, VS_DEFAULTS } from "./defaults.ts";
import type { GlobalModel } from "./model.ts";
import { copy, type NormCx } from "./normalize.ts";
import type { Path } from "./path.ts";
import { checkers } from "./schema/checkers.ts";

type Obj = Record<string, unknown>;
const TIMING = ["connect_timeout", "retry", "delay_before_retry", "warmup", "delay_loop"] as const;
export const CHECKER_TYPES = Object.keys(checkers) as (keyof typeof checkers)[];

export function normalizeIpvs(doc: Obj, g: GlobalModel, cx: NormCx): void {
  const list = (doc.virtual_server ?? []) as Obj[];
  for (const [i, vs] of list.entries()) normVs(vs, g, ["virtual_server", i], cx);
}

export function vsName(vs: Obj): string {
  if (vs.fwmark !== undefined) return `FWM ${vs.fwmark}`;
  if (vs.group !== undefined) return `group ${vs.group}`;
  const ip = String(vs.ip);
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return vs.port === undefined ? host : `${host}:${vs.port}`;
}

function defaulted(
  vs: Obj,
  key: keyof typeof VS_DEFAULTS,
  path: Path,
  cx: NormCx,
  msg: string,
): void {
  if (vs[key] !== undefined) return;
  vs[key] = copy(VS_DEFAULTS[key]);
  cx.diags.warn(
    cx.locs.nearest(path),
    `default-${key.replace(/_/g, "-")}`,
    `virtual_server ${vsName(vs)}: ${msg}`,
  );
}

function normVs(vs: Obj, g: GlobalModel, path: Path, cx: NormCx): void {
  defaulted(vs, "lvs_sched", path, cx, "no lvs_sched set - using 'wlc'");
  defaulted(vs, "lvs_method", path, cx, "no lvs_method set - using NAT");
  if (vs.fwmark === undefined)
    defaulted(vs, "protocol", path, cx, "no protocol set - defaulting to UDP");
  else if (vs.protocol !== undefined) {
    cx.diags.warn(
      cx.locs.nearest([...path, "protocol"]),
      "protocol-ignored",
      `virtual_server ${vsName(vs)}: protocol is ignored for a fwmark service`,
    );
  }
  for (const k of ["delay_loop", "connect_timeout", "weight", "quorum", "hysteresis"] as const) {
    if (vs[k] === undefined) vs[k] = VS_DEFAULTS[k];
  }
  const pt = vs.persistence_timeout as { timeout?: number } | undefined;
  if (pt && pt.timeout === undefined) pt.timeout = VS_DEFAULTS.persistence_timeout;
  // A port-0 service is persistent by nature (keepalived forces 360 s, reference §1.12).
  if (vs.port === 0 && !pt) vs.persistence_timeout = { timeout: VS_DEFAULTS.persistence_timeout };
  const rsList = (vs.real_server ?? []) as Obj[];
  vs.real_server = rsList;
  // What this virtual server sets, looked up once for all its real servers.
  const inherited = RS_INHERITS.filter((k) => vs[k] !== undefined);
  for (const rs of rsList) normRs(rs, vs, g, inherited);
}

/** What a real server inherits from its virtual server (reference §1.13). */
const RS_INHERITS = [
  "weight",
  "lvs_method",
  "inhibit_on_failure",
  "alpha",
  "virtualhost",
  ...TIMING,
] as const;

// Indexed loops: this runs for each of tens of thousands of real servers, mostly before
// the JIT has compiled it, when a for-of over an array still walks the iterator protocol.
function normRs(rs: Obj, vs: Obj, g: GlobalModel, inherited: readonly string[]): void {
  for (let i = 0; i < inherited.length; i++) {
    const k = inherited[i] as string;
    if (rs[k] === undefined) rs[k] = copy(vs[k]);
  }
  if (rs.smtp_alert === undefined)
    rs.smtp_alert = g.smtp_alert_checker ?? g.smtp_alert ?? RS_SMTP_ALERT;
  for (let i = 0; i < CHECKER_TYPES.length; i++) {
    const type = CHECKER_TYPES[i] as string;
    const list = rs[type] as Obj[] | undefined;
    if (list) for (const c of list) normChecker(type, c, rs);
  }
}

const CHECKER_INHERITS = [
  "delay_loop",
  "connect_timeout",
  "retry",
  "delay_before_retry",
  "warmup",
  "alpha",
] as const;

function normChecker(type: string, c: Obj, rs: Obj): void {
  const byType = CHECKER_DEFAULTS.byType[type] ?? {};
  for (const k of CHECKER_INHERITS) {
    if (c[k] === undefined && rs[k] !== undefined) c[k] = rs[k];
  }
  if (type === "BFD_CHECK" || type === "FILE_CHECK") return;
  if (c.retry === undefined) c.retry = byType.retry ?? CHECKER_DEFAULTS.retry;
  if (c.delay_before_retry === undefined)
    c.delay_before_retry =
      type === "DNS_CHECK"
        ? c.delay_loop
        : (byType.delay_before_retry ?? CHECKER_DEFAULTS.delay_before_retry);
  if (c.warmup === undefined) c.warmup = c.delay_loop;
  if (type === "MISC_CHECK") {
    if (c.misc_timeout === undefined) c.misc_timeout = c.delay_loop;
    return;
  }
  if (c.connect_ip === undefined) c.connect_ip = rs.ip;
  if (c.connect_port === undefined && rs.port !== undefined) c.connect_port = rs.port;
  if (type === "DNS_CHECK")
    fillIf(c, { type: CHECKER_DEFAULTS.dns_type, name: CHECKER_DEFAULTS.dns_name });
  if (type === "SMTP_CHECK") fillIf(c, { helo_name: CHECKER_DEFAULTS.smtp_helo_name });
  if (type === "HTTP_GET" || type === "SSL_GET") {
    fillIf(c, { http_protocol: CHECKER_DEFAULTS.http_protocol });
    if (c.virtualhost === undefined && rs.virtualhost !== undefined) c.virtualhost = rs.virtualhost;
    for (const u of (c.url ?? []) as Obj[]) {
      if (u.status_code === undefined) u.status_code = [...CHECKER_DEFAULTS.status_code];
    }
  }
}

function fillIf(o: Obj, d: Obj): void {
  for (const [k, v] of Object.entries(d)) if (o[k] === undefined) o[k] = v;
}
