/**
 * Random byte streams, cut into random reads, through the SMTP_CHECK dialogue: it must
 * always return a typed step (never throw), send only HELO then QUIT, in that order, and
 * never hold more than keepalived's 512-byte line buffer.
 * FUZZ_CASES scales the run (default 5 000); FUZZ_SEED replays one.
 */
import { expect, test } from "bun:test";
import {
  SMTP_BUFF_MAX,
  type SmtpDialogue,
  type SmtpStep,
  smtpAfterSend,
  smtpReceive,
  smtpStart,
} from "../../src/core/check/smtp.ts";
import { Rng } from "../config/lines/rand.ts";

const CASES = Number(process.env.FUZZ_CASES ?? 5_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5a7) >>> 0;
const caseRng = (i: number) => new Rng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
const PIECES = [
  "220 ok\r\n",
  "250 ok\r\n",
  "221 bye\r\n",
  "220-x\r\n",
  "\r\n",
  "\n",
  "\0",
  "2",
  "50 ",
  "x".repeat(600),
];

test(`the SMTP dialogue survives ${CASES} random streams (FUZZ_SEED=${SEED})`, () => {
  const ends = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const r = caseRng(i);
    const parts: string[] = [];
    for (let k = r.int(1, 8); k > 0; k--)
      parts.push(r.bool(0.7) ? r.pick(PIECES) : String.fromCharCode(...r.bytes(r.int(1, 40))));
    const stream = new TextEncoder().encode(parts.join(""));
    // reads either cut anywhere or follow the pieces (one reply per read, as servers send)
    const cuts = r.bool() ? undefined : parts.map((p) => new TextEncoder().encode(p).length);
    let d: SmtpDialogue = smtpStart();
    const sent: string[] = [];
    let end = "wait";
    let at = 0;
    try {
      outer: while (at < stream.length) {
        const n = cuts === undefined ? r.int(1, 64) : (cuts.shift() ?? stream.length);
        let step: SmtpStep = smtpReceive(d, stream.subarray(at, at + n), "h");
        at += n;
        for (;;) {
          if (step.kind === "done" || step.kind === "fail") {
            end = step.kind === "fail" ? `fail-${step.why}` : "done";
            break outer;
          }
          d = step.dialogue;
          expect(d.buffer.length).toBeLessThan(SMTP_BUFF_MAX);
          if (step.kind === "wait") break;
          sent.push(step.text);
          step = smtpAfterSend(d, "h");
        }
      }
    } catch (e) {
      throw new Error(`case ${i} (FUZZ_SEED=${SEED}) threw: ${String(e)}`);
    }
    expect(["HELO h\r\n", "QUIT\r\n"].slice(0, sent.length)).toEqual(sent);
    if (end === "done") expect(sent.length).toBe(2);
    ends.set(end, (ends.get(end) ?? 0) + 1);
  }
  for (const k of ["done", "fail-banner", "fail-helo", "wait"])
    expect(ends.get(k) ?? 0).toBeGreaterThan(0);
});
