/**
 * Normalize: raw document → model. Applies the defaults of defaults.ts, keepalived's
 * derivations (priority from state, version from family, global → instance inheritance)
 * and the settings keepalived itself clears with a warning ("… - clearing").
 */

import {
  BFD_DEFAULTS,
  GLOBAL_DEFAULTS,
  HTTP_TRACK_DEFAULTS,
  INSTANCE_DEFAULTS,
  MIN_GARP,
  OWNER_PRIORITY,
  ROOT_DEFAULTS,
  SCRIPT_DEFAULTS,
  TRACK_FILE_DEFAULTS,
  TRACK_PROCESS_DEFAULTS,
} from "./defaults.ts";
import type { Diags } from "./diag.ts";
import { instanceFamily } from "./family.ts";
import type { GlobalModel, MutableModel } from "./model.ts";
import { normalizeIpvs } from "./normalize-ipvs.ts";
import type { LocTable, Path } from "./path.ts";
import type { RawDoc, RawGlobal, RawInstance } from "./schema/root.ts";

export interface NormCx {
  readonly diags: Diags;
  readonly locs: LocTable;
}

type Obj = Record<string, unknown>;

/** A deep copy of plain JSON-like data (much cheaper than structuredClone here). */
export function copy<T>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  return copyObject(v) as T;
}

/**
 * copy() of an object or array. A leaf is copied in place, not by a call: a large
 * configuration's document holds a few hundred thousand of them. Arrays here are dense
 * (the front ends build them by appending), so index order is element order.
 */
function copyObject(v: object): object {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      out.push(typeof x === "object" && x !== null ? copyObject(x) : x);
    }
    return out;
  }
  const out: Obj = {};
  for (const k in v) {
    const x = (v as Obj)[k];
    out[k] = typeof x === "object" && x !== null ? copyObject(x) : x;
  }
  return out;
}

/** Fill keys that are absent, never overwrite. */
export function fill<T extends Obj>(obj: T, defaults: Obj): T {
  for (const k in defaults) if (obj[k] === undefined) (obj as Obj)[k] = copy(defaults[k]);
  return obj;
}

export function normalize(raw: RawDoc, cx: NormCx): MutableModel {
  const doc = copy(raw) as Obj;
  fill(doc, ROOT_DEFAULTS);
  const g = normGlobal((doc.global_defs ?? {}) as RawGlobal);
  doc.global_defs = g;
  const scripts = (doc.vrrp_script ?? {}) as Record<string, Obj>;
  for (const s of Object.values(scripts)) {
    fill(s, SCRIPT_DEFAULTS);
    if (s.timeout === undefined) s.timeout = s.interval;
  }
  for (const t of Object.values((doc.track_http ?? {}) as Record<string, Obj>)) {
    fill(t, HTTP_TRACK_DEFAULTS);
    if (t.timeout === undefined) t.timeout = t.interval;
  }
  for (const t of Object.values((doc.vrrp_track_process ?? {}) as Record<string, Obj>)) {
    fill(t, TRACK_PROCESS_DEFAULTS);
    fill(t, { fork_delay: t.delay, terminate_delay: t.delay });
  }
  for (const t of Object.values((doc.track_file ?? {}) as Record<string, Obj>))
    fill(t, TRACK_FILE_DEFAULTS);
  for (const b of Object.values((doc.bfd_instance ?? {}) as Record<string, Obj>))
    fill(b, BFD_DEFAULTS);
  const instances = (doc.vrrp_instance ?? {}) as Record<string, RawInstance>;
  for (const [name, inst] of Object.entries(instances))
    normInstance(inst, g, ["vrrp_instance", name], cx);
  fill(doc, {
    vrrp_script: {},
    track_http: {},
    vrrp_instance: {},
    vrrp_track_process: {},
    track_file: {},
    virtual_server: [],
  });
  normalizeIpvs(doc, g, cx);
  return doc as unknown as MutableModel;
}

function normGlobal(raw: RawGlobal): GlobalModel {
  const g = raw as Obj;
  if (g.vrrp_min_garp === true) fill(g, MIN_GARP);
  fill(g, GLOBAL_DEFAULTS);
  fill(g, {
    vrrp_garp_lower_prio_repeat: g.vrrp_garp_master_repeat,
    vrrp_garp_lower_prio_delay: g.vrrp_garp_master_delay,
    vmac_addr_prefix: g.vmac_prefix,
  });
  return g as GlobalModel;
}

function warnAt(cx: NormCx, path: Path, key: string, code: string, msg: string): void {
  cx.diags.warn(cx.locs.nearest([...path, key]), code, `${String(path[1])}: ${msg}`);
}

function normInstance(inst: RawInstance, g: GlobalModel, path: Path, cx: NormCx): void {
  const i = inst as Obj & RawInstance;
  const vips = i.virtual_ipaddress ?? [];
  i.virtual_ipaddress = vips;
  // IPv6 is always VRRPv3 (keepalived vrrp_complete_instance).
  if (i.version === undefined) i.version = instanceFamily(i) === 6 ? 3 : g.vrrp_version;
  if (i.priority === undefined)
    i.priority =
      i.state === "MASTER" ? INSTANCE_DEFAULTS.priority_master : INSTANCE_DEFAULTS.priority;
  if (i.state === undefined) i.state = i.priority === OWNER_PRIORITY ? "MASTER" : "BACKUP";
  const strict = i.strict_mode ?? g.vrrp_strict ?? false;
  fill(i, {
    advert_int: INSTANCE_DEFAULTS.advert_int,
    preempt_delay: INSTANCE_DEFAULTS.preempt_delay,
    garp_master_delay: g.vrrp_garp_master_delay,
    garp_master_repeat: g.vrrp_garp_master_repeat,
    garp_lower_prio_delay: strict ? 0 : g.vrrp_garp_lower_prio_delay,
    garp_lower_prio_repeat: strict ? 0 : g.vrrp_garp_lower_prio_repeat,
    garp_master_refresh: g.vrrp_garp_master_refresh,
    garp_master_refresh_repeat: g.vrrp_garp_master_refresh_repeat,
    down_timer_adverts: strict ? 3 : g.vrrp_down_timer_adverts,
    lower_prio_no_advert: strict || (g.vrrp_lower_prio_no_advert ?? false),
    higher_prio_send_advert: !strict && (g.vrrp_higher_prio_send_advert ?? false),
    owner_ignore_adverts:
      (strict && i.priority === OWNER_PRIORITY) || (g.vrrp_owner_ignore_adverts ?? false),
    skip_check_adv_addr: g.vrrp_skip_check_adv_addr ?? false,
    strict_mode: strict,
    v3_checksum_as_v2: g.v3_checksum_as_v2 ?? false,
  });
  if (g.vrrp_garp_extra_if !== undefined) fill(i, { garp_extra_if: g.vrrp_garp_extra_if });
  if (strict) strictOverrides(i, path, cx);
  clearIncompatible(i, path, cx);
  normAdvertInt(i, path, cx);
}

/** What strict mode forces even when the instance says otherwise (reference §2.8). */
const STRICT: readonly [key: keyof RawInstance, value: boolean | number, why: string][] = [
  ["lower_prio_no_advert", true, "strict mode does not answer lower-priority adverts"],
  ["higher_prio_send_advert", false, "strict mode does not advertise before backing off"],
  ["garp_lower_prio_repeat", 0, "strict mode sends no GARP for lower-priority adverts"],
  ["garp_lower_prio_delay", 0, "strict mode sends no GARP for lower-priority adverts"],
  ["down_timer_adverts", 3, "strict mode uses the RFC's Master_Down (3 adverts)"],
];

function strictOverrides(i: RawInstance, path: Path, cx: NormCx): void {
  const rec = i as Obj;
  for (const [key, value, why] of STRICT) {
    if (rec[key] === value) continue;
    warnAt(cx, path, key, "strict-override", `${why} - setting ${key} to ${value}`);
    rec[key] = value;
  }
}

/** The combinations keepalived accepts but switches off, warning "… - clearing" (§2.3, §2.5). */
function clearIncompatible(i: RawInstance, path: Path, cx: NormCx): void {
  if (
    i.authentication?.auth_type === "AH" &&
    i.state === "MASTER" &&
    i.priority !== OWNER_PRIORITY
  ) {
    warnAt(
      cx,
      path,
      "state",
      "state-cleared",
      "initial state MASTER is incompatible with AH authentication - using BACKUP",
    );
    i.state = "BACKUP";
  }
  if (i.nopreempt && i.state === "MASTER") {
    warnAt(
      cx,
      path,
      "nopreempt",
      "nopreempt-cleared",
      "nopreempt will not work with initial state MASTER - clearing",
    );
    i.nopreempt = false;
  }
  if (i.nopreempt && i.priority === OWNER_PRIORITY) {
    warnAt(
      cx,
      path,
      "nopreempt",
      "nopreempt-cleared",
      "nopreempt will not work with priority 255 (address owner) - clearing",
    );
    i.nopreempt = false;
  }
  if ((i.preempt_delay ?? 0) > 0) {
    const why =
      i.state === "MASTER"
        ? "initial state MASTER"
        : i.nopreempt
          ? "nopreempt"
          : i.strict_mode
            ? "strict mode"
            : undefined;
    if (why) {
      warnAt(
        cx,
        path,
        "preempt_delay",
        "preempt-delay-cleared",
        `preempt_delay will not work with ${why} - clearing`,
      );
      i.preempt_delay = 0;
    }
  }
}

/** v2 carries whole seconds (RFC 3768 §5.3.7); v3 centiseconds up to 40.95 s (RFC 5798 §5.2.7). */
function normAdvertInt(i: RawInstance, path: Path, cx: NormCx): void {
  const a = i.advert_int ?? INSTANCE_DEFAULTS.advert_int;
  if (i.version === 2) {
    const whole = Math.min(255, Math.max(1, Math.round(a)));
    if (whole !== a) {
      warnAt(
        cx,
        path,
        "advert_int",
        "advert-int-rounded",
        `VRRPv2 advert_int ${a}s must be a whole number of seconds in 1..255 - using ${whole}`,
      );
      i.advert_int = whole;
    }
    return;
  }
  const cs = Math.round(a * 100);
  if (cs < 1 || cs > 4095) {
    cx.diags.error(
      cx.locs.nearest([...path, "advert_int"]),
      "advert-int-range",
      `${String(path[1])}: VRRPv3 advert_int ${a}s is outside 0.01..40.95`,
    );
    return;
  }
  if (Math.abs(cs / 100 - a) > 1e-9) {
    warnAt(
      cx,
      path,
      "advert_int",
      "advert-int-rounded",
      `VRRPv3 advert_int ${a}s is not a multiple of 0.01s - using ${cs / 100}`,
    );
    i.advert_int = cs / 100;
  }
}
