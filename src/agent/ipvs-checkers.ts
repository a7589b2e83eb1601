/**
 * From the model's checker blocks to the checkers IpvsHost runs: their timing (the machine's
 * input) and the probe each attempt starts. The model already carries keepalived's defaults
 * (config/normalize-ipvs.ts: checker → real server → virtual server inheritance, connect_ip
 * and connect_port from the real server, warmup = delay_loop, misc_timeout = delay_loop).
 */
import { readFileSync } from "node:fs";
import type { Model } from "../config/model.ts";
import type { DnsTypeName } from "../core/check/dns.ts";
import { type CheckerTiming, checkerTiming } from "../core/check/machine.ts";
import { SMTP_DEFAULT_HELO } from "../core/check/smtp.ts";
import { type RsInput, rsId, type VsInput, vsId } from "../core/ipvs/desired.ts";
import type { ScriptCommand } from "../core/script-command.ts";
import type { DnsCheckSpec } from "../io/check-dns.ts";
import type { HttpCheckSpec, HttpProtocol, HttpTlsSpec } from "../io/check-http.ts";
import type { PingCheckSpec } from "../io/check-ping.ts";
import type { SmtpCheckSpec } from "../io/check-smtp.ts";
import type { TcpCheckSpec } from "../io/check-tcp.ts";
import type { UdpCheckSpec } from "../io/check-udp.ts";

/** One probe to start; SSL_GET is an HTTP probe with `tls` set. */
export type ProbeSpec =
  | { readonly kind: "TCP"; readonly spec: TcpCheckSpec }
  | { readonly kind: "HTTP"; readonly spec: HttpCheckSpec }
  | { readonly kind: "UDP"; readonly spec: UdpCheckSpec }
  | { readonly kind: "DNS"; readonly spec: DnsCheckSpec }
  | { readonly kind: "SMTP"; readonly spec: SmtpCheckSpec }
  | { readonly kind: "PING"; readonly spec: PingCheckSpec }
  | {
      readonly kind: "MISC";
      readonly script: ScriptCommand;
      readonly timeoutMs: number;
      readonly dynamic: boolean;
      readonly why: string;
    };

/** The checker keywords this host runs; the others are reported and left out. */
export const RUNNABLE_CHECKERS = [
  "TCP_CHECK",
  "HTTP_GET",
  "SSL_GET",
  "MISC_CHECK",
  "SMTP_CHECK",
  "DNS_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
] as const;
export type RunnableChecker = (typeof RUNNABLE_CHECKERS)[number];
/** FILE_CHECK is not probed: ipvs-file-checks.ts watches its file. */
const OTHER_CHECKERS = ["BFD_CHECK"];

/** The connection keywords of a checker, and of an SMTP_CHECK `host` block. */
interface ConnCfg {
  readonly connect_ip?: string;
  readonly connect_port?: number;
  readonly bindto?: string;
  readonly bind_port?: number;
  readonly bind_if?: string;
  readonly fwmark?: number;
  readonly connect_timeout?: number;
}

/** The fields of a checker block this module reads (a structural view of the model's). */
interface CheckerCfg extends ConnCfg {
  readonly delay_loop: number;
  readonly delay_before_retry: number;
  readonly retry: number;
  readonly warmup: number;
  readonly alpha?: boolean;
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
  /** UDP_CHECK. */
  readonly payload?: string;
  readonly require_reply?: true | string | { readonly pattern?: string };
  readonly min_reply_length?: number;
  readonly max_reply_length?: number;
  /** DNS_CHECK. */
  readonly type?: string;
  readonly name?: string;
  /** SMTP_CHECK. */
  readonly helo_name?: string;
  readonly host?: readonly ConnCfg[];
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

/** Where a probe connects: connect_ip/port (the real server's by default), bindto, bind_port. */
interface ProbeBase {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly bindAddress?: string;
  readonly bindPort?: number;
}

/**
 * DNS_CHECK's port when neither connect_port nor the real server gives one. keepalived has
 * no DNS default (check_dns.c takes the real server's port, so it would query port 0);
 * the DNS port is the only useful reading of such a config.
 */
const DNS_PORT = 53;

/** UDP_CHECK, DNS_CHECK, SMTP_CHECK and PING_CHECK: one fixed probe each. */
function fixedProbe(type: RunnableChecker, c: CheckerCfg, base: ProbeBase): ProbeSpec | null {
  if (type === "UDP_CHECK") {
    const rr = c.require_reply;
    const requireReply =
      rr === undefined
        ? undefined
        : rr === true
          ? true
          : typeof rr === "string"
            ? rr
            : (rr.pattern ?? true);
    return {
      kind: "UDP",
      spec: {
        ...base,
        ...(c.payload !== undefined ? { payloadHex: c.payload } : {}),
        ...(requireReply !== undefined ? { requireReply } : {}),
        ...(c.min_reply_length !== undefined ? { minReplyLength: c.min_reply_length } : {}),
        ...(c.max_reply_length !== undefined ? { maxReplyLength: c.max_reply_length } : {}),
      },
    };
  }
  if (type === "DNS_CHECK")
    return {
      kind: "DNS",
      spec: {
        ...base,
        port: base.port === 0 ? DNS_PORT : base.port,
        type: (c.type ?? "SOA").toUpperCase() as DnsTypeName,
        name: c.name ?? ".",
      },
    };
  if (type === "SMTP_CHECK")
    return {
      kind: "SMTP",
      spec: {
        ...base,
        heloName: c.helo_name ?? SMTP_DEFAULT_HELO,
        // check_smtp.c spends retries inside a round: see smtpTiming.
        retry: c.retry,
        delayBeforeRetryMs: c.delay_before_retry * SECOND_MS,
      },
    };
  if (type === "PING_CHECK")
    return { kind: "PING", spec: { host: base.host, connectTimeoutMs: base.connectTimeoutMs } };
  return null;
}

/** The global SSL { } block's files as PEM text (keepalived loads them once, check_ssl.c). */
type SslFiles = Pick<HttpTlsSpec, "certificate" | "key" | "password" | "ca">;

/**
 * Read the SSL block's certificate, key and CA once per configuration. A file that cannot
 * be read is reported and left out (the SSL_GET checkers still run, as without it).
 */
export function readSslBlock(model: Model, notes: string[]): SslFiles {
  const b = (
    model as { SSL?: { certificate?: string; key?: string; ca?: string; password?: string } }
  ).SSL;
  if (!b) return {};
  const read = (what: string, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      notes.push(
        `SSL ${what} ${path} cannot be read (${e instanceof Error ? e.message : String(e)}); SSL_GET runs without it`,
      );
      return undefined;
    }
  };
  const certificate = read("certificate", b.certificate);
  const key = read("key", b.key);
  const ca = read("ca", b.ca);
  return {
    ...(certificate !== undefined ? { certificate } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(b.password !== undefined ? { password: b.password } : {}),
  };
}

function probeOf(type: RunnableChecker, c: CheckerCfg, rs: RsInput, label: string, ssl: SslFiles) {
  const host = c.connect_ip ?? rs.ip;
  const port = c.connect_port ?? rs.port ?? 0;
  const base: ProbeBase = {
    host,
    port,
    connectTimeoutMs: (c.connect_timeout ?? 5) * SECOND_MS,
    ...(c.bindto !== undefined ? { bindAddress: c.bindto } : {}),
    ...(c.bind_port !== undefined ? { bindPort: c.bind_port } : {}),
  };
  const fixed = fixedProbe(type, c, base);
  return (urlIndex: number): ProbeSpec => {
    if (fixed !== null) return fixed;
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
                ...ssl,
              },
            }
          : {}),
      },
    };
  };
}

/**
 * SMTP_CHECK spends its retries inside one probe (io/check-smtp.ts, after check_smtp.c
 * smtp_final), so the machine runs it with retry 0; every other checker keeps its own.
 */
function checkerTimingOf(type: RunnableChecker, c: CheckerCfg): CheckerTiming {
  const t = checkerTiming(type, c);
  return type === "SMTP_CHECK" ? { ...t, retry: 0 } : t;
}

/**
 * check_smtp.c smtp_check_end_handler (2.2.7): every deprecated `host` block becomes a
 * checker of its own, with the block's helo_name and timing and the host's connection
 * (address and port default to the real server's, connect_timeout to the real server's).
 * The SMTP_CHECK's own connection is checked as well unless it has host blocks and sets no
 * connection keyword itself. The model already holds the real server's connect_ip,
 * connect_port and connect_timeout in every checker (config/normalize-ipvs.ts), so "sets
 * none" is read as "all equal to the real server's".
 */
function smtpTargets(block: CheckerCfg, rs: RsInput): { suffix: string; c: CheckerCfg }[] {
  const hosts = block.host ?? [];
  const {
    connect_ip,
    connect_port,
    bindto,
    bind_port,
    bind_if,
    fwmark,
    connect_timeout,
    host,
    ...rest
  } = block;
  const rsTimeout = (rs as { readonly connect_timeout?: number }).connect_timeout;
  const ownConn =
    hosts.length === 0 ||
    (connect_ip !== undefined && connect_ip !== rs.ip) ||
    connect_port !== rs.port ||
    bindto !== undefined ||
    bind_port !== undefined ||
    bind_if !== undefined ||
    fwmark !== undefined ||
    connect_timeout !== rsTimeout;
  const out = ownConn ? [{ suffix: "", c: block }] : [];
  hosts.forEach((h, i) => {
    const timeout = h.connect_timeout ?? rsTimeout;
    out.push({
      suffix: `.host${i}`,
      c: {
        ...rest,
        connect_ip: h.connect_ip ?? rs.ip,
        ...(h.connect_port !== undefined || rs.port !== undefined
          ? { connect_port: h.connect_port ?? rs.port }
          : {}),
        ...(h.bindto !== undefined ? { bindto: h.bindto } : {}),
        ...(h.bind_port !== undefined ? { bind_port: h.bind_port } : {}),
        ...(timeout !== undefined ? { connect_timeout: timeout } : {}),
      },
    });
  });
  return out;
}

/** Every checker block of every real server, plus notes on the ones not run. */
export function buildCheckers(model: Model): { defs: CheckerDef[]; notes: string[] } {
  const defs: CheckerDef[] = [];
  const notes: string[] = [];
  const ssl = model.virtual_server.some((vs) =>
    vs.real_server.some(
      (rs) => ((rs as { SSL_GET?: readonly unknown[] }).SSL_GET?.length ?? 0) > 0,
    ),
  )
    ? readSslBlock(model, notes)
    : {};
  model.virtual_server.forEach((vs: VsInput, vsIndex) => {
    vs.real_server.forEach((rs, rsIndex) => {
      // The model's real server holds its checker lists under their keywords.
      const blocks = rs as unknown as Readonly<Record<string, readonly CheckerCfg[] | undefined>>;
      const label = fmtEndpoint(rs.ip, rs.port ?? vs.port, vs.protocol);
      for (const type of RUNNABLE_CHECKERS) {
        (blocks[type] ?? []).forEach((block, n) => {
          if (type === "MISC_CHECK" && block.misc_path === undefined) {
            notes.push(`MISC_CHECK of ${label} has no misc_path; it is not run`);
            return;
          }
          const targets =
            type === "SMTP_CHECK" ? smtpTargets(block, rs) : [{ suffix: "", c: block }];
          for (const { suffix, c } of targets)
            defs.push({
              key: `${vsId(vs)}|${rsId(rs)}|${type}#${n}${suffix}`,
              vsIndex,
              rsIndex,
              type,
              timing: checkerTimingOf(type, c),
              label,
              probe: probeOf(type, c, rs, label, ssl),
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
