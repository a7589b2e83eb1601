/**
 * The client side of keepalived's SMTP alert dialogue, without I/O (core/smtp.c SMTP_FSM):
 * greeting 220 → HELO 250 → MAIL FROM 250 → RCPT TO 250 per recipient → DATA 354 → message
 * 250 → QUIT 221. Any other reply code abandons the alert: the client says QUIT and the
 * message is dropped, as keepalived does (a 550 to one RCPT drops the whole alert). The
 * shell feeds bytes to ReplyReader and replies to `onReply`, and writes what comes back.
 */
import { envelopePath } from "./format.ts";

// RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets. We allow more before calling the
// server broken, and bound a multi-line reply too, so a hostile server can't grow memory.
export const REPLY_LINE_MAX_BYTES = 4096;
export const REPLY_MAX_LINES = 128;

/** One complete reply: its code and its lines (CR/LF removed), continuation lines first. */
export interface SmtpReply {
  readonly code: number;
  readonly lines: readonly string[];
}

export type ReplyResult =
  | { readonly ok: true; readonly reply: SmtpReply }
  | { readonly ok: false; readonly error: string };

const LINE = /^(\d{3})([ -].*)?$/s;

/**
 * Splits the server's byte stream into replies (RFC 5321 §4.2): `NNN-text` continues a
 * reply, `NNN text` or a bare `NNN` ends it. Lines end in CRLF; a bare LF is accepted too.
 * A line that is not a reply, too long a line or too many lines is an error, after which
 * the reader starts afresh. Never throws, whatever the bytes.
 */
export class ReplyReader {
  private pending: Uint8Array = new Uint8Array(0);
  private lines: string[] = [];
  private readonly decoder = new TextDecoder("utf-8");

  push(chunk: Uint8Array): ReplyResult[] {
    const out: ReplyResult[] = [];
    const data = new Uint8Array(this.pending.length + chunk.length);
    data.set(this.pending);
    data.set(chunk, this.pending.length);
    let start = 0;
    for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
      const end = nl > start && data[nl - 1] === 13 ? nl - 1 : nl;
      const r = this.line(this.decoder.decode(data.subarray(start, end)), end - start);
      if (r) out.push(r);
      start = nl + 1;
    }
    this.pending = data.slice(start);
    if (this.pending.length > REPLY_LINE_MAX_BYTES) {
      this.pending = new Uint8Array(0);
      this.lines = [];
      out.push({ ok: false, error: `reply line longer than ${REPLY_LINE_MAX_BYTES} bytes` });
    }
    return out;
  }

  private line(text: string, bytes: number): ReplyResult | undefined {
    const m = LINE.exec(text);
    if (!m || bytes > REPLY_LINE_MAX_BYTES) {
      this.lines = [];
      return { ok: false, error: `malformed reply line "${printable(text)}"` };
    }
    this.lines.push(text);
    if (m[2]?.startsWith("-")) {
      if (this.lines.length < REPLY_MAX_LINES) return undefined;
      this.lines = [];
      return { ok: false, error: `reply longer than ${REPLY_MAX_LINES} lines` };
    }
    // The final line's code is the reply's (keepalived reads the last line's code too).
    const reply = { code: Number(m[1]), lines: this.lines };
    this.lines = [];
    return { ok: true, reply };
  }
}

/** Text safe for a log line: control characters escaped, at most `maxChars`. */
export function printable(s: string, maxChars = 200): string {
  const cut = s.length > maxChars ? `${s.slice(0, maxChars)}…` : s;
  return cut.replace(
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** A reply as one log-friendly line: "550 5.1.1 no such user". */
export function replyText(r: SmtpReply): string {
  return printable(r.lines.join(" / "), 300);
}

export type SmtpStage = "greeting" | "HELO" | "MAIL FROM" | "RCPT TO" | "DATA" | "message" | "QUIT";

/** The code each stage waits for (smtp.c SMTP_FSM expected_code). */
export const EXPECTED_CODE: Readonly<Record<SmtpStage, number>> = {
  greeting: 220,
  HELO: 250,
  "MAIL FROM": 250,
  "RCPT TO": 250,
  DATA: 354,
  message: 250,
  QUIT: 221,
};

export interface SmtpEnvelope {
  readonly heloName: string;
  /** notification_email_from, possibly `Name <a@b>`. */
  readonly from: string;
  /** At least one recipient. */
  readonly to: readonly string[];
  /** The DATA payload with its terminator (format.ts mailData). */
  readonly data: string;
}

export type SmtpOutcome =
  | { readonly sent: true }
  | {
      readonly sent: false;
      readonly stage: SmtpStage;
      /** The offending reply, when the server gave one. */
      readonly reply?: SmtpReply;
      /** The recipient refused at RCPT TO. */
      readonly recipient?: string;
    };

export interface DialogueState {
  readonly stage: SmtpStage;
  /** The recipient whose RCPT TO is outstanding. */
  readonly rcptIndex: number;
  /** Known once the message was accepted or refused; QUIT follows either way. */
  readonly outcome?: SmtpOutcome;
}

export interface DialogueStep {
  readonly state: DialogueState;
  /** Bytes to write now, if any. */
  readonly send?: string;
  /** The dialogue is over: close the connection. */
  readonly done: boolean;
}

export function startDialogue(): DialogueState {
  return { stage: "greeting", rcptIndex: 0 };
}

const rcpt = (env: SmtpEnvelope, i: number): string =>
  `RCPT TO:${envelopePath(env.to[i] ?? "")}\r\n`;

/** What to send next on the expected reply; `undefined` for the last stage. */
function advance(s: DialogueState, env: SmtpEnvelope): DialogueStep {
  const go = (stage: SmtpStage, send: string, extra: Partial<DialogueState> = {}) => ({
    state: { ...s, ...extra, stage },
    send,
    done: false,
  });
  switch (s.stage) {
    case "greeting":
      return go("HELO", `HELO ${env.heloName}\r\n`);
    case "HELO":
      return go("MAIL FROM", `MAIL FROM:${envelopePath(env.from)}\r\n`);
    case "MAIL FROM":
      return go("RCPT TO", rcpt(env, 0), { rcptIndex: 0 });
    case "RCPT TO": {
      const next = s.rcptIndex + 1;
      if (next < env.to.length) return go("RCPT TO", rcpt(env, next), { rcptIndex: next });
      return go("DATA", "DATA\r\n");
    }
    case "DATA":
      return go("message", env.data);
    case "message":
      return go("QUIT", "QUIT\r\n", { outcome: { sent: true } });
    case "QUIT":
      return { state: s, done: true };
  }
}

/** The next step after a complete reply from the server. */
export function onReply(s: DialogueState, env: SmtpEnvelope, reply: SmtpReply): DialogueStep {
  // Whatever the server says to QUIT, we are done (keepalived would QUIT again forever).
  if (s.stage === "QUIT") return { state: s, done: true };
  if (reply.code === EXPECTED_CODE[s.stage]) return advance(s, env);
  const recipient = s.stage === "RCPT TO" ? env.to[s.rcptIndex] : undefined;
  const outcome: SmtpOutcome = {
    sent: false,
    stage: s.stage,
    reply,
    ...(recipient !== undefined ? { recipient } : {}),
  };
  return { state: { ...s, stage: "QUIT", outcome }, send: "QUIT\r\n", done: false };
}

/** The alert's fate when the conversation ends without a reply (timeout, close, error). */
export function outcomeWithoutReply(s: DialogueState): SmtpOutcome {
  return s.outcome ?? { sent: false, stage: s.stage };
}
