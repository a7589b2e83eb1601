import { describe, expect, test } from "bun:test";
import {
  SMTP_BUFF_MAX,
  type SmtpDialogue,
  type SmtpStep,
  smtpAfterSend,
  smtpReceive,
  smtpStart,
  smtpStatus,
} from "../../../src/core/check/smtp.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const HELO = "checker.example";

/** Feed chunks in order; returns every step, stopping at done/fail. */
function run(chunks: string[]): SmtpStep[] {
  let d: SmtpDialogue = smtpStart();
  const steps: SmtpStep[] = [];
  for (const c of chunks) {
    let step = smtpReceive(d, enc(c), HELO);
    for (;;) {
      steps.push(step);
      if (step.kind === "done" || step.kind === "fail") return steps;
      d = step.dialogue;
      if (step.kind === "wait") break;
      step = smtpAfterSend(d, HELO);
    }
  }
  return steps;
}

const last = (s: SmtpStep[]) => s.at(-1);
const sends = (s: SmtpStep[]) => s.flatMap((x) => (x.kind === "send" ? [x.text] : []));

describe("smtpStatus (check_smtp.c smtp_get_status)", () => {
  test("three digits then a space or the end", () => {
    expect(smtpStatus("220 mail.example ESMTP")).toBe(220);
    expect(smtpStatus("250")).toBe(250);
    expect(smtpStatus("220-mail.example")).toBe(-1);
    expect(smtpStatus("220\r")).toBe(-1);
    expect(smtpStatus("2200 x")).toBe(-1);
    expect(smtpStatus("22 x")).toBe(-1);
    expect(smtpStatus(" 22 x")).toBe(22);
    expect(smtpStatus("abc")).toBe(-1);
    expect(smtpStatus("")).toBe(-1);
  });
});

describe("SMTP dialogue", () => {
  test("the happy path: HELO after 220, QUIT after 250, done after any line", () => {
    const s = run(["220 mx ESMTP\r\n", "250 mx\r\n", "221 bye\r\n"]);
    expect(sends(s)).toEqual([`HELO ${HELO}\r\n`, "QUIT\r\n"]);
    expect(last(s)).toEqual({ kind: "done" });
  });

  test("lines split across reads, and several lines in one read", () => {
    const split = run(["22", "0 mx", "\r\n", "2", "50 ok\r\n", "x\n"]);
    expect(last(split)).toEqual({ kind: "done" });
    // a read that carries the newline and the start of the next reply loses that start
    expect(last(run(["220 mx\r\n2", "50 ok\r\n"]))).toEqual({ kind: "fail", why: "helo" });
    // whatever follows the first newline in the same read is dropped (smtp_get_line)
    const dropped = run(["220 mx\r\n250 early\r\n"]);
    expect(last(dropped)?.kind).toBe("wait");
    expect(sends(dropped)).toEqual([`HELO ${HELO}\r\n`]);
  });

  test("bad banner: another code, a multi-line greeting, a bare 220\\r", () => {
    expect(last(run(["554 go away\r\n"]))).toEqual({ kind: "fail", why: "banner" });
    expect(last(run(["220-mx ESMTP\r\n220 mx\r\n"]))).toEqual({ kind: "fail", why: "banner" });
    expect(last(run(["220\r\n"]))).toEqual({ kind: "fail", why: "banner" });
    expect(last(run(["220\n"]))?.kind).toBe("wait");
  });

  test("bad HELO reply", () => {
    expect(last(run(["220 mx\r\n", "501 syntax\r\n"]))).toEqual({ kind: "fail", why: "helo" });
  });

  test("garbage: a NUL hides the newline; a full buffer wraps and reading goes on", () => {
    expect(last(run(["220 mx\0\r\n"]))?.kind).toBe("wait");
    const big = "x".repeat(SMTP_BUFF_MAX - 1);
    // the first 511 bytes fill the buffer and are thrown away; "220 ok" then starts afresh
    expect(sends(run([`${big}220 ok\r\n`]))).toEqual([`HELO ${HELO}\r\n`]);
    // 511 bytes with no newline in one read, then the greeting in the next
    expect(sends(run([big, "220 ok\r\n"]))).toEqual([`HELO ${HELO}\r\n`]);
  });
});
