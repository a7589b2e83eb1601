/**
 * SmtpAlerter against a scripted SMTP server on 127.0.0.1 (test/helpers/smtp-server.ts):
 * the dialogue and message byte for byte, several recipients, refusals, a server that says
 * nothing, one that never accepts the connection, one that hangs up, the bounded queue —
 * and that the caller's event loop keeps running while a mail server stalls.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { lookup } from "node:dns/promises";
import { alertText } from "../../src/core/notify/format.ts";
import { type AlertOutcome, SmtpAlerter, type SmtpAlerterConfig } from "../../src/io/smtp.ts";
import { missing } from "../helpers/env.ts";
import {
  type SmtpServer,
  type SmtpServerOptions,
  startSmtpServer,
} from "../helpers/smtp-server.ts";

const DATE = "Mon, 01 Mar 2021 09:44:08 +0000";
const localhostOk = (await lookup("localhost").catch(() => undefined))?.address === "127.0.0.1";

const servers: SmtpServer[] = [];
const alerters: SmtpAlerter[] = [];
afterEach(async () => {
  for (const a of alerters.splice(0)) a.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(opts: SmtpServerOptions = {}): Promise<SmtpServer> {
  const s = await startSmtpServer(opts);
  servers.push(s);
  return s;
}

interface Harness {
  alerter: SmtpAlerter;
  log: string[];
  /** The next outcome, or a rejection after `ms`. */
  outcome(ms?: number): Promise<[string, AlertOutcome]>;
}

function alerter(port: number, over: Partial<SmtpAlerterConfig> = {}): Harness {
  const log: string[] = [];
  const done: [string, AlertOutcome][] = [];
  const waiters: (() => void)[] = [];
  const a = new SmtpAlerter(
    {
      server: { host: "127.0.0.1", port },
      heloName: "lb1.example",
      from: "keepalived@lb1.example",
      to: ["ops@example.org"],
      connectTimeoutMs: 2000,
      routerId: "lb1",
      onOutcome: (subject, o) => {
        done.push([subject, o]);
        for (const w of waiters.splice(0)) w();
      },
      ...over,
    },
    { info: (m) => log.push(`info ${m}`), warn: (m) => log.push(`warn ${m}`) },
  );
  alerters.push(a);
  let taken = 0;
  const outcome = async (ms = 5000): Promise<[string, AlertOutcome]> => {
    const deadline = performance.now() + ms;
    while (done.length <= taken) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no SMTP outcome within ${ms} ms`);
      let t: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        waiters.push(r);
        t = setTimeout(r, left);
      });
      clearTimeout(t);
    }
    return done[taken++] as [string, AlertOutcome];
  };
  return { alerter: a, log, outcome };
}

describe("SmtpAlerter", () => {
  test("the dialogue and the message, byte for byte", async () => {
    const srv = await server();
    const h = alerter(srv.port);
    expect(h.alerter.alert({ kind: "instance", name: "VI_1", state: "MASTER" }, DATE)).toBe(true);
    expect(await h.outcome()).toEqual([
      "[lb1] VRRP Instance VI_1 - Entering MASTER state",
      { sent: true },
    ]);
    const s = await srv.session(0);
    expect(s.received).toBe(
      "HELO lb1.example\r\n" +
        "MAIL FROM:<keepalived@lb1.example>\r\n" +
        "RCPT TO:<ops@example.org>\r\n" +
        "DATA\r\n" +
        "Date: Mon, 01 Mar 2021 09:44:08 +0000\r\n" +
        "From: keepalived@lb1.example\r\n" +
        "Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\n" +
        "X-Mailer: Keepalived\r\n" +
        "To: ops@example.org\r\n" +
        "\r\n" +
        "=> VRRP Instance is now owning VRRP VIPs <=\r\n" +
        "\r\n" +
        ".\r\n" +
        "QUIT\r\n",
    );
    expect(h.alerter.stats).toEqual({ queued: 0, inFlight: 0, sent: 1, failed: 0, dropped: 0 });
    expect(h.log).toEqual([
      `info SMTP alert sent to [127.0.0.1]:${srv.port}: [lb1] VRRP Instance VI_1 - Entering MASTER state`,
    ]);
  });

  test("several recipients: one RCPT each, all in the To header, display names kept there", async () => {
    const srv = await server();
    const to = ["a@example.org", "Bob <b@example.org>", "c@example.org"];
    const h = alerter(srv.port, { to, from: "LB one <lb1@example.org>" });
    h.alerter.send("subject", "body", DATE);
    expect((await h.outcome())[1]).toEqual({ sent: true });
    const s = await srv.session(0);
    expect(s.commands.slice(0, 5)).toEqual([
      "HELO lb1.example",
      "MAIL FROM:<lb1@example.org>",
      "RCPT TO:<a@example.org>",
      "RCPT TO:<b@example.org>",
      "RCPT TO:<c@example.org>",
    ]);
    expect(s.data).toContain(
      "From: LB one <lb1@example.org>\r\n" +
        "Subject: subject\r\nX-Mailer: Keepalived\r\n" +
        "To: a@example.org,\r\n Bob <b@example.org>,\r\n c@example.org\r\n\r\nbody\r\n",
    );
    expect(srv.sessions).toHaveLength(1);
  });

  test("multi-line replies are read to their last line", async () => {
    const srv = await server({
      reply: (cmd) =>
        cmd === "greeting"
          ? "220-test.example ESMTP\n220-more text\n220 ready"
          : cmd === "HELO"
            ? "250-test.example\n250 hi"
            : undefined,
    });
    const h = alerter(srv.port);
    h.alerter.send("s", "b", DATE);
    expect((await h.outcome())[1]).toEqual({ sent: true });
  });

  test("a 550 to one RCPT drops the alert, says QUIT, and logs the reply once", async () => {
    const srv = await server({
      reply: (cmd, arg) =>
        cmd === "RCPT" && arg.includes("b@")
          ? "550 5.1.1 <b@example.org>: no such user"
          : undefined,
    });
    const h = alerter(srv.port, { to: ["a@example.org", "b@example.org", "c@example.org"] });
    h.alerter.send("subject", "body", DATE);
    const [, o] = await h.outcome();
    expect(o.sent).toBe(false);
    const s = await srv.session(0);
    expect(s.commands).toEqual([
      "HELO lb1.example",
      "MAIL FROM:<keepalived@lb1.example>",
      "RCPT TO:<a@example.org>",
      "RCPT TO:<b@example.org>",
      "QUIT",
    ]);
    expect(s.data).toBeUndefined();
    const warnings = h.log.filter((l) => l.startsWith("warn"));
    expect(warnings).toEqual([
      `warn SMTP alert "subject" not sent: [127.0.0.1]:${srv.port} answered "550 5.1.1 <b@example.org>: no such user" to RCPT TO for b@example.org`,
    ]);
    expect(h.alerter.stats).toMatchObject({ sent: 0, failed: 1 });
    // No retry.
    expect(srv.sessions).toHaveLength(1);
  });

  test("refusals at other steps: greeting, HELO, DATA, end of message", async () => {
    for (const [cmd, code] of [
      ["greeting", "554 go away"],
      ["HELO", "501 bad name"],
      ["DATA", "451 later"],
      ["message", "552 too big"],
    ] as const) {
      const srv = await server({ reply: (c) => (c === cmd ? code : undefined) });
      const h = alerter(srv.port);
      h.alerter.send("s", "b", DATE);
      const [, o] = await h.outcome();
      expect(o).toEqual({ sent: false, reason: expect.stringContaining(`answered "${code}"`) });
      const s = await srv.session(0);
      expect(s.commands.at(-1)).toBe("QUIT");
    }
  });

  test("a silent server: the reply timeout is honoured and the caller is never blocked", async () => {
    const srv = await server({ reply: (cmd) => (cmd === "greeting" ? null : undefined) });
    const h = alerter(srv.port, { connectTimeoutMs: 300 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    h.alerter.send("s", "b", DATE);
    const sendMs = performance.now() - t0;
    const [, o] = await h.outcome(3000);
    const waitedMs = performance.now() - t0;
    clearInterval(ticker);
    expect(sendMs).toBeLessThan(20);
    expect(o).toEqual({
      sent: false,
      reason: `[127.0.0.1]:${srv.port}: no greeting within 300 ms (during greeting)`,
    });
    expect(waitedMs).toBeGreaterThanOrEqual(295);
    expect(waitedMs).toBeLessThan(1500);
    // The timer kept firing while the alert waited: ~30 ticks in 300 ms.
    expect(ticks).toBeGreaterThan(10);
  });

  test("silence in the middle of the dialogue times out the same way", async () => {
    const srv = await server({ reply: (cmd) => (cmd === "MAIL" ? null : undefined) });
    const h = alerter(srv.port, { connectTimeoutMs: 250 });
    h.alerter.send("s", "b", DATE);
    const [, o] = await h.outcome(3000);
    expect(o).toEqual({
      sent: false,
      reason: `[127.0.0.1]:${srv.port}: no reply to MAIL FROM within 250 ms (during MAIL FROM)`,
    });
  });

  const noPython = missing({ commands: ["python3"] });
  test.skipIf(noPython !== undefined)(
    `a server that never accepts: the connect timeout is honoured${noPython ? ` (skipped: ${noPython})` : ""}`,
    async () => {
      // A listening socket whose accept queue is full drops our SYN: connect() hangs.
      const py = Bun.spawn(
        [
          "python3",
          "-c",
          // Non-blocking connects fill the queue (a blocking one would wait in it).
          "import socket,sys\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0)\n" +
            "f=[socket.socket() for _ in range(8)]\n" +
            "for c in f:\n c.setblocking(False)\n c.connect_ex(s.getsockname())\n" +
            "print(s.getsockname()[1],flush=True);sys.stdin.read()",
        ],
        { stdin: "pipe", stdout: "pipe" },
      );
      try {
        const first = await py.stdout.getReader().read();
        const port = Number(new TextDecoder().decode(first.value).trim());
        expect(port).toBeGreaterThan(0);
        const h = alerter(port, { connectTimeoutMs: 400 });
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 10);
        const t0 = performance.now();
        h.alerter.send("s", "b", DATE);
        const [, o] = await h.outcome(3000);
        clearInterval(ticker);
        const waitedMs = performance.now() - t0;
        expect(o).toEqual({
          sent: false,
          reason: `[127.0.0.1]:${port}: no connection within 400 ms (during greeting)`,
        });
        expect(waitedMs).toBeGreaterThanOrEqual(395);
        expect(waitedMs).toBeLessThan(2000);
        expect(ticks).toBeGreaterThan(15);
      } finally {
        py.kill();
        await py.exited;
      }
    },
  );

  test("a server that hangs up early", async () => {
    for (const at of ["greeting", "HELO", "DATA"] as const) {
      const srv = await server({ reply: (cmd) => (cmd === at ? "close" : undefined) });
      const h = alerter(srv.port);
      h.alerter.send("s", "b", DATE);
      const [, o] = await h.outcome();
      expect(o.sent).toBe(false);
      expect(!o.sent && o.reason).toMatch(/connection closed|ECONNRESET|reset/i);
    }
  });

  test("a refused connection fails at once", async () => {
    const srv = await server();
    const port = srv.port;
    await srv.close();
    servers.length = 0;
    const h = alerter(port);
    h.alerter.send("s", "b", DATE);
    const [, o] = await h.outcome();
    expect(o.sent).toBe(false);
  });

  test("bounded queue: beyond the limit the oldest alerts are dropped with one warning", async () => {
    const srv = await server();
    const h = alerter(srv.port, { queueLimit: 2 });
    for (let i = 1; i <= 5; i++) h.alerter.send(`alert ${i}`, "b", DATE);
    expect(h.alerter.stats).toMatchObject({ queued: 2, dropped: 3 });
    await h.alerter.whenIdle();
    const subjects = [];
    for (let i = 0; i < 2; i++) subjects.push((await h.outcome())[0]);
    expect(subjects).toEqual(["alert 4", "alert 5"]);
    expect(h.log.filter((l) => l.includes("queue full"))).toHaveLength(1);
    expect(h.log.some((l) => l.includes("3 alerts were dropped"))).toBe(true);
    // One connection per alert.
    await srv.session(1);
    expect(srv.sessions).toHaveLength(2);
  });

  test("alerts go out one connection each, in order", async () => {
    const srv = await server();
    const h = alerter(srv.port);
    const events = [
      { kind: "instance", name: "VI_1", state: "BACKUP" },
      { kind: "group", name: "G1", state: "BACKUP" },
    ] as const;
    for (const e of events) h.alerter.alert(e, DATE);
    await h.alerter.whenIdle();
    await srv.session(1);
    expect(srv.sessions.map((s) => /Subject: (.*)\r\n/.exec(s.data ?? "")?.[1])).toEqual(
      events.map((e) => alertText(e, "lb1").subject),
    );
  });

  test("no recipient or no server: nothing is queued (smtp_alert sends nothing)", () => {
    const h = alerter(1, { to: [] });
    expect(h.alerter.send("s", "b")).toBe(false);
    const g = alerter(1, { server: { host: "", port: 25 } });
    expect(g.alerter.send("s", "b")).toBe(false);
    expect(h.alerter.stats.queued + g.alerter.stats.queued).toBe(0);
  });

  test("without a date, the Date header is now in local time", async () => {
    const srv = await server();
    const h = alerter(srv.port);
    h.alerter.send("s", "b");
    await h.outcome();
    const s = await srv.session(0);
    const date = /Date: (.*)\r\n/.exec(s.data ?? "")?.[1] ?? "";
    expect(date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
    expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(60_000);
  });

  test("close() drops what is queued and cuts the connection in flight", async () => {
    const srv = await server({ reply: (cmd) => (cmd === "greeting" ? null : undefined) });
    const h = alerter(srv.port, { connectTimeoutMs: 10_000 });
    h.alerter.send("a", "b", DATE);
    h.alerter.send("c", "d", DATE);
    await srv.accepted(0);
    h.alerter.close();
    await h.alerter.whenIdle();
    expect(h.alerter.stats).toMatchObject({ queued: 0, inFlight: 0 });
    expect(h.alerter.send("late", "x")).toBe(false);
  });

  test.skipIf(!localhostOk)(
    `a host name is looked up${localhostOk ? "" : " (skipped: localhost is not 127.0.0.1 first here)"}`,
    async () => {
      const srv = await server();
      const h = alerter(srv.port, { server: { host: "localhost", port: srv.port } });
      h.alerter.send("s", "b", DATE);
      expect((await h.outcome())[1]).toEqual({ sent: true });
      const bad = alerter(srv.port, { server: { host: "no-such-host.invalid", port: 25 } });
      bad.alerter.send("s", "b", DATE);
      const [, o] = await bad.outcome();
      expect(o.sent).toBe(false);
    },
  );
});
