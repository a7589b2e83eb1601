/**
 * What keepalived writes to its notify FIFOs and mails to `notification_email`, as text.
 * Operators' reader scripts parse these lines, so every byte follows keepalived (reference
 * §2.15): vrrp/vrrp_notify.c (notify_fifo, vrrp_smtp_notifier, vrrp_sync_smtp_notifier),
 * check/ipwrapper.c (notify_fifo_vs, notify_fifo_rs, do_vs_notifies, clear_service_rs),
 * check/check_*.c (the real-server alert bodies) and core/smtp.c (smtp_alert, body_cmd).
 * The basis is release 2.4.3; where the unreleased master branch differs, an option says so.
 * Pure: the caller passes the date; nothing here reads a clock or touches the OS.
 */
import { formatIp, type IpAddr } from "../net/ip.ts";

// ---------------------------------------------------------------------------------------
// VRRP FIFO lines (vrrp_notify.c notify_fifo): `TYPE "NAME" STATE PRIORITY\n`, no NUL.

/** Instance and group states, plus the three event words keepalived also writes. */
export type VrrpFifoState = "MASTER" | "BACKUP" | "FAULT" | "STOP" | "DELETED";
export type VrrpFifoEvent =
  | VrrpFifoState
  /** A MASTER heard an advert with a lower priority (send_event_notify). */
  | "MASTER_RX_LOWER_PRI"
  /** notify_priority_changes: the effective priority changed while MASTER / otherwise. */
  | "MASTER_PRIORITY"
  | "BACKUP_PRIORITY";

/**
 * `INSTANCE "VI_1" MASTER 100\n`. The name goes between double quotes exactly as
 * configured: keepalived escapes nothing, so a name holding a space or a quote is written
 * as is (readers split on the last two spaces). The priority is the effective priority.
 */
export function instanceFifoLine(name: string, event: VrrpFifoEvent, priority: number): string {
  return `INSTANCE "${name}" ${event} ${priority}\n`;
}

/** `GROUP "G1" BACKUP 0\n`: a sync group always reports priority 0 (notify_group_fifo). */
export function groupFifoLine(name: string, state: Exclude<VrrpFifoState, "DELETED">): string {
  return `GROUP "${name}" ${state} 0\n`;
}

/**
 * notify_priority_changes (send_instance_priority_notifies): MASTER_PRIORITY when the
 * instance is MASTER, BACKUP_PRIORITY in every other state, with the new priority.
 */
export function priorityFifoLine(name: string, isMaster: boolean, priority: number): string {
  return instanceFifoLine(name, isMaster ? "MASTER_PRIORITY" : "BACKUP_PRIORITY", priority);
}

// ---------------------------------------------------------------------------------------
// LVS identities (check_data.c format_vs / format_rs, utils.c inet_sockaddrtotrio).

/** IPVS service protocol as keepalived names it; "none" is protocol 0 (fwmark/group). */
export type LvsProtocol = "tcp" | "udp" | "sctp" | "none";

/** A virtual server as keepalived identifies it in FIFO lines and alerts. */
export type VirtualServerRef =
  | {
      readonly kind: "address";
      readonly address: IpAddr;
      readonly port: number;
      readonly protocol: LvsProtocol;
    }
  | { readonly kind: "fwmark"; readonly fwmark: number; readonly protocol: LvsProtocol }
  /** `virtual_server group NAME`: keepalived prints the port of the VS's own (unset, so 0) address. */
  | {
      readonly kind: "group";
      readonly group: string;
      readonly port: number;
      readonly protocol: LvsProtocol;
    };

export interface RealServerRef {
  readonly address: IpAddr;
  readonly port: number;
}

/**
 * glibc inet_ntop text. It matches RFC 5952 (formatIp) except for one old form: an address
 * whose first 96 bits are zero but whose last 32 are not a plain ::N gets the deprecated
 * IPv4-compatible dotted tail (`::1.2.3.4`), because glibc keeps BIND's rule.
 */
export function ntopText(a: IpAddr): string {
  const b = a.bytes;
  if (a.family === 6 && b.subarray(0, 12).every((x) => x === 0) && (b[12] !== 0 || b[13] !== 0))
    return `::${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return formatIp(a);
}

/** `[192.0.2.1]:tcp:80` (inet_sockaddrtotrio): brackets for both families. */
function trio(address: IpAddr, protocol: LvsProtocol, port: number): string {
  return `[${ntopText(address)}]:${protocol}:${port}`;
}

/** format_vs: `[addr]:proto:port`, `FWM n` or `[group]:port`. */
export function formatVs(vs: VirtualServerRef): string {
  switch (vs.kind) {
    case "group":
      return `[${vs.group}]:${vs.port}`;
    case "fwmark":
      return `FWM ${vs.fwmark}`;
    case "address":
      return trio(vs.address, vs.protocol, vs.port);
  }
}

/** format_rs: the real server's address and port with the virtual server's protocol. */
export function formatRs(rs: RealServerRef, vs: VirtualServerRef): string {
  return trio(rs.address, vs.protocol, rs.port);
}

export interface LvsLineOptions {
  /**
   * End the line with a NUL after the newline. Every keepalived release, 2.4.3 included,
   * writes just the text (ipwrapper.c notify_fifo_vs / notify_fifo_rs write strlen bytes).
   * The master branch after 2.4.3 (commit 7fa6a176, 2026-08-13, an snprintf clean-up) counts
   * the terminating NUL in the length it writes; this reproduces that build. Off by default.
   */
  readonly trailingNul?: boolean;
}

const lvsEnd = (o: LvsLineOptions | undefined): string => (o?.trailingNul ? "\n\0" : "\n");

/** `VS [192.0.2.1]:tcp:80 UP\n`, `VS FWM 5 DOWN\n`, `VS [G1]:0 UP\n` (notify_fifo_vs). */
export function vsFifoLine(vs: VirtualServerRef, quorumUp: boolean, o?: LvsLineOptions): string {
  return `VS ${formatVs(vs)} ${quorumUp ? "UP" : "DOWN"}${lvsEnd(o)}`;
}

/** `RS [198.51.100.2]:tcp:80 [192.0.2.1]:tcp:80 DOWN\n` (notify_fifo_rs). */
export function rsFifoLine(
  rs: RealServerRef,
  vs: VirtualServerRef,
  alive: boolean,
  o?: LvsLineOptions,
): string {
  return `RS ${formatRs(rs, vs)} ${formatVs(vs)} ${alive ? "UP" : "DOWN"}${lvsEnd(o)}`;
}

// ---------------------------------------------------------------------------------------
// SMTP alert texts (smtp.c smtp_alert and its callers).

/** Checkers that mail on a real-server change, and the words each one uses. */
export const CHECKER_KINDS = [
  "TCP_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
  "DNS_CHECK",
  "HTTP_GET",
  "SSL_GET",
  "SMTP_CHECK",
  "MISC_CHECK",
  "BFD_CHECK",
] as const;
export type CheckerKind = (typeof CHECKER_KINDS)[number];

/** Why a checker changed state; `detail` feeds the texts that carry one. */
export interface CheckerOutcome {
  readonly checker: CheckerKind;
  readonly up: boolean;
  /** MISC_CHECK: the script timed out rather than failed (check_misc.c "timed out"). */
  readonly timedOut?: boolean;
  /** SMTP_CHECK failure reason (smtp_final's formatted message); BFD_CHECK: the bfd instance. */
  readonly detail?: string;
}

/** The alert body a checker sends when its real server goes up or down (check_*.c). */
export function checkerAlertBody(o: CheckerOutcome): string {
  const ok = o.up;
  switch (o.checker) {
    case "TCP_CHECK":
      return `=> TCP CHECK ${ok ? "succeed" : "failed"} on service <=`;
    case "UDP_CHECK":
      return `=> UDP CHECK ${ok ? "succeed" : "failed"} on service <=`;
    case "PING_CHECK":
      return `=> ICMP CHECK ${ok ? "succeed" : "failed"} on service <=`;
    case "DNS_CHECK":
      return `=> DNS_CHECK: ${ok ? "succeed" : "failed"} on service <=`;
    case "HTTP_GET":
    case "SSL_GET":
      return ok
        ? "=> CHECK succeed on service <="
        : "=> CHECK failed on service : HTTP/SSL request failed <=";
    case "SMTP_CHECK":
      if (ok) return "=> CHECK succeed on service <=";
      // check_smtp.c smtp_final: the reason is capped by its 542-byte buffer.
      return truncateUtf8(
        o.detail === undefined
          ? "=> CHECK failed on service <="
          : `=> CHECK failed on service : ${o.detail} <=`,
        541,
      );
    case "MISC_CHECK":
      return `=> MISC CHECK ${ok ? "succeeded" : o.timedOut ? "timed out" : "failed"} on service <=`;
    case "BFD_CHECK":
      // check_bfd.c formats into an 80-byte buffer.
      return truncateUtf8(
        `=> BFD CHECK ${o.detail ?? ""} ${ok ? "succeeded" : "failed"} on service <=`,
        79,
      );
  }
}

/** One SMTP alert, as the part of the agent that noticed it describes it. */
export type AlertEvent =
  | { readonly kind: "instance"; readonly name: string; readonly state: VrrpFifoState }
  | {
      readonly kind: "group";
      readonly name: string;
      readonly state: Exclude<VrrpFifoState, "DELETED">;
    }
  /** A checker moved a real server up or down (SMTP_MSG_RS). */
  | {
      readonly kind: "real-server";
      readonly rs: RealServerRef;
      readonly vs: VirtualServerRef;
      readonly outcome: CheckerOutcome;
    }
  /** A real server was removed at reload or shutdown (SMTP_MSG_RS_SHUT). */
  | {
      readonly kind: "real-server-removed";
      readonly rs: RealServerRef;
      readonly vs: VirtualServerRef;
      readonly stopping: boolean;
    }
  /** Quorum gained or lost (SMTP_MSG_VS, ipwrapper.c do_vs_notifies). */
  | {
      readonly kind: "virtual-server";
      readonly vs: VirtualServerRef;
      readonly quorumUp: boolean;
      /** The first evaluation after start ("Starting with quorum …"). */
      readonly initial: boolean;
      /** Shutting down (the VS is reported DOWN). */
      readonly stopping: boolean;
      readonly quorum: number;
      readonly hysteresis: number;
      /** Sum of the live real servers' weights. */
      readonly weightSum: number;
    }
  /** Anything else: `[router_id] subject` (smtp_alert's fallback). */
  | { readonly kind: "custom"; readonly subject: string; readonly body: string };

export interface AlertText {
  readonly subject: string;
  readonly body: string;
}

// include/smtp.h: both go through fixed buffers (snprintf/strncpy leave room for the NUL).
export const SUBJECT_MAX_BYTES = 255;
export const BODY_MAX_BYTES = 511;
/** ipwrapper.c do_vs_notifies formats the quorum body into an 80-byte buffer. */
const VS_BODY_MAX_BYTES = 79;

/** vrrp_notify.c vrrp_smtp_notifier: subject word and body per instance state. */
const INSTANCE_TEXT: Record<VrrpFifoState, readonly [string, string]> = {
  MASTER: ["Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="],
  BACKUP: ["Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="],
  FAULT: ["Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="],
  STOP: ["Stopping", "=> VRRP Instance stopping <="],
  DELETED: ["Deleted", "=> VRRP Deleted at reload <="],
};

/** vrrp_notify.c vrrp_sync_smtp_notifier. */
const GROUP_TEXT: Record<Exclude<VrrpFifoState, "DELETED">, readonly [string, string]> = {
  MASTER: ["Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="],
  BACKUP: ["Entering BACKUP state", "=> All VRRP group instances are now in BACKUP state <="],
  FAULT: ["Entering FAULT state", "=> All VRRP group instances are now in FAULT state <="],
  STOP: ["Stopping", "=> All VRRP group instances are now stopping <="],
};

function vsQuorumBody(e: Extract<AlertEvent, { kind: "virtual-server" }>): string {
  if (e.stopping) return "=> Shutting down <=";
  const what = e.quorumUp
    ? e.initial
      ? "Starting with quorum up"
      : "Gained quorum"
    : e.initial
      ? "Starting with quorum down"
      : "Lost quorum";
  const threshold = e.quorum - e.hysteresis;
  return `=> ${what} ${e.quorum}+${e.hysteresis}=${threshold} <= ${e.weightSum} <=`;
}

/** Subject and body exactly as smtp_alert builds them, `[router_id]` first. */
export function alertText(e: AlertEvent, routerId: string): AlertText {
  let subject: string;
  let body: string;
  switch (e.kind) {
    case "instance": {
      const [word, text] = INSTANCE_TEXT[e.state];
      subject = `[${routerId}] VRRP Instance ${e.name} - ${word}`;
      body = text;
      break;
    }
    case "group": {
      const [word, text] = GROUP_TEXT[e.state];
      subject = `[${routerId}] VRRP Group ${e.name} - ${word}`;
      body = text;
      break;
    }
    case "real-server":
      subject = `[${routerId}] Realserver ${formatRs(e.rs, e.vs)} of virtual server ${formatVs(e.vs)} - ${e.outcome.up ? "UP" : "DOWN"}`;
      body = checkerAlertBody(e.outcome);
      break;
    case "real-server-removed":
      subject = `[${routerId}] Realserver ${formatRs(e.rs, e.vs)} of virtual server ${formatVs(e.vs)} - DOWN`;
      body = e.stopping ? "=> Shutting down <=" : "=> Removing <=";
      break;
    case "virtual-server":
      subject = `[${routerId}] Virtualserver ${formatVs(e.vs)} - ${e.quorumUp && !e.stopping ? "UP" : "DOWN"}`;
      body = truncateUtf8(vsQuorumBody(e), VS_BODY_MAX_BYTES);
      break;
    case "custom":
      subject = routerId === "" ? e.subject : `[${routerId}] ${e.subject}`;
      body = e.body;
      break;
  }
  return {
    subject: truncateUtf8(subject, SUBJECT_MAX_BYTES),
    body: truncateUtf8(body, BODY_MAX_BYTES),
  };
}

/**
 * At most `maxBytes` of UTF-8, cut where keepalived's fixed buffers cut, but never inside a
 * character (keepalived cuts bytes; for the ASCII names configurations use, that is the same).
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

// ---------------------------------------------------------------------------------------
// The message itself (smtp.c body_cmd, mail_cmd, rcpt_cmd; RFC 5321, RFC 5322).

/** A local time broken down, as strftime sees it; the shell reads the clock. */
export interface LocalTime {
  readonly year: number;
  /** 1–12. */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday. */
  readonly weekday: number;
  /** Minutes east of UTC (Europe/Paris in winter: 60). */
  readonly utcOffsetMinutes: number;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
// biome-ignore format: a table
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;
const two = (n: number): string => String(n).padStart(2, "0");

/**
 * keepalived's Date header: strftime "%a, %d %b %Y %H:%M:%S %z" of local time in the C
 * locale, `Mon, 01 Mar 2021 09:44:08 +0100` (RFC 5322 §3.3 date-time).
 */
export function rfc5322Date(t: LocalTime): string {
  const off = Math.abs(t.utcOffsetMinutes);
  const zone = `${t.utcOffsetMinutes < 0 ? "-" : "+"}${two(Math.floor(off / 60))}${two(off % 60)}`;
  const day = DAYS[t.weekday] ?? "???";
  const month = MONTHS[t.month - 1] ?? "???";
  return `${day}, ${two(t.day)} ${month} ${t.year} ${two(t.hour)}:${two(t.minute)}:${two(t.second)} ${zone}`;
}

/**
 * The reverse-path / forward-path of MAIL FROM and RCPT TO (smtp.c mail_cmd, rcpt_cmd):
 * an address written `Name <a@b>` contributes its `<a@b>` part, a bare one is bracketed.
 */
export function envelopePath(address: string): string {
  const open = address.lastIndexOf("<");
  if (address.endsWith(">") && open >= 0) return address.slice(open);
  return `<${address}>`;
}

/** A header value on one line: CR and LF would end the header (or start a forged one). */
const oneLine = (s: string): string => s.replace(/\r\n|[\r\n]/g, " ");

export interface AlertMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly body: string;
  /** The Date header's value, e.g. from rfc5322Date. */
  readonly dateText: string;
}

/**
 * What the client sends after DATA's 354, terminator included: keepalived's headers in its
 * order (Date, From, Subject, X-Mailer, To with one recipient per folded line), an empty
 * line, the body, an empty line, and "." (smtp.c body_cmd). Beyond keepalived, which only
 * ever sends its fixed one-line bodies: bare CR/LF become CRLF and lines starting with "."
 * are dot-stuffed (RFC 5321 §4.5.2), so no body can end the message early.
 */
export function mailData(m: AlertMail): string {
  const to = m.to.map((a, i) => `${i === 0 ? "" : ",\r\n"} ${oneLine(a)}`).join("");
  const head =
    `Date: ${oneLine(m.dateText)}\r\n` +
    `From: ${oneLine(m.from)}\r\n` +
    `Subject: ${oneLine(m.subject)}\r\n` +
    "X-Mailer: Keepalived\r\n" +
    `To:${to}\r\n\r\n`;
  const body = m.body.replace(/\r\n|[\r\n]/g, "\r\n");
  return `${dotStuff(`${head}${body}\r\n\r\n`)}.\r\n`;
}

/** RFC 5321 §4.5.2: a line starting with "." gets one more. `s` ends with CRLF. */
export function dotStuff(s: string): string {
  return s.replace(/(^|\r\n)\./g, "$1..");
}
