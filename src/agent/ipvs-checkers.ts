/**
 * From the model's checker blocks to the checkers IpvsHost runs: their timing (the machine's
 * input) and the probe each attempt starts. The model already carries keepalived's defaults
 * (config/normalize-ipvs.ts: checker → real server → virtual server inheritance, connect_ip
 * and connect_port from the real server, warmup = delay_loop, misc_timeout = delay_loop).
 */
import type { Model } from "../config/model.ts";
import { type CheckerTiming, checkerTiming } from "../core/check/machine.ts";
import { type RsInput, rsId, type VsInput, vsId } from "../core/ipvs/desired.ts";
import type { ScriptCommand } from "../core/script-command.ts";
import type { HttpCheckSpec, HttpProtocol } from "../io/check-http.ts";
import type { TcpCheckSpec } from "../io/check-tcp.ts";

/** One probe to start; SSL_GET is an HTTP probe with `tls` set. */
export type ProbeSpec =
  | { readonly kind: "TCP"; readonly spec: TcpCheckSpec }
  | { readonly kind: "HTTP"; readonly spec: HttpCheckSpec }
  | {
      readonly kind: "MISC";
      readonly script: ScriptCommand;
      readonly timeoutMs: number;
      readonly dynamic: boolean;
      readonly why: string;
    };

/** The checker keywords this host runs; the others are reported and left out. */
export const RUNNABLE_CHECKERS = ["TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK"] as const;
export type RunnableChecker = (typeof RUNNABLE_CHECKERS)[number];
const OTHER_CHECKERS = [
  "SMTP_CHECK",
  "DNS_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
  "BFD_CHECK",
  "FILE_CHECK",
];

/** The fields of a checker block this module reads (a structural view of the model's). */
interface CheckerCfg {
  readonly delay_loop: number;
  readonly delay_before_retry: number;
  readonly retry: number;
  readonly warmup: number;
  readonly connect_timeout?: number;
  readonly alpha?: boolean;
  readonly connect_ip?: string;
  readonly connect_port?: number;
  readonly bindto?: string;
  readonly bind_port?: number;
  readonly url?: readonly {
    readonly path?: string;
    readonly digest?: string;
    readonly status_code?: readonly string[];
    readonly virtualhost?: string;
  }[];
  readonly http_protocol?: string;
  readonly virtualhost?: string;
  readonly enable_sni?: boolean;
  readonly sni_name?: string;
  readonly fast_recovery?: boolean;
  readonly misc_path?: ScriptCommand;
  readonly misc_timeout?: number;
  readonly misc_dynamic?: boolean;
}

export interface CheckerDef {
  /** "vsId|rsId|TYPE#n", unique in the model. */
  readonly key: string;
  readonly vsIndex: number;
  readonly rsIndex: number;
  readonly type: RunnableChecker;
  readonly timing: CheckerTiming;
  /** keepalived's FMT_CHK: "[192.0.2.10]:tcp:80". */
  readonly label: string;
  /** The probe for URL `urlIndex` (HTTP/SSL), or the one probe. */
  readonly probe: (urlIndex: number) => ProbeSpec;
}

/** keepalived's format_rs/format_vs text: "[addr]:proto:port" (check_data.c). */
export function fmtEndpoint(
  ip: string,
  port: number | undefined,
  proto: string | undefined,
): string {
  return `[${ip}]:${(proto ?? "tcp").toLowerCase()}:${port ?? 0}`;
}

const SECOND_MS = 1000;

function probeOf(type: RunnableChecker, c: CheckerCfg, rs: RsInput, label: string) {
  const host = c.connect_ip ?? rs.ip;
  const port = c.connect_port ?? rs.port ?? 0;
  const base = {
    host,
    port,
    connectTimeoutMs: (c.connect_timeout ?? 5) * SECOND_MS,
    ...(c.bindto !== undefined ? { bindAddress: c.bindto } : {}),
    ...(c.bind_port !== undefined ? { bindPort: c.bind_port } : {}),
  };
  return (urlIndex: number): ProbeSpec => {
    if (type === "TCP_CHECK") return { kind: "TCP", spec: base };
    if (type === "MISC_CHECK")
      return {
        kind: "MISC",
        // buildCheckers leaves out a MISC_CHECK without misc_path.
        script: c.misc_path ?? { command: ["/bin/false"] },
        timeoutMs: (c.misc_timeout ?? c.delay_loop) * SECOND_MS,
        dynamic: c.misc_dynamic === true,
        why: `MISC_CHECK of ${label}`,
      };
    const u = c.url?.[urlIndex] ?? c.url?.[0];
    const vhost = u?.virtualhost ?? c.virtualhost;
    return {
      kind: "HTTP",
      spec: {
        ...base,
        httpProtocol: (c.http_protocol ?? "1.0") as HttpProtocol,
        ...(vhost !== undefined ? { virtualhost: vhost } : {}),
        url: {
          path: u?.path ?? "/",
          ...(u?.digest !== undefined ? { digest: u.digest } : {}),
          ...(u?.status_code !== undefined ? { statusCodes: u.status_code } : {}),
        },
        ...(type === "SSL_GET"
          ? {
              tls: {
                enableSni: c.enable_sni === true,
                ...(c.sni_name !== undefined ? { sniName: c.sni_name } : {}),
              },
            }
          : {}),
      },
    };
  };
}

/** Every checker block of every real server, plus notes on the ones not run. */
export function buildCheckers(model: Model): { defs: CheckerDef[]; notes: string[] } {
  const defs: CheckerDef[] = [];
  const notes: string[] = [];
  model.virtual_server.forEach((vs: VsInput, vsIndex) => {
    vs.real_server.forEach((rs, rsIndex) => {
      // The model's real server holds its checker lists under their keywords.
      const blocks = rs as unknown as Readonly<Record<string, readonly CheckerCfg[] | undefined>>;
      const label = fmtEndpoint(rs.ip, rs.port ?? vs.port, vs.protocol);
      for (const type of RUNNABLE_CHECKERS) {
        (blocks[type] ?? []).forEach((c, n) => {
          if (type === "MISC_CHECK" && c.misc_path === undefined) {
            notes.push(`MISC_CHECK of ${label} has no misc_path; it is not run`);
            return;
          }
          defs.push({
            key: `${vsId(vs)}|${rsId(rs)}|${type}#${n}`,
            vsIndex,
            rsIndex,
            type,
            timing: checkerTiming(type, c),
            label,
            probe: probeOf(type, c, rs, label),
          });
        });
      }
      for (const type of OTHER_CHECKERS)
        if ((blocks[type]?.length ?? 0) > 0)
          notes.push(`${type} of ${label} in VS ${vsId(vs)} is not supported; it is not run`);
    });
  });
  return { defs, notes };
}
