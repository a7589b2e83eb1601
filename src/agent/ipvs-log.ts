/**
 * The log lines of the IPVS side, in keepalived's words (check/ipwrapper.c
 * perform_svr_state and clear_service_rs; check_tcp.c, check_http.c, check_misc.c), so that
 * an operator's log searches keep working.
 */
import type { Op } from "../core/ipvs/diff.ts";
import type { Dest, Service } from "../core/ipvs/table.ts";
import type { CheckProbeResult } from "../io/check-tcp.ts";
import { fmtEndpoint } from "./ipvs-checkers.ts";

/** The line for one IPVS command; `was` is the dest's weight before an edit. */
export function opText(op: Op, was: number | undefined): string {
  const vs = svcText(op.service);
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

/** The lines one probe result gives (none for a quiet HTTP success). */
export function probeText(
  type: string,
  label: string,
  res: CheckProbeResult,
  down: boolean,
  changed: boolean,
): string[] {
  const out: string[] = [];
  if (type === "TCP_CHECK")
    out.push(
      res.ok
        ? `TCP connection to ${label} success.`
        : res.reason?.startsWith("connect timeout")
          ? `TCP connection to ${label} timeout.`
          : `TCP connection to ${label} failed.`,
    );
  else if (type === "UDP_CHECK" || type === "PING_CHECK") {
    // check_udp.c / check_ping.c: a success line on every passing probe.
    if (res.ok)
      out.push(`${type === "UDP_CHECK" ? "UDP" : "ICMP"} connection to ${label} success.`);
    else if (changed) out.push(`${type} to ${label} failed${reasonOf(res)}.`);
  } else if (type === "SMTP_CHECK") {
    if (changed)
      out.push(
        res.ok
          ? `Remote SMTP server ${label} succeed on service.`
          : `SMTP_CHECK to ${label} failed${reasonOf(res)}.`,
      );
  } else if (type === "MISC_CHECK") {
    if (changed) out.push(`Misc check for [${label}] ${res.ok ? "succeeded" : "failed"}.`);
  } else if (type === "HTTP_GET" || type === "SSL_GET") {
    if (changed && res.ok) out.push(`Remote Web server ${label} succeed on service.`);
  } else if (changed)
    out.push(`${type} to ${label} ${res.ok ? "succeeded" : `failed${reasonOf(res)}`}.`);
  if (down && changed) out.push(`${checkName(type)} on service ${label} failed.`);
  return out;
}

const reasonOf = (res: CheckProbeResult): string =>
  res.reason === undefined ? "" : ` (${res.reason})`;

function checkName(type: string): string {
  return type === "HTTP_GET" ? "HTTP_CHECK" : type === "SSL_GET" ? "SSL_CHECK" : type;
}

function svcText(s: Service): string {
  return s.fwmark > 0 ? `FWM ${s.fwmark}` : fmtEndpoint(s.addr ?? "", s.port, s.protocol ?? "tcp");
}

function destText(s: Service, d: Dest): string {
  return fmtEndpoint(d.addr, d.port, s.fwmark > 0 ? "tcp" : (s.protocol ?? "tcp"));
}
