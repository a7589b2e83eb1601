/**
 * SMTP_CHECK probe (keepalived 2.2.7 check/check_smtp.c): connect, read the 220 greeting,
 * "HELO <helo_name>", expect 250, "QUIT", read one more line. The dialogue itself is pure
 * (core/check/smtp.ts); this is the socket around it.
 *
 * Retries live here, not in the checker machine: check_smtp.c smtp_final spends retries
 * whatever the checker's state (`++retry_it <= retry`, reset at every delay_loop round by
 * smtp_start_check_thread), unlike the TCP epilogue that only retries while up. So one probe
 * is one keepalived round: up to retry + 1 attempts spaced by delay_before_retry, and the
 * caller runs the machine with retry 0 — which gives exactly smtp_final's verdicts.
 *
 * Timeouts are keepalived's: connect_timeout bounds the connect and then each wait for data
 * (it re-arms on every read), so a whole attempt can last longer than connect_timeout.
 * The failure reason is keepalived's text, as it appears in the SMTP alert body.
 */
import { connect, type Socket } from "node:net";
import {
  type SmtpDialogue,
  type SmtpStep,
  smtpAfterSend,
  smtpFailureText,
  smtpReceive,
  smtpStart,
} from "../core/check/smtp.ts";
import { type CheckProbeResult, elapsedMs } from "./check-tcp.ts";

export interface SmtpCheckSpec {
  readonly host: string;
  readonly port: number;
  readonly bindAddress?: string;
  readonly bindPort?: number;
  readonly connectTimeoutMs: number;
  readonly heloName: string;
  /** Extra attempts within this probe (the checker's `retry`). */
  readonly retry: number;
  readonly delayBeforeRetryMs: number;
}

/** inet_sockaddrtopair: "[addr]:port". */
function pair(spec: SmtpCheckSpec): string {
  return `[${spec.host}]:${spec.port}`;
}

/** One connection and dialogue; resolves with undefined on success, else keepalived's text. */
export function smtpAttempt(spec: SmtpCheckSpec): Promise<string | undefined> {
  const server = pair(spec);
  return new Promise((resolve) => {
    let sock: Socket | undefined;
    let done = false;
    let connected = false;
    let dialogue: SmtpDialogue = smtpStart();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (why?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock?.destroy();
      resolve(why);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => finish(smtpFailureText(connected ? "read-timeout" : "connect-timeout", server)),
        spec.connectTimeoutMs,
      );
    };
    const apply = (step: SmtpStep): void => {
      if (step.kind === "done") {
        finish();
        return;
      }
      if (step.kind === "fail") {
        finish(smtpFailureText(step.why, server));
        return;
      }
      dialogue = step.dialogue;
      if (step.kind === "wait") return;
      sock?.write(step.text, "latin1");
      arm();
      apply(smtpAfterSend(dialogue, spec.heloName));
    };
    arm();
    try {
      const s = connect({
        host: spec.host,
        port: spec.port,
        ...(spec.bindAddress !== undefined ? { localAddress: spec.bindAddress } : {}),
        ...(spec.bindPort !== undefined ? { localPort: spec.bindPort } : {}),
      });
      sock = s;
      s.once("connect", () => {
        connected = true;
        arm();
      });
      s.on("data", (chunk: Buffer) => {
        if (done) return;
        arm();
        apply(smtpReceive(dialogue, new Uint8Array(chunk), spec.heloName));
      });
      s.once("error", () =>
        finish(smtpFailureText(connected ? "read-failure" : "connect-error", server)),
      );
      s.once("close", () =>
        finish(smtpFailureText(connected ? "read-failure" : "connect-error", server)),
      );
    } catch {
      finish(smtpFailureText("connect-error", server));
    }
  });
}

/** One keepalived round: attempts until one succeeds or retry + 1 have failed. */
export async function probeSmtp(spec: SmtpCheckSpec): Promise<CheckProbeResult> {
  const startMs = performance.now();
  let why: string | undefined;
  for (let attempt = 0; attempt <= spec.retry; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, spec.delayBeforeRetryMs));
    why = await smtpAttempt(spec);
    if (why === undefined) return { ok: true, latencyMs: elapsedMs(startMs) };
  }
  return { ok: false, reason: why ?? "no attempt", latencyMs: elapsedMs(startMs) };
}
