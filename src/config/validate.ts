/**
 * The validator: one pass over the normalized model that reports every problem at once,
 * each at the place it was written. Rules follow keepalived's own checks (reference §1–§2);
 * where we are stricter it is because the operator's intent would silently be lost.
 */
import { OWNER_PRIORITY } from "./defaults.ts";
import { familyOfAddress, instanceFamily } from "./family.ts";
import type { RouteLine } from "./lines/route-model.ts";
import type { InstanceModel, MutableModel } from "./model.ts";
import type { NormCx } from "./normalize.ts";
import type { Path } from "./path.ts";
import { validateIpvs } from "./validate-ipvs.ts";

type Refs = Readonly<Record<string, Record<string, unknown> | undefined>>;

export function err(cx: NormCx, path: Path, code: string, msg: string): void {
  cx.diags.error(cx.locs.nearest(path), code, msg);
}
export function warn(cx: NormCx, path: Path, code: string, msg: string): void {
  cx.diags.warn(cx.locs.nearest(path), code, msg);
}

export function validate(m: MutableModel, cx: NormCx): void {
  validateTrackers(m, cx);
  for (const [name, i] of Object.entries(m.vrrp_instance)) validateInstance(name, i, m, cx);
  validateDuplicateVrids(m, cx);
  validateSyncGroups(m, cx);
  validateGlobalRefs(m, cx);
  validateIpvs(m, cx);
}

const family = familyOfAddress;

export { instanceFamily };

function validateTrackers(m: MutableModel, cx: NormCx): void {
  for (const [name, s] of Object.entries(m.vrrp_script))
    if (!s.script)
      warn(
        cx,
        ["vrrp_script", name],
        "script-missing",
        `vrrp_script ${name} has no script line - it will be ignored`,
      );
  validateHttpTracks(m, cx);
  for (const [name, t] of Object.entries(m.vrrp_track_process))
    if (!t.process)
      warn(
        cx,
        ["vrrp_track_process", name],
        "process-missing",
        `vrrp_track_process ${name} has no process line - it will be ignored`,
      );
  for (const [name, t] of Object.entries(m.track_file))
    if (!t.file)
      warn(
        cx,
        ["track_file", name],
        "file-missing",
        `track_file ${name} has no file line - it will be ignored`,
      );
  for (const [name, b] of Object.entries(m.bfd_instance ?? {}))
    if (!b.neighbor_ip)
      err(
        cx,
        ["bfd_instance", name],
        "bfd-neighbor-missing",
        `bfd_instance ${name} needs neighbor_ip`,
      );
}

/**
 * track_http (extension): without a url (none written, or one that failed to read) it is
 * ignored like a vrrp_script without script; and one probe at a time.
 */
function validateHttpTracks(m: MutableModel, cx: NormCx): void {
  for (const [name, t] of Object.entries(m.track_http)) {
    if (!t.url)
      warn(
        cx,
        ["track_http", name],
        "url-missing",
        `track_http ${name} has no usable url - it will be ignored`,
      );
    // A probe may not outlive its interval: the next one would start while it still waits,
    // and one hung server would hold several connections and count one failure several times.
    if (t.timeout > t.interval)
      err(
        cx,
        ["track_http", name, "timeout"],
        "timeout-over-interval",
        `track_http ${name}: timeout ${t.timeout}s is longer than interval ${t.interval}s`,
      );
  }
}

/** The tracker tables a `track_*` list may name, and whether an entry is usable. */
function trackTables(
  m: MutableModel,
): Record<string, [string, Refs[string], (v: Record<string, unknown>) => boolean]> {
  return {
    track_script: ["vrrp_script", m.vrrp_script, (v) => v.script !== undefined],
    track_http: ["track_http", m.track_http, (v) => v.url !== undefined],
    track_process: ["vrrp_track_process", m.vrrp_track_process, (v) => v.process !== undefined],
    track_file: ["track_file", m.track_file, (v) => v.file !== undefined],
    track_bfd: ["bfd_instance", m.bfd_instance, () => true],
  };
}

export function validateTrackRefs(
  owner: Record<string, unknown>,
  path: Path,
  m: MutableModel,
  cx: NormCx,
): void {
  for (const [key, [table, defined, usable]] of Object.entries(trackTables(m))) {
    const list = (owner[key] ?? []) as { name: string }[];
    list.forEach((t, n) => {
      const target = defined?.[t.name] as Record<string, unknown> | undefined;
      if (!target)
        err(
          cx,
          [...path, key, n],
          "undefined-reference",
          `${key} '${t.name}' is not a defined ${table}`,
        );
      else if (!usable(target))
        err(
          cx,
          [...path, key, n],
          "undefined-reference",
          `${key} '${t.name}': that ${table} is ignored (see its warning)`,
        );
    });
  }
}

function validateInstance(name: string, i: InstanceModel, m: MutableModel, cx: NormCx): void {
  const p: Path = ["vrrp_instance", name];
  const unicast = (i.unicast_peer?.length ?? 0) > 0;
  if (i.virtual_router_id === undefined)
    err(cx, p, "vrid-missing", `${name}: virtual_router_id must be set`);
  if (!i.interface && !(unicast && i.unicast_src_ip))
    err(
      cx,
      p,
      "interface-missing",
      `${name}: interface must be set (it may only be left out for unicast with unicast_src_ip)`,
    );
  validateAddresses(name, i, p, cx);
  untrackedRoutes(i.virtual_routes, [...p, "virtual_routes"], cx);
  validateAuth(name, i, p, cx);
  validateTrackRefs(i as unknown as Record<string, unknown>, p, m, cx);
  if (i.strict_mode) {
    if (unicast)
      err(
        cx,
        [...p, "unicast_peer"],
        "strict-unicast",
        `${name}: strict mode does not allow unicast peers`,
      );
    if (i.virtual_ipaddress.length === 0)
      err(cx, p, "strict-no-vip", `${name}: strict mode needs at least one virtual address`);
  }
  if (i.priority === OWNER_PRIORITY && i.state !== "MASTER")
    warn(
      cx,
      [...p, "state"],
      "owner-backup",
      `${name}: priority 255 (address owner) always starts as MASTER`,
    );
}

function validateAddresses(name: string, i: InstanceModel, p: Path, cx: NormCx): void {
  const vips = i.virtual_ipaddress;
  // keepalived runs a v2 instance without addresses but refuses a v3 one (reference §2.8).
  if (vips.length === 0 && !i.no_virtual_ipaddress) {
    if (i.version === 3)
      err(
        cx,
        p,
        "no-vip",
        `${name}: a VRRPv3 instance needs a virtual_ipaddress (or no_virtual_ipaddress)`,
      );
    else warn(cx, p, "no-vip", `${name}: no virtual_ipaddress; at least one is sensible`);
  }
  const fam = instanceFamily(i);
  vips.forEach((v, n) => {
    if (family(v.address) !== fam)
      err(
        cx,
        [...p, "virtual_ipaddress", n],
        "vip-family",
        `${name}: ${v.address} is IPv${family(v.address)} but the instance is IPv${fam}; use virtual_ipaddress_excluded for the other family`,
      );
  });
  const seen = new Set<string>();
  vips.forEach((v, n) => {
    if (seen.has(v.address))
      err(
        cx,
        [...p, "virtual_ipaddress", n],
        "duplicate-vip",
        `${name}: ${v.address} is listed twice`,
      );
    seen.add(v.address);
  });
  if (fam === 6 && i.version === 2)
    err(cx, [...p, "version"], "ipv6-v2", `${name}: IPv6 needs VRRP version 3`);
  for (const key of ["unicast_src_ip", "mcast_src_ip"] as const) {
    const a = i[key];
    if (a && family(a) !== fam)
      err(cx, [...p, key], "family-mismatch", `${name}: ${key} ${a} is not IPv${fam}`);
  }
  (i.unicast_peer ?? []).forEach((peer, n) => {
    if (family(peer.address) !== fam)
      err(
        cx,
        [...p, "unicast_peer", n],
        "family-mismatch",
        `${name}: unicast_peer ${peer.address} is not IPv${fam}`,
      );
  });
}

/**
 * keepalived watches routes through their interface; one with no `dev` (nor a nexthop
 * with one) and no `no_track` can't be restored if something deletes it, and keepalived
 * says so ("cannot track route … not tracking").
 */
export function untrackedRoutes(
  list: readonly RouteLine[] | undefined,
  path: Path,
  cx: NormCx,
): void {
  for (const [n, r] of (list ?? []).entries()) {
    if (r.dev || r.no_track || r.nexthop?.some((h) => h.dev)) continue;
    warn(
      cx,
      [...path, n],
      "route-untracked",
      `route ${r.to} has no dev: it will not be tracked (add dev, or no_track)`,
    );
  }
}

function validateAuth(name: string, i: InstanceModel, p: Path, cx: NormCx): void {
  const a = i.authentication;
  if (!a) return;
  const ap: Path = [...p, "authentication"];
  if (i.strict_mode) {
    err(
      cx,
      ap,
      "auth-strict",
      `${name}: strict mode has no authentication; remove the block (keepalived ignores it, leaving adverts unauthenticated)`,
    );
    return;
  }
  if (i.version !== 2) {
    err(
      cx,
      ap,
      "auth-v3",
      `${name}: VRRP version 3 has no authentication; remove the block (keepalived ignores it, leaving adverts unauthenticated)`,
    );
    return;
  }
  if (i.auth_hmac)
    err(cx, ap, "auth-conflict", `${name}: authentication and auth_hmac cannot both be used`);
  if (!a.auth_type)
    err(cx, ap, "auth-type-missing", `${name}: authentication needs auth_type PASS or AH`);
  if (!a.auth_pass) err(cx, ap, "auth-pass-missing", `${name}: authentication needs auth_pass`);
  else if (a.auth_pass.length > 8)
    warn(
      cx,
      [...ap, "auth_pass"],
      "auth-pass-truncated",
      `${name}: only the first 8 characters of auth_pass are used`,
    );
  if (a.auth_type === "AH" && instanceFamily(i) === 6)
    err(cx, ap, "auth-ah-ipv6", `${name}: AH authentication does not work with IPv6`);
}

function validateDuplicateVrids(m: MutableModel, cx: NormCx): void {
  const byKey = new Map<string, [string, InstanceModel][]>();
  for (const [name, i] of Object.entries(m.vrrp_instance)) {
    if (i.virtual_router_id === undefined) continue;
    const key = `${i.interface ?? ""}|${instanceFamily(i)}|${i.virtual_router_id}`;
    const list = byKey.get(key) ?? [];
    for (const [other, o] of list) {
      if (!peersOverlap(i, o)) continue;
      err(
        cx,
        ["vrrp_instance", name, "virtual_router_id"],
        "duplicate-vrid",
        `${other} and ${name} both use VRID ${i.virtual_router_id} with IPv${instanceFamily(i)} on interface ${i.interface ?? "(none)"}`,
      );
    }
    list.push([name, i]);
    byKey.set(key, list);
  }
}

/** Unicast instances may share a VRID on one interface if their peer sets are disjoint (§2.11). */
function peersOverlap(a: InstanceModel, b: InstanceModel): boolean {
  const pa = a.unicast_peer ?? [];
  const pb = b.unicast_peer ?? [];
  if (pa.length === 0 || pb.length === 0) return true;
  const set = new Set(pa.map((x) => x.address));
  return pb.some((x) => set.has(x.address));
}

function validateSyncGroups(m: MutableModel, cx: NormCx): void {
  const owner = new Map<string, string>();
  for (const [g, sg] of Object.entries(m.vrrp_sync_group ?? {})) {
    const p: Path = ["vrrp_sync_group", g];
    const members = sg.group ?? [];
    if (members.length === 0)
      warn(
        cx,
        p,
        "sync-group-empty",
        `vrrp_sync_group ${g} has no group { } members - it will be ignored`,
      );
    else if (members.length === 1)
      warn(cx, [...p, "group"], "sync-group-single", `vrrp_sync_group ${g} has only one member`);
    members.forEach((name, n) => {
      if (!m.vrrp_instance[name])
        err(
          cx,
          [...p, "group", n],
          "undefined-reference",
          `vrrp_sync_group ${g}: '${name}' is not a defined vrrp_instance`,
        );
      const prev = owner.get(name);
      if (prev)
        err(
          cx,
          [...p, "group", n],
          "duplicate-sync-member",
          `${name} is already in vrrp_sync_group ${prev}`,
        );
      owner.set(name, g);
    });
    validateTrackRefs(sg as Record<string, unknown>, p, m, cx);
  }
}

function validateGlobalRefs(m: MutableModel, cx: NormCx): void {
  const inst = m.global_defs.lvs_sync_daemon?.instance;
  if (inst && !m.vrrp_instance[inst])
    err(
      cx,
      ["global_defs", "lvs_sync_daemon"],
      "undefined-reference",
      `lvs_sync_daemon: '${inst}' is not a defined vrrp_instance`,
    );
  for (const [g, tg] of Object.entries(m.track_group ?? {}))
    (tg.group ?? []).forEach((name, n) => {
      if (!m.vrrp_instance[name])
        err(
          cx,
          ["track_group", g, "group", n],
          "undefined-reference",
          `track_group ${g}: '${name}' is not a defined vrrp_instance`,
        );
    });
  untrackedRoutes(m.static_routes, ["static_routes"], cx);
  (m.static_ipaddress ?? []).forEach((a, n) => {
    const tg = (a as { track_group?: string }).track_group;
    if (tg && !m.track_group?.[tg])
      err(cx, ["static_ipaddress", n], "undefined-reference", `track_group '${tg}' is not defined`);
  });
  (m.garp_group ?? []).forEach((gg, n) => {
    if (!gg.interface && !gg.interfaces?.length)
      err(
        cx,
        ["garp_group", n],
        "garp-group-interface",
        "garp_group needs interface or interfaces",
      );
  });
}
