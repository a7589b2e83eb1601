/**
 * Checks against the machine the config will run on, as `keepalived -t` does: interfaces
 * that don't exist, and scripts run as root that non-root users could change. They are
 * warnings (keepalived runs anyway) and are skipped by `check --offline`.
 */
import type { MutableModel } from "./model.ts";
import type { NormCx } from "./normalize.ts";
import type { Path } from "./path.ts";
import { warn } from "./validate.ts";

export interface HostView {
  interfaceExists(name: string): boolean;
  /** Absolute path of an existing file, or undefined. */
  resolveExecutable(cmd: string): string | undefined;
}

type Obj = Record<string, unknown>;

export function validateHost(m: MutableModel, cx: NormCx, host: HostView): void {
  const missing = (name: string | undefined, path: Path, what: string): void => {
    if (name && !host.interfaceExists(name))
      warn(cx, path, "interface-not-found", `interface ${name} for ${what} doesn't exist`);
  };
  /** Every interface named by the items of a list: `dev`, nexthop devs, or a tracked name. */
  const each = (list: readonly unknown[] | undefined, path: Path, what: string): void => {
    for (const [n, item] of (list ?? []).entries()) {
      for (const dev of devsOf(item as Obj)) missing(dev, [...path, n], what);
    }
  };
  for (const [name, i] of Object.entries(m.vrrp_instance)) {
    const p: Path = ["vrrp_instance", name];
    missing(i.interface, [...p, "interface"], `vrrp_instance ${name}`);
    each(i.track_interface, [...p, "track_interface"], `track_interface of ${name}`);
    each(i.virtual_ipaddress, [...p, "virtual_ipaddress"], `a virtual address of ${name}`);
    each(
      i.virtual_ipaddress_excluded,
      [...p, "virtual_ipaddress_excluded"],
      `an excluded address of ${name}`,
    );
    each(i.virtual_routes, [...p, "virtual_routes"], `a virtual route of ${name}`);
  }
  each(m.static_ipaddress, ["static_ipaddress"], "a static address");
  each(m.static_routes, ["static_routes"], "a static route");
  for (const [g, sg] of Object.entries(m.vrrp_sync_group ?? {}))
    each(sg.track_interface, ["vrrp_sync_group", g, "track_interface"], `track_interface of ${g}`);
  missing(
    m.global_defs.lvs_sync_daemon?.interface,
    ["global_defs", "lvs_sync_daemon"],
    "lvs_sync_daemon",
  );
  scriptSecurity(m, cx, host);
}

function devsOf(r: Obj): string[] {
  const out: string[] = [];
  if (typeof r.dev === "string") out.push(r.dev);
  // track_interface entries name the interface itself.
  if (typeof r.name === "string" && r.address === undefined) out.push(r.name);
  for (const nh of (r.nexthop ?? []) as Obj[]) if (typeof nh.dev === "string") out.push(nh.dev);
  return out;
}

/** Every script the config would run, with where it was written. */
export function* scriptsOf(m: MutableModel): Generator<[Path, string]> {
  const cmd = (v: unknown) => (v as { command?: string[] } | undefined)?.command?.[0];
  const from = function* (
    obj: Obj,
    path: Path,
    keys: readonly string[],
  ): Generator<[Path, string]> {
    for (const k of keys) {
      const c = cmd(obj[k]);
      if (c) yield [[...path, k], c];
    }
  };
  const notifyKeys = [
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
    "notify_deleted",
    "notify_master_rx_lower_pri",
  ];
  yield* from(
    m.global_defs as Obj,
    ["global_defs"],
    [
      "startup_script",
      "shutdown_script",
      "notify_fifo_script",
      "vrrp_notify_fifo_script",
      "lvs_notify_fifo_script",
    ],
  );
  for (const [n, s] of Object.entries(m.vrrp_script))
    yield* from(s as Obj, ["vrrp_script", n], ["script"]);
  for (const [n, i] of Object.entries(m.vrrp_instance))
    yield* from(i as Obj, ["vrrp_instance", n], notifyKeys);
  for (const [n, g] of Object.entries(m.vrrp_sync_group ?? {}))
    yield* from(g as Obj, ["vrrp_sync_group", n], notifyKeys);
  for (const [v, vs] of m.virtual_server.entries()) {
    yield* from(vs as unknown as Obj, ["virtual_server", v], ["quorum_up", "quorum_down"]);
    // Tens of thousands of real servers, most with no script: a plain loop finds the few
    // that have one (a generator's locals live on the heap, slow before the JIT warms up).
    yield* realServerScripts(vs.real_server as unknown as readonly Obj[], v);
  }
}

function realServerScripts(list: readonly Obj[], v: number): [Path, string][] {
  const out: [Path, string][] = [];
  for (let r = 0; r < list.length; r++) {
    const rs = list[r] as Obj;
    for (const k of RS_SCRIPT_KEYS) {
      const c = scriptCommand(rs[k]);
      if (c) out.push([["virtual_server", v, "real_server", r, k], c]);
    }
    const misc = rs.MISC_CHECK as Obj[] | undefined;
    if (!misc) continue;
    for (let n = 0; n < misc.length; n++) {
      const c = scriptCommand(misc[n]?.misc_path);
      if (c) out.push([["virtual_server", v, "real_server", r, "MISC_CHECK", n, "misc_path"], c]);
    }
  }
  return out;
}

const scriptCommand = (v: unknown) => (v as { command?: string[] } | undefined)?.command?.[0];
const RS_SCRIPT_KEYS = ["notify_up", "notify_down"] as const;

/** keepalived warns once, "SECURITY VIOLATION", when scripts that exist would run without it. */
function scriptSecurity(m: MutableModel, cx: NormCx, host: HostView): void {
  if (m.global_defs.enable_script_security) return;
  for (const [path, c] of scriptsOf(m)) {
    if (!host.resolveExecutable(c)) continue;
    warn(
      cx,
      path,
      "script-security",
      "scripts will be executed but enable_script_security is not set (keepalived: SECURITY VIOLATION)",
    );
    return;
  }
}
