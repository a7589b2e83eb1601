/**
 * The log lines of the IPVS side, in keepalived's words (check/ipwrapper.c
 * perform_svr_state and clear_service_rs; check_tcp.c, check_http.c, check_misc.c), so that
 * an operator's log searches keep working.
 */

import type { Model } from "../config/model.ts";
import type { QuorumEvent, VsInput } from "../core/ipvs/desired.ts";
import type { Op } from "../core/ipvs/diff.ts";
import type { Dest, Service, Table } from "../core/ipvs/table.ts";
import { formatRs, formatVs } from "../core/notify/format.ts";
import type { CheckProbeResult } from "../io/check-tcp.ts";
import { fmtEndpoint } from "./ipvs-checkers.ts";
import { rsRef, vsRef } from "./ipvs-notify.ts";

/** check_data.c FMT_VS: "[192.0.2.1]:tcp:80", "FWM 7", "[G1]:0". */
export function vsText(vs: VsInput, m: Pick<Model, "virtual_server_group">): string {
  const ref = vsRef(vs, m);
  return ref ? formatVs(ref) : fmtEndpoint(vs.ip ?? "", vs.port, vs.protocol);
}

/**
 * ipwrapper.c update_quorum_state: "Gained quorum 3+1=4 <= 5 for VS …" /
 * "Lost quorum 3-1=2 > 1 for VS …" ("Starting with quorum down" at start), then what
 * happens to the sorry server.
 */
export function quorumText(e: QuorumEvent, vsName: string, vs: VsInput | undefined): string[] {
  const out: string[] = [];
  if (e.stopping) return out;
  const sorry = vs?.sorry_server;
  const sorryText = sorry && vs ? rsText(vs, sorry) : undefined;
  if (e.type === "quorum_up") {
    out.push(
      `Gained quorum ${e.quorum}+${e.hysteresis}=${e.threshold} <= ${e.weightSum} for VS ${vsName}`,
    );
    if (sorryText && !e.init)
      out.push(
        `${vs?.sorry_server_inhibit ? "Disabling" : "Removing"} sorry server ${sorryText} from VS ${vsName}`,
      );
  } else {
    out.push(
      `${e.init ? "Starting with quorum down" : "Lost quorum"} ${e.quorum}-${e.hysteresis}=${e.threshold} > ${e.weightSum} for VS ${vsName}`,
    );
    if (sorryText)
      out.push(
        `${vs?.sorry_server_inhibit ? "Enabling" : "Adding"} sorry server ${sorryText} to VS ${vsName}`,
      );
  }
  return out;
}

function rsText(vs: VsInput, rs: { readonly ip: string; readonly port?: number }): string {
  const v = vsRef(vs);
  const r = rsRef(vs, rs);
  return v && r ? formatRs(r, v) : fmtEndpoint(rs.ip, rs.port, vs.protocol);
}

/**
 * The line for one IPVS command; `was` is the dest's weight before an edit. At stop
 * keepalived says "Shutting down service … from VS …" per real server and nothing per
 * virtual server (ipwrapper.c clear_service_rs).
 */
export function opText(
  op: Op,
  was: number | undefined,
  phase: "run" | "stop" = "run",
): string | undefined {
  const vs = svcText(op.service);
  if (phase === "stop") {
    if (op.op !== "del-dest") return undefined;
    const inhibited = op.dest.weight === 0 ? "(inhibited) " : "";
    return `Shutting down ${inhibited}service ${destText(op.service, op.dest)} from VS ${vs}`;
  }
  if (op.op === "add-service") return `Adding Virtual Server ${vs}`;
  if (op.op === "del-service") return `Removing Virtual Server ${vs}`;
  if (op.op === "edit-service") return `Updating Virtual Server ${vs}`;
  const rs = destText(op.service, op.dest);
  if (op.op === "add-dest") return `Adding service ${rs} to VS ${vs}`;
  if (op.op === "del-dest") return `Removing service ${rs} from VS ${vs}`;
  const before = was ?? 0;
  if (before > 0 && op.dest.weight === 0) return `Disabling service ${rs} from VS ${vs}`;
  if (before === 0 && op.dest.weight > 0) return `Enabling service ${rs} to VS ${vs}`;
  return `Changing weight from ${before} to ${op.dest.weight} for service ${rs} of VS ${vs}`;
}

/**
 * The first programming after start in one line: keepalived logs nothing per real server
 * then, and 10,000 lines would cost more than the commands themselves.
 */
export function startSummary(sent: readonly Op[], want: Table): string {
  const dests = want.services.reduce((n, s) => n + s.dests.length, 0);
  const n = sent.length;
  return `IPVS at start: ${want.services.length} virtual service(s), ${dests} real server(s); ${n} command(s) sent${n === 0 ? " (all already in the kernel)" : ""}`;
}

/** What the checker's epilogue decided about one probe (core/check/machine.ts output). */
export interface ProbeVerdict {
  /** keepalived called update_svr_checker_state: on a first run, a recovery, a failure. */
  readonly report?: "up" | "down";
  readonly changed: boolean;
  /** Its `retry`, and whether it had run before this probe ("failed after N retries"). */
  readonly retry: number;
  readonly hadRun: boolean;
}

/** check_tcp.c / check_udp.c success words; the ping checker says ICMP. */
const CONNECTED: Readonly<Record<string, string>> = {
  TCP_CHECK: "TCP connection to",
  UDP_CHECK: "UDP connection to",
  PING_CHECK: "ICMP connection to",
};

/**
 * The lines one probe result gives. keepalived's TCP-shaped epilogues (tcp_epilog and its
 * UDP/PING/DNS/SMTP siblings) speak only when they report: a success on the first run or a
 * recovery, a failure when the checker goes (or starts) down — not on every probe.
 */
export function probeText(
  type: string,
  label: string,
  res: CheckProbeResult,
  v: ProbeVerdict,
): string[] {
  const out: string[] = [];
  const failed = (): string =>
    v.retry > 0 && v.hadRun
      ? `${checkName(type)} on service ${label} failed after ${v.retry} retries.`
      : `${checkName(type)} on service ${label} failed.`;
  if (type === "MISC_CHECK") {
    if (v.changed) out.push(`Misc check for [${label}] ${res.ok ? "succeeded" : "failed"}.`);
    if (v.report === "down" && v.changed)
      out.push(`${checkName(type)} on service ${label} failed.`);
    return out;
  }
  if (type === "HTTP_GET" || type === "SSL_GET") {
    if (v.changed && res.ok) out.push(`Remote Web server ${label} succeed on service.`);
    if (v.report === "down" && v.changed)
      out.push(`${checkName(type)} on service ${label} failed.`);
    return out;
  }
  if (v.report === "up" && res.ok) {
    const words = CONNECTED[type];
    if (words) out.push(`${words} ${label} success.`);
    else if (type === "SMTP_CHECK") out.push(`Remote SMTP server ${label} succeed on service.`);
    else out.push(`${type} (${label}) succeeded.`);
  } else if (v.report === "down") out.push(failed());
  return out;
}

function checkName(type: string): string {
  return type === "HTTP_GET" ? "HTTP_CHECK" : type === "SSL_GET" ? "SSL_CHECK" : type;
}

function svcText(s: Service): string {
  return s.fwmark > 0 ? `FWM ${s.fwmark}` : fmtEndpoint(s.addr ?? "", s.port, s.protocol ?? "tcp");
}

function destText(s: Service, d: Dest): string {
  return fmtEndpoint(d.addr, d.port, s.fwmark > 0 ? "tcp" : (s.protocol ?? "tcp"));
}
