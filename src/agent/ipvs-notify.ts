/**
 * What an operator's hooks see when the IPVS side changes (check/ipwrapper.c
 * do_rs_notifies, do_vs_notifies, and the checkers' smtp_alert calls): for a real server
 * its notify_up / notify_down script, then the `RS …` line on the notify FIFOs, then (if the
 * real server's smtp_alert is on) a mail whose body names the checker; for a virtual server
 * the quorum_up / quorum_down script, the `VS …` FIFO line, and a mail if its smtp_alert is
 * on. Scripts get no extra arguments (reference §2.15 "Checker notifies").
 */
import type { ScriptCommand } from "../config/lines/shell.ts";
import type { Model } from "../config/model.ts";
import type { QuorumEvent, RsInput, VsInput } from "../core/ipvs/desired.ts";
import { vsId } from "../core/ipvs/desired.ts";
import { parseIp } from "../core/net/ip.ts";
import {
  type AlertEvent,
  CHECKER_KINDS,
  type CheckerKind,
  type LvsProtocol,
  type RealServerRef,
  rsFifoLine,
  type VirtualServerRef,
  vsFifoLine,
} from "../core/notify/format.ts";
import type { RsEvent } from "./ipvs-host-types.ts";

/** Where the notifications go; RealHooks has the real ones. */
export interface IpvsNotifyIo {
  runScript(cmd: ScriptCommand, extraArgs: readonly string[], why: string): void;
  /** One line to the FIFOs that take LVS lines (notify_fifo, lvs_notify_fifo). */
  lvs(line: string): void;
  alert(e: AlertEvent): void;
}

/** The parts of the model's blocks read here (notify scripts and alert switches). */
interface VsNotify {
  readonly quorum_up?: ScriptCommand;
  readonly quorum_down?: ScriptCommand;
  readonly smtp_alert?: boolean;
}
interface RsNotify {
  readonly notify_up?: ScriptCommand;
  readonly notify_down?: ScriptCommand;
  readonly smtp_alert?: boolean;
}

const isCheckerKind = (k: string): k is CheckerKind =>
  (CHECKER_KINDS as readonly string[]).includes(k);

/**
 * check_data.c validate_check_config: an address VS without `protocol` is UDP (the
 * kernel's default for 0); a fwmark VS ignores the protocol (0, printed as "none" here).
 */
function lvsProtocol(vs: VsInput, fwmarkOnly: boolean): LvsProtocol {
  if (vs.fwmark !== undefined || fwmarkOnly) return "none";
  const p = vs.protocol?.toLowerCase();
  return p === "tcp" || p === "sctp" ? p : "udp";
}

/** check_data.c format_vs's identity of a virtual server. */
export function vsRef(
  vs: VsInput,
  m?: Pick<Model, "virtual_server_group">,
): VirtualServerRef | undefined {
  const entries = vs.group === undefined ? undefined : m?.virtual_server_group?.[vs.group];
  const fwmarkOnly = entries?.every((e) => e.fwmark !== undefined) === true;
  const protocol = lvsProtocol(vs, fwmarkOnly);
  if (vs.fwmark !== undefined) return { kind: "fwmark", fwmark: vs.fwmark, protocol };
  // A group VS has no address of its own: keepalived prints its unset port, 0.
  if (vs.group !== undefined) return { kind: "group", group: vs.group, port: 0, protocol };
  const address = vs.ip === undefined ? undefined : parseIp(vs.ip);
  return address && { kind: "address", address, port: vs.port ?? 0, protocol };
}

export function rsRef(vs: VsInput, rs: Pick<RsInput, "ip" | "port">): RealServerRef | undefined {
  const address = parseIp(rs.ip);
  return address && { address, port: rs.port ?? vs.port ?? 0 };
}

/** The hooks IpvsHost calls back, bound to the model current at each event. */
export function ipvsNotifier(
  model: () => Model,
  io: IpvsNotifyIo,
): { onRealServer(e: RsEvent): void; onQuorum(e: QuorumEvent): void } {
  return {
    onRealServer(e) {
      const vs = model().virtual_server[e.vsIndex];
      const rs = vs?.real_server[e.rsIndex];
      if (!vs || !rs) return;
      const up = e.type === "notify_up";
      const n = rs as RsInput & RsNotify;
      const script = up ? n.notify_up : n.notify_down;
      if (script) io.runScript(script, [], `${e.type} of ${e.rs} in VS ${e.vs}`);
      const v = vsRef(vs, model());
      const r = rsRef(vs, rs);
      if (!v || !r) return;
      io.lvs(rsFifoLine(r, v, up));
      if (n.smtp_alert !== true) return;
      if (e.stopping) io.alert({ kind: "real-server-removed", rs: r, vs: v, stopping: true });
      else if (e.checker !== undefined && isCheckerKind(e.checker))
        io.alert({
          kind: "real-server",
          rs: r,
          vs: v,
          outcome: {
            checker: e.checker,
            up,
            ...(e.timedOut ? { timedOut: true } : {}),
            ...(e.detail !== undefined ? { detail: e.detail } : {}),
          },
        });
    },
    onQuorum(e) {
      const vs = model().virtual_server.find((x) => vsId(x) === e.vs);
      if (!vs) return;
      const up = e.type === "quorum_up";
      const n = vs as VsInput & VsNotify;
      const script = up ? n.quorum_up : n.quorum_down;
      if (script) io.runScript(script, [], `${e.type} of VS ${e.vs}`);
      const v = vsRef(vs, model());
      if (!v) return;
      io.lvs(vsFifoLine(v, up));
      if (n.smtp_alert === true)
        io.alert({
          kind: "virtual-server",
          vs: v,
          quorumUp: up,
          initial: e.init,
          stopping: e.stopping === true,
          quorum: vs.quorum,
          hysteresis: vs.hysteresis,
          weightSum: e.weightSum,
        });
    },
  };
}
