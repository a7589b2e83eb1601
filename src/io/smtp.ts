/**
 * SMTP alerts (reference §1.3; keepalived core/smtp.c). Each alert is its own connection
 * and dialogue (core/notify/smtp-dialogue.ts): HELO, MAIL FROM, one RCPT TO per recipient,
 * DATA, QUIT. `smtp_connect_timeout` bounds the connection (name lookup included) and every
 * wait for a reply, as keepalived arms smtp_connection_to for each. A failure is logged once
 * with the server's reply and the alert is dropped: no retry, as in keepalived.
 *
 * `send` only queues and returns: the work happens on the event loop, so a VRRP transition
 * never waits for a mail server. Alerts go out one connection at a time (`concurrency`);
 * beyond `queueLimit` waiting alerts the oldest is dropped with a warning, so a dead relay
 * costs bounded memory and at most one connection attempt per alert.
 */
import { connect, type Socket } from "node:net";
import {
  type AlertEvent,
  alertText,
  type LocalTime,
  mailData,
  rfc5322Date,
} from "../core/notify/format.ts";
import {
  type DialogueState,
  onReply,
  outcomeWithoutReply,
  ReplyReader,
  replyText,
  type SmtpEnvelope,
  type SmtpOutcome,
  startDialogue,
} from "../core/notify/smtp-dialogue.ts";

export interface SmtpLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface SmtpAlerterConfig {
  /** smtp_server: an address or a host name (looked up for every alert), and its port. */
  readonly server: { readonly host: string; readonly port: number };
  readonly heloName: string;
  /** notification_email_from (may be `Name <a@b>`). */
  readonly from: string;
  /** notification_email: every alert goes to all of them in one message. */
  readonly to: readonly string[];
  /** smtp_connect_timeout in ms: connection, and each reply. */
  readonly connectTimeoutMs: number;
  readonly routerId: string;
  /** Waiting alerts kept at most (default 32); the oldest is dropped beyond. */
  readonly queueLimit?: number;
  /** Alerts in flight at once (default 1). */
  readonly concurrency?: number;
  /** Told how each alert ended (tests, metrics). */
  readonly onOutcome?: (subject: string, outcome: AlertOutcome) => void;
}

/** How an alert ended: accepted, or why not (stage, and the server's reply if any). */
export type AlertOutcome =
  | { readonly sent: true }
  | { readonly sent: false; readonly reason: string };

interface Job {
  readonly subject: string;
  readonly body: string;
  readonly dateText: string;
}

export const DEFAULT_QUEUE_LIMIT = 32;

/** The local time now, broken down as strftime would (the Date header). */
export function localTimeNow(d = new Date()): LocalTime {
  return {
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
    weekday: d.getDay(),
    utcOffsetMinutes: -d.getTimezoneOffset(),
  };
}

export class SmtpAlerter {
  private readonly queue: Job[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly idleWaiters: (() => void)[] = [];
  private inFlight = 0;
  private counts = { sent: 0, failed: 0, dropped: 0 };
  private droppedInSpell = 0;
  private closed = false;

  constructor(
    private readonly cfg: SmtpAlerterConfig,
    private readonly log: SmtpLog,
  ) {
    // The first local-time conversion loads the time zone data (~10 ms measured): pay it
    // here rather than in the first send(), which runs in the middle of a transition.
    localTimeNow();
  }

  /** keepalived sends nothing without recipients or a server (smtp.c smtp_alert). */
  get enabled(): boolean {
    return this.cfg.to.length > 0 && this.cfg.server.host !== "" && !this.closed;
  }

  /**
   * Queues one alert with a ready subject and body; returns at once. False when alerts are
   * off (no recipient, no server, closed). `dateText` defaults to now, local time.
   */
  send(subject: string, body: string, dateText?: string): boolean {
    if (!this.enabled) return false;
    const limit = Math.max(1, this.cfg.queueLimit ?? DEFAULT_QUEUE_LIMIT);
    while (this.queue.length >= limit) {
      const old = this.queue.shift();
      this.counts.dropped++;
      if (this.droppedInSpell++ === 0)
        this.log.warn(
          `SMTP alert queue full (${limit}): dropping the oldest alerts, first "${old?.subject}"`,
        );
    }
    this.queue.push({ subject, body, dateText: dateText ?? rfc5322Date(localTimeNow()) });
    queueMicrotask(() => this.pump());
    return true;
  }

  /** Queues the alert for an event, worded as keepalived words it (format.ts alertText). */
  alert(e: AlertEvent, dateText?: string): boolean {
    const t = alertText(e, this.cfg.routerId);
    return this.send(t.subject, t.body, dateText);
  }

  get stats(): { queued: number; inFlight: number; sent: number; failed: number; dropped: number } {
    return { queued: this.queue.length, inFlight: this.inFlight, ...this.counts };
  }

  /** Resolves once nothing is queued or in flight. */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued alerts and cuts the connections in flight (shutdown). */
  close(): void {
    this.closed = true;
    this.counts.dropped += this.queue.length;
    this.queue.length = 0;
    for (const s of this.sockets) s.destroy();
    this.settleIdle();
  }

  private pump(): void {
    const concurrency = Math.max(1, this.cfg.concurrency ?? 1);
    while (!this.closed && this.inFlight < concurrency) {
      const job = this.queue.shift();
      if (!job) break;
      this.inFlight++;
      this.deliver(job).then((outcome) => {
        this.inFlight--;
        this.report(job, outcome);
        this.pump();
        this.settleIdle();
      });
    }
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.queue.length > 0 || this.inFlight > 0) return;
    if (this.droppedInSpell > 0) {
      this.log.info(`SMTP alert queue drained; ${this.droppedInSpell} alerts were dropped`);
      this.droppedInSpell = 0;
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private report(job: Job, outcome: AlertOutcome): void {
    if (outcome.sent) {
      this.counts.sent++;
      this.log.info(`SMTP alert sent to ${this.server()}: ${job.subject}`);
    } else {
      this.counts.failed++;
      this.log.warn(`SMTP alert "${job.subject}" not sent: ${outcome.reason}`);
    }
    try {
      this.cfg.onOutcome?.(job.subject, outcome);
    } catch (e) {
      this.log.warn(`SMTP alert outcome callback failed: ${String(e)}`);
    }
  }

  /** `[host]:port`, the way keepalived names its SMTP server in logs. */
  private server(): string {
    return `[${this.cfg.server.host}]:${this.cfg.server.port}`;
  }

  private envelope(job: Job): SmtpEnvelope {
    const { heloName, from, to } = this.cfg;
    const data = mailData({
      from,
      to,
      subject: job.subject,
      body: job.body,
      dateText: job.dateText,
    });
    return { heloName, from, to, data };
  }

  /** One connection, one dialogue; resolves (never rejects) with how it ended. */
  private deliver(job: Job): Promise<AlertOutcome> {
    return new Promise((resolve) => {
      const env = this.envelope(job);
      const timeoutMs = this.cfg.connectTimeoutMs;
      const reader = new ReplyReader();
      let state: DialogueState = startDialogue();
      let outcome: AlertOutcome | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const sock = connect({ host: this.cfg.server.host, port: this.cfg.server.port });
      this.sockets.add(sock);

      const settle = (o: AlertOutcome): void => {
        outcome ??= o;
      };
      const finish = (): void => {
        clearTimeout(timer);
        if (!this.sockets.delete(sock)) return;
        sock.destroy();
        resolve(
          outcome ?? describe(outcomeWithoutReply(state), this.server(), "connection closed"),
        );
      };
      const arm = (why: string): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          settle(
            describe(outcomeWithoutReply(state), this.server(), `no ${why} within ${timeoutMs} ms`),
          );
          // keepalived says QUIT after a read timeout; nobody is listening, so don't wait.
          if (sock.readyState === "open") sock.end("QUIT\r\n");
          finish();
        }, timeoutMs);
      };

      arm("connection");
      sock.on("connect", () => arm("greeting"));
      sock.on("data", (chunk: Buffer) => {
        for (const r of reader.push(chunk)) {
          if (!r.ok) {
            settle(describe(outcomeWithoutReply(state), this.server(), r.error));
            finish();
            return;
          }
          const step = onReply(state, env, r.reply);
          state = step.state;
          if (state.outcome) settle(describe(state.outcome, this.server()));
          if (step.done) {
            finish();
            return;
          }
          if (step.send !== undefined) sock.write(step.send);
          arm(`reply to ${state.stage}`);
        }
      });
      sock.on("error", (e: Error) => {
        settle(describe(outcomeWithoutReply(state), this.server(), e.message));
        finish();
      });
      sock.on("close", () => finish());
    });
  }
}

/** An outcome as a log phrase naming the stage, the refused recipient and the reply. */
function describe(o: SmtpOutcome, server: string, why?: string): AlertOutcome {
  if (o.sent) return { sent: true };
  const who = o.recipient !== undefined ? ` for ${o.recipient}` : "";
  if (o.reply)
    return {
      sent: false,
      reason: `${server} answered "${replyText(o.reply)}" to ${o.stage}${who}`,
    };
  return { sent: false, reason: `${server}: ${why ?? "failed"} (during ${o.stage})` };
}
