/**
 * The IPVS table the kernel should hold, from the configuration and the checkers' verdicts,
 * following keepalived's real-server state machine (reference §6.2; check/ipwrapper.c
 * init_service_rs, update_quorum_state, perform_quorum_state; check/ipvswrapper.c ipvs_cmd).
 * keepalived reaches its table by a history of commands; we compute the table it ends up
 * with, and keep the little history it depends on (quorum state, frozen verdicts) in an
 * explicit state object passed in and returned.
 */
import { formatIp, parseIp } from "../net/ip.ts";
import {
  expandVs,
  type IpvsInput,
  type LvsMethodInput,
  type RsInput,
  type VsInput,
  vsId,
} from "./expand.ts";
import { type Dest, type FwdMethod, type Service, sortTable, type Table } from "./table.ts";

export type { IpvsInput, LvsMethodInput, RsInput, VsInput } from "./expand.ts";
export { vsId } from "./expand.ts";
export type { Dest, Service, Table } from "./table.ts";
export { destKey, serviceKey } from "./table.ts";

export type Health = "up" | "down" | "unknown";
export type VrrpView = "MASTER" | "other";

/** What keepalived remembers between checker results, per virtual server (by vsId). */
export interface VsState {
  readonly quorumUp: boolean;
  /** Last verdict per real server (by rsId), used while ha_suspend holds the checkers. */
  readonly alive: Readonly<Record<string, boolean>>;
}
export interface QuorumState {
  readonly vs: Readonly<Record<string, VsState>>;
}
export const INITIAL_QUORUM_STATE: QuorumState = { vs: {} };

export interface QuorumEvent {
  readonly type: "quorum_up" | "quorum_down";
  /** vsId of the virtual server: "192.0.2.1:80/TCP", "fwmark 7", "group G1". */
  readonly vs: string;
  /** True for the first evaluation (keepalived: "Starting with quorum down"). */
  readonly init: boolean;
  readonly weightSum: number;
  readonly threshold: number;
  /** The quorum and hysteresis in effect (after keepalived's clamping). */
  readonly quorum: number;
  readonly hysteresis: number;
  /** Reported while shutting down (only for omega virtual servers). */
  readonly stopping?: boolean;
}

export interface DesiredOptions {
  /**
   * How ha_suspend acts while the owning VRRP instance is not MASTER. "freeze" is
   * keepalived's behaviour: the checkers are suspended (check/check_api.c
   * update_checker_activity), so verdicts are held and the service stays programmed.
   * "withdraw" leaves the service out of the table altogether.
   */
  readonly haSuspend?: "freeze" | "withdraw";
  /** Shutting down: empty table; omega VSs with quorum up report quorum_down. */
  readonly stopping?: boolean;
  /**
   * A real server's current weight when something other than the config set it
   * (MISC_CHECK misc_dynamic, check_misc.c update_svr_wgt); it counts toward quorum too.
   */
  readonly weightOf?: (vs: VsInput, rs: RsInput) => number | undefined;
}

export interface DesiredResult {
  readonly table: Table;
  readonly quorum: QuorumState;
  readonly events: readonly QuorumEvent[];
  /** Config facts applied silently by keepalived (clamped quorum, unknown group…). */
  readonly notes: readonly string[];
}

export function rsId(rs: RsInput): string {
  return rs.port === undefined ? rs.ip : `${rs.ip}:${rs.port}`;
}

export function desiredTable(
  model: IpvsInput,
  health: (vs: VsInput, rs: RsInput) => Health,
  vrrp: (instance: string) => VrrpView,
  prev: QuorumState = INITIAL_QUORUM_STATE,
  opts: DesiredOptions = {},
): DesiredResult {
  const services: Service[] = [];
  const events: QuorumEvent[] = [];
  const notes: string[] = [];
  const next: Record<string, VsState> = {};
  for (const vs of model.virtual_server) {
    const id = vsId(vs);
    const held = Object.hasOwn(prev.vs, id) ? prev.vs[id] : undefined;
    const suspended = isSuspended(model, vs, vrrp);
    const verdict = (rs: RsInput): boolean => {
      // A suspended checker reports nothing: its last verdict holds.
      const h = suspended ? "unknown" : health(vs, rs);
      // Until a first verdict, alpha starts a real server down (ipwrapper.c init_service_rs).
      return h === "unknown" ? (held?.alive[rsId(rs)] ?? !rs.alpha) : h === "up";
    };
    const alive: Record<string, boolean> = {};
    for (const rs of vs.real_server) alive[rsId(rs)] = verdict(rs);
    const weight = (rs: RsInput): number => opts.weightOf?.(vs, rs) ?? rs.weight;
    const q = evalQuorum(vs, alive, held, id, notes, weight);
    if (opts.stopping) {
      // ipwrapper.c update_vs_notifies(stopping): only omega runs the down notifiers.
      if (vs.omega && q.up)
        events.push({ ...q.event, type: "quorum_down", init: false, stopping: true });
      continue;
    }
    if (q.changed) events.push(q.event);
    next[id] = { quorumUp: q.up, alive };
    if (suspended && opts.haSuspend === "withdraw") continue;
    const dests = vsDests(vs, alive, q.up, weight);
    for (const s of expandVs(model, vs, notes)) services.push({ ...s, dests: dests(s) });
  }
  return { table: sortTable(services), quorum: { vs: next }, events, notes };
}

/**
 * ha_suspend: keepalived suspends the checkers while none of the VS addresses is configured
 * on the host (check_api.c update_checker_activity). Here an address is configured when a
 * vrrp_instance holding it as a VIP is MASTER. A VS no instance owns is never suspended
 * (its address is static, or absent, which we cannot see from here); fwmark services
 * cannot use ha_suspend (check_data.c clears it).
 */
export function isSuspended(model: IpvsInput, vs: VsInput, vrrp: (i: string) => VrrpView): boolean {
  if (!vs.ha_suspend || vs.fwmark !== undefined) return false;
  const addrs = vsAddresses(model, vs);
  const owners = Object.entries(model.vrrp_instance ?? {}).filter(([, inst]) =>
    [...(inst.virtual_ipaddress ?? []), ...(inst.virtual_ipaddress_excluded ?? [])].some((v) =>
      addrs.has(stripLen(v.address)),
    ),
  );
  return owners.length > 0 && !owners.some(([name]) => vrrp(name) === "MASTER");
}

/** A VIP's address without its prefix length, canonical so that it compares with a VS's. */
function stripLen(a: string): string {
  const slash = a.indexOf("/");
  const text = slash < 0 ? a : a.slice(0, slash);
  const ip = parseIp(text);
  return ip ? formatIp(ip) : text;
}

function vsAddresses(model: IpvsInput, vs: VsInput): Set<string> {
  const out = new Set<string>();
  if (vs.ip !== undefined) out.add(vs.ip);
  if (vs.group === undefined) return out;
  for (const s of expandVs(model, vs, [])) if (s.addr !== null) out.add(s.addr);
  return out;
}

interface QuorumEval {
  readonly up: boolean;
  readonly changed: boolean;
  readonly event: QuorumEvent;
}

/**
 * keepalived's quorum (check_data.c validate_check_config clamps quorum to the summed RS
 * weight and hysteresis below quorum; ipwrapper.c set_quorum_states for the first state,
 * update_quorum_state for the transitions: gain at >= quorum + hysteresis, lose below
 * quorum - hysteresis or when no live weight remains).
 */
function evalQuorum(
  vs: VsInput,
  alive: Record<string, boolean>,
  held: VsState | undefined,
  id: string,
  notes: string[],
  weight: (rs: RsInput) => number,
): QuorumEval {
  const total = vs.real_server.reduce((n, rs) => n + rs.weight, 0);
  let quorum = vs.quorum;
  if (quorum > total) {
    notes.push(`${id}: quorum ${quorum} exceeds total real-server weight ${total}; using ${total}`);
    quorum = total;
  }
  const hysteresis = vs.hysteresis >= quorum ? Math.max(0, quorum - 1) : vs.hysteresis;
  const sum = vs.real_server.reduce((n, rs) => n + (alive[rsId(rs)] ? weight(rs) : 0), 0);
  const mk = (type: QuorumEvent["type"], init: boolean, threshold: number): QuorumEvent => ({
    type,
    vs: id,
    init,
    weightSum: sum,
    threshold,
    quorum,
    hysteresis,
  });
  if (held === undefined) {
    const up = sum >= quorum + hysteresis;
    // ipwrapper.c init_service_vs → update_quorum_state(init): the state starts down, so
    // reaching quorum is announced ("Gained quorum", quorum_up, `VS … UP`); starting below
    // it is announced only when a sorry server must go in.
    const changed = up || vs.sorry_server !== undefined;
    return { up, changed, event: mk(up ? "quorum_up" : "quorum_down", true, quorum + hysteresis) };
  }
  const threshold = quorum + (held.quorumUp ? -hysteresis : hysteresis);
  // keepalived re-evaluates only when a real server changes state (perform_svr_state);
  // with nothing changed, evaluating again could flip a zero-weight VS back and forth.
  const same = vs.real_server.every((rs) => held.alive[rsId(rs)] === alive[rsId(rs)]);
  if (!same && !held.quorumUp && sum >= threshold)
    return { up: true, changed: true, event: mk("quorum_up", false, threshold) };
  if (!same && held.quorumUp && (sum === 0 || sum < threshold))
    return { up: false, changed: true, event: mk("quorum_down", false, threshold) };
  return {
    up: held.quorumUp,
    changed: false,
    event: mk(held.quorumUp ? "quorum_up" : "quorum_down", false, threshold),
  };
}

/**
 * The dests of every kernel service of one VS. A live RS is in the pool unless the sorry
 * server replaced the pool (quorum down); a dead RS with inhibit_on_failure stays with
 * weight 0 (ipvswrapper.c ipvs_cmd turns DEL_DEST into SET_DEST weight 0). The sorry
 * server (weight 1, check_data.c alloc_ssvr) is in while quorum is down, and with
 * sorry_server_inhibit stays at weight 0 otherwise.
 */
function vsDests(
  vs: VsInput,
  alive: Record<string, boolean>,
  quorumUp: boolean,
  weight: (rs: RsInput) => number,
): (s: Service) => Dest[] {
  const sorryOn = vs.sorry_server !== undefined && !quorumUp;
  return (s) => {
    const out = new Map<string, Dest>();
    for (const rs of vs.real_server) {
      const up = alive[rsId(rs)] ?? false;
      if (up && sorryOn) continue;
      if (!up && !rs.inhibit_on_failure) continue;
      const d = dest(s, rs.ip, rs.port, rs.lvs_method, up ? weight(rs) : 0, rs);
      out.set(`${d.addr}|${d.port}`, d);
    }
    const sorry = vs.sorry_server;
    if (sorry && (sorryOn || vs.sorry_server_inhibit)) {
      const method = vs.sorry_server_lvs_method ?? vs.lvs_method;
      const d = dest(s, sorry.ip, sorry.port, method, sorryOn ? 1 : 0, {});
      // A sorry server equal to a real server is that real server (check_data.c).
      if (!out.has(`${d.addr}|${d.port}`) || sorryOn) out.set(`${d.addr}|${d.port}`, d);
    }
    return [...out.values()];
  };
}

const TUN_DEFAULT = "ipip";

function dest(
  s: Service,
  ip: string,
  port: number | undefined,
  method: LvsMethodInput,
  weight: number,
  th: { readonly uthreshold?: number; readonly lthreshold?: number },
): Dest {
  const fwd = method.method.toUpperCase() as FwdMethod;
  const tun = fwd === "TUN";
  const tunType = tun ? (method.type ?? TUN_DEFAULT) : null;
  return {
    addr: ip,
    // ipvswrapper.c ipvs_cmd: only NAT translates the port; DR and TUN keep the service's
    // port (0 for a fwmark service).
    port: fwd === "NAT" ? (port ?? 0) : s.port,
    fwd,
    weight,
    uThreshold: th.uthreshold ?? 0,
    lThreshold: th.lthreshold ?? 0,
    tunType,
    tunPort: tunType === "gue" ? (method.port ?? 0) : 0,
    // The kernel reports "nocsum" for GUE and GRE when none was asked (wire.ts reads it so).
    tunCsum: tunType === null || tunType === "ipip" ? null : (csum(method) ?? "nocsum"),
  };
}

function csum(m: LvsMethodInput): Dest["tunCsum"] {
  if (m.remcsum) return "remcsum";
  if (m.csum) return "csum";
  return m.nocsum ? "nocsum" : null;
}
