/**
 * The SMTP reply reader and the alert dialogue without sockets: replies split anywhere,
 * multi-line replies, broken servers, keepalived's order of commands and its reaction to a
 * refused step. The reader is also fed seeded random bytes (FUZZ_SEED replays a run,
 * FUZZ_CASES scales it) and must never throw.
 */
import { describe, expect, test } from "bun:test";
import {
  type DialogueState,
  onReply,
  outcomeWithoutReply,
  REPLY_LINE_MAX_BYTES,
  REPLY_MAX_LINES,
  ReplyReader,
  type ReplyResult,
  replyText,
  type SmtpEnvelope,
  startDialogue,
} from "../../../src/core/notify/smtp-dialogue.ts";
import { mulberry32 } from "../../../src/core/prng.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const okReplies = (rs: ReplyResult[]) =>
  rs.map((r) => (r.ok ? { code: r.reply.code, lines: r.reply.lines } : { error: r.error }));

describe("ReplyReader", () => {
  test("single and multi-line replies (RFC 5321 §4.2)", () => {
    const r = new ReplyReader();
    expect(okReplies(r.push(bytes("220 mx.example ESMTP\r\n")))).toEqual([
      { code: 220, lines: ["220 mx.example ESMTP"] },
    ]);
    expect(
      okReplies(r.push(bytes("250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"))),
    ).toEqual([{ code: 250, lines: ["250-mx.example", "250-PIPELINING", "250 8BITMIME"] }]);
    expect(okReplies(r.push(bytes("354\r\n221 bye\r\n")))).toEqual([
      { code: 354, lines: ["354"] },
      { code: 221, lines: ["221 bye"] },
    ]);
  });

  test("a reply split at every byte boundary reads the same", () => {
    const text = "250-first\r\n250-second line\r\n250 last\r\n";
    const whole = okReplies(new ReplyReader().push(bytes(text)));
    for (let cut = 0; cut <= text.length; cut++) {
      const r = new ReplyReader();
      const got = [...r.push(bytes(text.slice(0, cut))), ...r.push(bytes(text.slice(cut)))];
      expect(okReplies(got)).toEqual(whole);
    }
    // And one byte at a time.
    const r = new ReplyReader();
    const got = [...bytes(text)].flatMap((b) => r.push(new Uint8Array([b])));
    expect(okReplies(got)).toEqual(whole);
  });

  test("a bare LF ends a line too; nothing is reported before the line ends", () => {
    const r = new ReplyReader();
    expect(r.push(bytes("220 partial"))).toEqual([]);
    expect(okReplies(r.push(bytes(" greeting\n")))).toEqual([
      { code: 220, lines: ["220 partial greeting"] },
    ]);
  });

  test("lines that are not replies are errors, and the reader recovers", () => {
    const r = new ReplyReader();
    const got = r.push(bytes("hello there\r\n25 short\r\n2500 long\r\n250 fine\r\n"));
    expect(got.map((x) => x.ok)).toEqual([false, false, false, true]);
    expect(got[0]?.ok === false && got[0].error).toContain("hello there");
  });

  test("bounded: an endless line and an endless multi-line reply are errors", () => {
    const r = new ReplyReader();
    const long = r.push(bytes(`250 ${"x".repeat(REPLY_LINE_MAX_BYTES + 10)}`));
    expect(long).toHaveLength(1);
    expect(long[0]?.ok).toBe(false);
    const many = new ReplyReader().push(bytes("250-x\r\n".repeat(REPLY_MAX_LINES + 5)));
    expect(many.some((x) => !x.ok)).toBe(true);
  });

  test("replyText escapes control characters", () => {
    expect(replyText({ code: 550, lines: ["550-no\u0007", "550 such user"] })).toBe(
      "550-no\\x07 / 550 such user",
    );
  });

  test("random bytes never make it throw (seeded)", () => {
    const seed = Number(process.env.FUZZ_SEED ?? 0x5317) >>> 0;
    const cases = Number(process.env.FUZZ_CASES ?? 3000);
    console.log(`smtp reply fuzz: FUZZ_SEED=${seed} FUZZ_CASES=${cases}`);
    const rnd = mulberry32(seed);
    const pieces = ["250", "-", " ", "\r", "\n", "\r\n", "220 ok\r\n", "5", "\u00ff", "\u0000"];
    let replies = 0;
    for (let i = 0; i < cases; i++) {
      const r = new ReplyReader();
      const chunks = 1 + Math.floor(rnd() * 6);
      for (let c = 0; c < chunks; c++) {
        const n = Math.floor(rnd() * (rnd() < 0.05 ? 9000 : 64));
        const b = new Uint8Array(n);
        for (let k = 0; k < n; k++) {
          if (rnd() < 0.3) {
            const p = bytes(pieces[Math.floor(rnd() * pieces.length)] ?? "");
            b.set(p.subarray(0, n - k), k);
            k += p.length - 1;
          } else b[k] = Math.floor(rnd() * 256);
        }
        for (const res of r.push(b)) {
          if (!res.ok) continue;
          replies++;
          expect(res.reply.code).toBeGreaterThanOrEqual(0);
          expect(res.reply.code).toBeLessThan(1000);
          expect(res.reply.lines.length).toBeGreaterThan(0);
        }
      }
    }
    // The generator must reach valid replies, or the test proves little.
    expect(replies).toBeGreaterThan(0);
  });
});

const ENV: SmtpEnvelope = {
  heloName: "lb1.example",
  from: "Agent <agent@example.org>",
  to: ["a@example.org", "Bob <b@example.org>"],
  data: "Date: d\r\n\r\nbody\r\n\r\n.\r\n",
};
const reply = (code: number, text = "ok") => ({ code, lines: [`${code} ${text}`] });

/** Plays a server's codes against the dialogue; returns what the client sent and the end. */
function play(codes: number[]): { sent: string[]; state: DialogueState; done: boolean } {
  let state = startDialogue();
  const sent: string[] = [];
  let done = false;
  for (const c of codes) {
    const step = onReply(state, ENV, reply(c));
    state = step.state;
    if (step.send !== undefined) sent.push(step.send);
    done = step.done;
    if (done) break;
  }
  return { sent, state, done };
}

describe("dialogue", () => {
  test("keepalived's order: HELO, MAIL FROM, RCPT TO each, DATA, message, QUIT", () => {
    const r = play([220, 250, 250, 250, 250, 354, 250, 221]);
    expect(r.sent).toEqual([
      "HELO lb1.example\r\n",
      "MAIL FROM:<agent@example.org>\r\n",
      "RCPT TO:<a@example.org>\r\n",
      "RCPT TO:<b@example.org>\r\n",
      "DATA\r\n",
      ENV.data,
      "QUIT\r\n",
    ]);
    expect(r.done).toBe(true);
    expect(r.state.outcome).toEqual({ sent: true });
  });

  test("the message counts as sent once the server took it, whatever QUIT brings", () => {
    const r = play([220, 250, 250, 250, 250, 354, 250]);
    expect(r.done).toBe(false);
    expect(outcomeWithoutReply(r.state)).toEqual({ sent: true });
    expect(play([220, 250, 250, 250, 250, 354, 250, 500]).done).toBe(true);
  });

  test("a refused recipient drops the whole alert and says QUIT (smtp.c)", () => {
    const r = play([220, 250, 250, 250, 550]);
    expect(r.sent.at(-1)).toBe("QUIT\r\n");
    expect(r.sent.filter((s) => s.startsWith("RCPT"))).toHaveLength(2);
    expect(r.sent.some((s) => s.startsWith("DATA"))).toBe(false);
    expect(r.state.outcome).toMatchObject({
      sent: false,
      stage: "RCPT TO",
      recipient: "Bob <b@example.org>",
      reply: { code: 550 },
    });
    expect(play([220, 250, 250, 250, 550, 221]).done).toBe(true);
    expect(play([220, 250, 250, 550]).state.outcome).toMatchObject({ recipient: "a@example.org" });
  });

  test("every stage checks its code", () => {
    const stages: [number[], string][] = [
      [[554], "greeting"],
      [[220, 501], "HELO"],
      [[220, 250, 451], "MAIL FROM"],
      [[220, 250, 250, 250, 250, 503], "DATA"],
      [[220, 250, 250, 250, 250, 354, 552], "message"],
      // 250 instead of 354 to DATA is wrong too.
      [[220, 250, 250, 250, 250, 250], "DATA"],
    ];
    for (const [codes, stage] of stages) {
      const r = play(codes);
      expect(r.state.outcome).toMatchObject({ sent: false, stage });
      expect(r.sent.at(-1)).toBe("QUIT\r\n");
      expect(r.sent.filter((s) => s === "QUIT\r\n")).toHaveLength(1);
    }
  });

  test("without a reply the outcome names the stage it stopped at", () => {
    expect(outcomeWithoutReply(startDialogue())).toEqual({ sent: false, stage: "greeting" });
    expect(outcomeWithoutReply(play([220, 250]).state)).toEqual({
      sent: false,
      stage: "MAIL FROM",
    });
  });
});
