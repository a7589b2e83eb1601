/**
 * The SMTP_CHECK dialogue (keepalived 2.2.7 check/check_smtp.c smtp_engine_thread): read the
 * greeting, which must be 220; send "HELO <helo_name>"; the reply must be 250; send "QUIT";
 * any line back ends the check with success. Pure: the shell feeds received bytes and
 * performs the sends this returns.
 *
 * Line reading copies keepalived's smtp_get_line / smtp_get_line_cb, oddities included:
 * - each expected line starts from an empty buffer; whatever followed the first newline in
 *   the same read is dropped;
 * - a read takes at most the free space of a 512-byte buffer (SMTP_BUFF_MAX, one byte kept
 *   for the terminator); a buffer that fills without a newline is cleared and reading goes
 *   on; bytes beyond that stay queued (as in the kernel) for the next read;
 * - the newline is searched as a C string, so a NUL byte hides everything after it;
 * - only the first line of a reply is looked at: a multi-line "220-" greeting is refused,
 *   and so is a bare "220\r" (smtp_get_status wants exactly three digits then a space or
 *   the end of the string, and the CR is still there).
 */

/** check_smtp.h SMTP_BUFF_MAX. */
export const SMTP_BUFF_MAX = 512;
/** check_smtp.h SMTP_DEFAULT_HELO. */
export const SMTP_DEFAULT_HELO = "smtpchecker.keepalived.org";

export type SmtpStage = "banner" | "helo" | "quit";

export interface SmtpDialogue {
  readonly stage: SmtpStage;
  /** The line being read (keepalived's buff up to buff_ctr). */
  readonly buffer: Uint8Array;
  /** Received bytes keepalived would not have read yet (still in the socket). */
  readonly queued: Uint8Array;
}

export type SmtpStep =
  | { readonly kind: "wait"; readonly dialogue: SmtpDialogue }
  | { readonly kind: "send"; readonly dialogue: SmtpDialogue; readonly text: string }
  | { readonly kind: "done" }
  | { readonly kind: "fail"; readonly why: "banner" | "helo" };

const EMPTY = new Uint8Array(0);
const NL = 0x0a;

export function smtpStart(): SmtpDialogue {
  return { stage: "banner", buffer: EMPTY, queued: EMPTY };
}

/**
 * check_smtp.c smtp_get_status: the reply code, or -1 unless the line starts with exactly
 * three digits followed by a space or its end (strtoul's leading blanks and sign count
 * toward the three characters, so they never make a 220 or 250).
 */
export function smtpStatus(line: string): number {
  const m = /^[ \t\n\v\f\r]*[+-]?\d+/.exec(line);
  if (m === null || m[0].length !== 3) return -1;
  const next = line[3];
  if (next !== undefined && next !== " ") return -1;
  const digits = m[0].replace(/^[ \t\n\v\f\r]*/, "");
  const n = Number(digits);
  return Number.isFinite(n) ? n : -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The line in `buf` if a newline comes before any NUL (strchr on a C string). */
function lineOf(buf: Uint8Array): string | undefined {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0) return undefined;
    if (c === NL) return new TextDecoder("latin1").decode(buf.subarray(0, i));
  }
  return undefined;
}

/** Read what is queued as keepalived's reads would, until a line or nothing is left. */
function readLine(d: SmtpDialogue): { dialogue: SmtpDialogue; line?: string } {
  let buffer = d.buffer;
  let queued = d.queued;
  while (queued.length > 0) {
    // smtp_get_line_cb: a full buffer wraps to empty before the next read.
    if (buffer.length >= SMTP_BUFF_MAX - 1) buffer = EMPTY;
    const take = Math.min(queued.length, SMTP_BUFF_MAX - 1 - buffer.length);
    buffer = concat(buffer, queued.subarray(0, take));
    queued = queued.subarray(take);
    const line = lineOf(buffer);
    if (line !== undefined) return { dialogue: { stage: d.stage, buffer: EMPTY, queued }, line };
  }
  return { dialogue: { stage: d.stage, buffer, queued } };
}

/** Bytes arrived: advance the dialogue as far as they allow. */
export function smtpReceive(d: SmtpDialogue, bytes: Uint8Array, heloName: string): SmtpStep {
  const r = readLine({ ...d, queued: concat(d.queued, bytes) });
  if (r.line === undefined) return { kind: "wait", dialogue: r.dialogue };
  const next = (stage: SmtpStage): SmtpDialogue => ({ ...r.dialogue, stage });
  switch (d.stage) {
    case "banner":
      return smtpStatus(r.line) === 220
        ? { kind: "send", dialogue: next("helo"), text: `HELO ${heloName}\r\n` }
        : { kind: "fail", why: "banner" };
    case "helo":
      return smtpStatus(r.line) === 250
        ? { kind: "send", dialogue: next("quit"), text: "QUIT\r\n" }
        : { kind: "fail", why: "helo" };
    case "quit":
      return { kind: "done" };
  }
}

/** After a send: lines already queued are read at once (keepalived's next read returns them). */
export function smtpAfterSend(d: SmtpDialogue, heloName: string): SmtpStep {
  return d.queued.length > 0 ? smtpReceive(d, EMPTY, heloName) : { kind: "wait", dialogue: d };
}

/** keepalived's failure texts (check_smtp.c), with the server as "[addr]:port". */
export function smtpFailureText(
  what:
    | "banner"
    | "helo"
    | "read-timeout"
    | "read-failure"
    | "write-failure"
    | "connect-error"
    | "connect-timeout",
  server: string,
): string {
  switch (what) {
    case "banner":
      return `Bad greeting banner from server ${server}`;
    case "helo":
      return `Bad HELO response from server ${server}`;
    case "read-timeout":
      return `Read timeout from server ${server}`;
    case "read-failure":
      return `Read failure from server ${server}`;
    case "write-failure":
      return `Write failure to server ${server}`;
    case "connect-error":
      return `Error connecting to server ${server}`;
    case "connect-timeout":
      return `Connection timeout to server ${server}`;
  }
}
