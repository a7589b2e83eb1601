/**
 * FIFO lines and SMTP alert texts byte for byte. Expected strings are written out from
 * keepalived's format strings (vrrp_notify.c, ipwrapper.c, check_*.c, smtp.c at 2.4.3),
 * and the whole message is checked against what the installed keepalived 2.2.7 sent to a
 * test SMTP server (captured in a network namespace: see SESSION_227).
 */
import { describe, expect, test } from "bun:test";
import { type IpAddr, parseIp } from "../../../src/core/net/ip.ts";
import {
  type AlertEvent,
  alertText,
  checkerAlertBody,
  dotStuff,
  envelopePath,
  formatRs,
  formatVs,
  groupFifoLine,
  instanceFifoLine,
  mailData,
  ntopText,
  priorityFifoLine,
  type RealServerRef,
  rfc5322Date,
  rsFifoLine,
  truncateUtf8,
  type VirtualServerRef,
  vsFifoLine,
} from "../../../src/core/notify/format.ts";

const ip = (s: string): IpAddr => parseIp(s) as IpAddr;
const enc = (s: string): number[] => [...new TextEncoder().encode(s)];

const VS4: VirtualServerRef = {
  kind: "address",
  address: ip("192.0.2.1"),
  port: 80,
  protocol: "tcp",
};
const VS6: VirtualServerRef = {
  kind: "address",
  address: ip("2001:db8::1"),
  port: 53,
  protocol: "udp",
};
const VSFWM: VirtualServerRef = { kind: "fwmark", fwmark: 5, protocol: "none" };
const VSGRP: VirtualServerRef = { kind: "group", group: "web", port: 0, protocol: "tcp" };
const RS4: RealServerRef = { address: ip("198.51.100.2"), port: 8080 };

describe("VRRP FIFO lines", () => {
  test("instance and group lines, byte for byte, no NUL", () => {
    expect(enc(instanceFifoLine("VI_1", "MASTER", 100))).toEqual(
      enc('INSTANCE "VI_1" MASTER 100\n'),
    );
    expect(instanceFifoLine("VI_1", "BACKUP", 90)).toBe('INSTANCE "VI_1" BACKUP 90\n');
    expect(instanceFifoLine("VI_1", "FAULT", 0)).toBe('INSTANCE "VI_1" FAULT 0\n');
    expect(instanceFifoLine("VI_1", "STOP", 255)).toBe('INSTANCE "VI_1" STOP 255\n');
    expect(instanceFifoLine("VI_1", "DELETED", 1)).toBe('INSTANCE "VI_1" DELETED 1\n');
    expect(groupFifoLine("G1", "BACKUP")).toBe('GROUP "G1" BACKUP 0\n');
    expect(groupFifoLine("G1", "MASTER")).toBe('GROUP "G1" MASTER 0\n');
    expect(groupFifoLine("G1", "STOP")).toBe('GROUP "G1" STOP 0\n');
  });

  test("event words: MASTER_RX_LOWER_PRI and the priority changes", () => {
    expect(instanceFifoLine("VI_1", "MASTER_RX_LOWER_PRI", 100)).toBe(
      'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100\n',
    );
    expect(priorityFifoLine("VI_1", true, 80)).toBe('INSTANCE "VI_1" MASTER_PRIORITY 80\n');
    expect(priorityFifoLine("VI_1", false, 120)).toBe('INSTANCE "VI_1" BACKUP_PRIORITY 120\n');
  });

  test("names are written as configured: no quoting or escaping of spaces and quotes", () => {
    // keepalived's format is "%s \"%s\" %s %d\n": the name goes in verbatim.
    expect(instanceFifoLine("my inst", "MASTER", 100)).toBe('INSTANCE "my inst" MASTER 100\n');
    expect(instanceFifoLine('a"b', "BACKUP", 50)).toBe('INSTANCE "a"b" BACKUP 50\n');
    expect(enc(groupFifoLine("grüße", "FAULT"))).toEqual([
      ...enc('GROUP "gr'),
      0xc3,
      0xbc,
      0xc3,
      0x9f,
      ...enc('e" FAULT 0\n'),
    ]);
  });
});

describe("LVS FIFO lines", () => {
  test("virtual server identities (format_vs)", () => {
    expect(formatVs(VS4)).toBe("[192.0.2.1]:tcp:80");
    expect(formatVs(VS6)).toBe("[2001:db8::1]:udp:53");
    expect(formatVs(VSFWM)).toBe("FWM 5");
    expect(formatVs(VSGRP)).toBe("[web]:0");
    expect(formatVs({ kind: "address", address: ip("192.0.2.9"), port: 0, protocol: "sctp" })).toBe(
      "[192.0.2.9]:sctp:0",
    );
  });

  test("real servers take the virtual server's protocol (format_rs)", () => {
    expect(formatRs(RS4, VS4)).toBe("[198.51.100.2]:tcp:8080");
    expect(formatRs(RS4, VSFWM)).toBe("[198.51.100.2]:none:8080");
    expect(formatRs({ address: ip("2001:db8::2"), port: 53 }, VS6)).toBe("[2001:db8::2]:udp:53");
  });

  test("VS and RS lines end in a newline, as every release writes them", () => {
    expect(enc(vsFifoLine(VS4, true))).toEqual(enc("VS [192.0.2.1]:tcp:80 UP\n"));
    expect(vsFifoLine(VSFWM, false)).toBe("VS FWM 5 DOWN\n");
    expect(vsFifoLine(VSGRP, true)).toBe("VS [web]:0 UP\n");
    expect(enc(rsFifoLine(RS4, VS4, false))).toEqual(
      enc("RS [198.51.100.2]:tcp:8080 [192.0.2.1]:tcp:80 DOWN\n"),
    );
    expect(rsFifoLine(RS4, VSFWM, true)).toBe("RS [198.51.100.2]:none:8080 FWM 5 UP\n");
  });

  test("master after 2.4.3 adds the terminating NUL when asked", () => {
    const vs = enc(vsFifoLine(VS4, true, { trailingNul: true }));
    expect(vs).toEqual([...enc("VS [192.0.2.1]:tcp:80 UP\n"), 0]);
    const rs = enc(rsFifoLine(RS4, VS4, true, { trailingNul: true }));
    expect(rs.at(-1)).toBe(0);
    expect(rs.at(-2)).toBe(10);
    expect(rs.filter((b) => b === 0)).toHaveLength(1);
  });

  test("addresses print as glibc inet_ntop does", () => {
    expect(ntopText(ip("2001:db8:0:1:0:0:0:1"))).toBe("2001:db8:0:1::1");
    expect(ntopText(ip("2001:db8:0:0:1:0:0:1"))).toBe("2001:db8::1:0:0:1");
    expect(ntopText(ip("::ffff:192.0.2.1"))).toBe("::ffff:192.0.2.1");
    expect(ntopText(ip("::1"))).toBe("::1");
    expect(ntopText(ip("::"))).toBe("::");
    // glibc keeps the IPv4-compatible form (checked with python3 socket.inet_ntop).
    expect(ntopText(ip("::c000:201"))).toBe("::192.0.2.1");
    expect(ntopText(ip("::ffff:0:c000:201"))).toBe("::ffff:0:c000:201");
    expect(ntopText(ip("192.0.2.255"))).toBe("192.0.2.255");
  });
});

describe("SMTP alert texts", () => {
  const text = (e: AlertEvent) => alertText(e, "lb1");

  test("VRRP instance, every state (vrrp_smtp_notifier)", () => {
    const cases: [AlertEvent & { kind: "instance" }, string, string][] = [
      [
        { kind: "instance", name: "VI_1", state: "MASTER" },
        "[lb1] VRRP Instance VI_1 - Entering MASTER state",
        "=> VRRP Instance is now owning VRRP VIPs <=",
      ],
      [
        { kind: "instance", name: "VI_1", state: "BACKUP" },
        "[lb1] VRRP Instance VI_1 - Entering BACKUP state",
        "=> VRRP Instance is no longer owning VRRP VIPs <=",
      ],
      [
        { kind: "instance", name: "VI_1", state: "FAULT" },
        "[lb1] VRRP Instance VI_1 - Entering FAULT state",
        "=> VRRP Instance is no longer owning VRRP VIPs <=",
      ],
      [
        { kind: "instance", name: "VI_1", state: "STOP" },
        "[lb1] VRRP Instance VI_1 - Stopping",
        "=> VRRP Instance stopping <=",
      ],
      [
        { kind: "instance", name: "VI_1", state: "DELETED" },
        "[lb1] VRRP Instance VI_1 - Deleted",
        "=> VRRP Deleted at reload <=",
      ],
    ];
    for (const [e, subject, body] of cases) expect(text(e)).toEqual({ subject, body });
  });

  test("sync group, every state (vrrp_sync_smtp_notifier)", () => {
    expect(text({ kind: "group", name: "G1", state: "MASTER" })).toEqual({
      subject: "[lb1] VRRP Group G1 - Entering MASTER state",
      body: "=> All VRRP group instances are now in MASTER state <=",
    });
    expect(text({ kind: "group", name: "G1", state: "BACKUP" }).body).toBe(
      "=> All VRRP group instances are now in BACKUP state <=",
    );
    expect(text({ kind: "group", name: "G1", state: "FAULT" })).toEqual({
      subject: "[lb1] VRRP Group G1 - Entering FAULT state",
      body: "=> All VRRP group instances are now in FAULT state <=",
    });
    expect(text({ kind: "group", name: "G1", state: "STOP" })).toEqual({
      subject: "[lb1] VRRP Group G1 - Stopping",
      body: "=> All VRRP group instances are now stopping <=",
    });
  });

  test("real server changed by a checker (SMTP_MSG_RS)", () => {
    const rs = (outcome: Parameters<typeof checkerAlertBody>[0]) =>
      text({ kind: "real-server", rs: RS4, vs: VS4, outcome });
    expect(rs({ checker: "TCP_CHECK", up: false })).toEqual({
      subject:
        "[lb1] Realserver [198.51.100.2]:tcp:8080 of virtual server [192.0.2.1]:tcp:80 - DOWN",
      body: "=> TCP CHECK failed on service <=",
    });
    expect(rs({ checker: "TCP_CHECK", up: true }).subject).toEndWith(" - UP");
    expect(rs({ checker: "HTTP_GET", up: false }).body).toBe(
      "=> CHECK failed on service : HTTP/SSL request failed <=",
    );
  });

  test("every checker's body (check_*.c)", () => {
    const b = (checker: Parameters<typeof checkerAlertBody>[0]["checker"], up: boolean) =>
      checkerAlertBody({ checker, up });
    expect(b("TCP_CHECK", true)).toBe("=> TCP CHECK succeed on service <=");
    expect(b("UDP_CHECK", true)).toBe("=> UDP CHECK succeed on service <=");
    expect(b("UDP_CHECK", false)).toBe("=> UDP CHECK failed on service <=");
    expect(b("PING_CHECK", true)).toBe("=> ICMP CHECK succeed on service <=");
    expect(b("PING_CHECK", false)).toBe("=> ICMP CHECK failed on service <=");
    expect(b("DNS_CHECK", true)).toBe("=> DNS_CHECK: succeed on service <=");
    expect(b("DNS_CHECK", false)).toBe("=> DNS_CHECK: failed on service <=");
    expect(b("HTTP_GET", true)).toBe("=> CHECK succeed on service <=");
    expect(b("SSL_GET", true)).toBe("=> CHECK succeed on service <=");
    expect(b("SSL_GET", false)).toBe("=> CHECK failed on service : HTTP/SSL request failed <=");
    expect(b("SMTP_CHECK", true)).toBe("=> CHECK succeed on service <=");
    expect(b("SMTP_CHECK", false)).toBe("=> CHECK failed on service <=");
    expect(
      checkerAlertBody({
        checker: "SMTP_CHECK",
        up: false,
        detail: "Read timeout from server [198.51.100.2]:25",
      }),
    ).toBe("=> CHECK failed on service : Read timeout from server [198.51.100.2]:25 <=");
    expect(b("MISC_CHECK", true)).toBe("=> MISC CHECK succeeded on service <=");
    expect(b("MISC_CHECK", false)).toBe("=> MISC CHECK failed on service <=");
    expect(checkerAlertBody({ checker: "MISC_CHECK", up: false, timedOut: true })).toBe(
      "=> MISC CHECK timed out on service <=",
    );
    expect(checkerAlertBody({ checker: "BFD_CHECK", up: true, detail: "bfd1" })).toBe(
      "=> BFD CHECK bfd1 succeeded on service <=",
    );
    expect(checkerAlertBody({ checker: "BFD_CHECK", up: false, detail: "bfd1" })).toBe(
      "=> BFD CHECK bfd1 failed on service <=",
    );
  });

  test("real server removed at reload or shutdown (SMTP_MSG_RS_SHUT)", () => {
    expect(text({ kind: "real-server-removed", rs: RS4, vs: VSFWM, stopping: false })).toEqual({
      subject: "[lb1] Realserver [198.51.100.2]:none:8080 of virtual server FWM 5 - DOWN",
      body: "=> Removing <=",
    });
    expect(text({ kind: "real-server-removed", rs: RS4, vs: VS4, stopping: true }).body).toBe(
      "=> Shutting down <=",
    );
  });

  test("virtual server quorum (do_vs_notifies)", () => {
    const base = {
      kind: "virtual-server",
      vs: VS4,
      quorum: 3,
      hysteresis: 1,
      weightSum: 4,
      stopping: false,
    } as const;
    expect(text({ ...base, quorumUp: true, initial: false })).toEqual({
      subject: "[lb1] Virtualserver [192.0.2.1]:tcp:80 - UP",
      body: "=> Gained quorum 3+1=2 <= 4 <=",
    });
    expect(text({ ...base, quorumUp: true, initial: true }).body).toBe(
      "=> Starting with quorum up 3+1=2 <= 4 <=",
    );
    expect(text({ ...base, quorumUp: false, initial: false, weightSum: 1 })).toEqual({
      subject: "[lb1] Virtualserver [192.0.2.1]:tcp:80 - DOWN",
      body: "=> Lost quorum 3+1=2 <= 1 <=",
    });
    expect(text({ ...base, quorumUp: false, initial: true, weightSum: 0 }).body).toBe(
      "=> Starting with quorum down 3+1=2 <= 0 <=",
    );
    expect(text({ ...base, quorumUp: true, initial: false, stopping: true })).toEqual({
      subject: "[lb1] Virtualserver [192.0.2.1]:tcp:80 - DOWN",
      body: "=> Shutting down <=",
    });
  });

  test("custom alerts and an empty router_id", () => {
    expect(text({ kind: "custom", subject: "hello", body: "b" })).toEqual({
      subject: "[lb1] hello",
      body: "b",
    });
    expect(alertText({ kind: "custom", subject: "hello", body: "b" }, "").subject).toBe("hello");
  });

  test("subject and body are cut where keepalived's buffers cut them", () => {
    const long = "x".repeat(600);
    const t = text({ kind: "instance", name: long, state: "MASTER" });
    expect(t.subject).toHaveLength(255);
    expect(t.subject).toStartWith("[lb1] VRRP Instance xxx");
    expect(text({ kind: "custom", subject: "s", body: long }).body).toHaveLength(511);
    // Never inside a UTF-8 character: 3-byte chars, so 255 bytes hold 85 of them.
    expect(truncateUtf8("€".repeat(100), 255)).toBe("€".repeat(85));
    expect(truncateUtf8("€".repeat(100), 254)).toBe("€".repeat(84));
  });
});

describe("the message", () => {
  test("Date header as strftime %a, %d %b %Y %H:%M:%S %z", () => {
    const t = { year: 2021, month: 3, day: 1, hour: 9, minute: 44, second: 8, weekday: 1 };
    expect(rfc5322Date({ ...t, utcOffsetMinutes: 0 })).toBe("Mon, 01 Mar 2021 09:44:08 +0000");
    expect(rfc5322Date({ ...t, utcOffsetMinutes: 60 })).toBe("Mon, 01 Mar 2021 09:44:08 +0100");
    expect(rfc5322Date({ ...t, utcOffsetMinutes: -330 })).toBe("Mon, 01 Mar 2021 09:44:08 -0530");
    expect(
      rfc5322Date({
        year: 2026,
        month: 12,
        day: 31,
        hour: 23,
        minute: 5,
        second: 59,
        weekday: 4,
        utcOffsetMinutes: 345,
      }),
    ).toBe("Thu, 31 Dec 2026 23:05:59 +0545");
  });

  test("envelope paths: bare addresses bracketed, display names dropped", () => {
    expect(envelopePath("a@example.org")).toBe("<a@example.org>");
    expect(envelopePath("Bob <b@example.org>")).toBe("<b@example.org>");
    expect(envelopePath('"Ops <team>" <ops@example.org>')).toBe("<ops@example.org>");
    expect(envelopePath("<c@example.org>")).toBe("<c@example.org>");
  });

  test("headers in keepalived's order, recipients folded one per line", () => {
    const data = mailData({
      from: "Agent <agent@example.org>",
      to: ["a@example.org", "Bob <b@example.org>", "c@example.org"],
      subject: "[lb1] VRRP Instance VI_1 - Entering MASTER state",
      body: "=> VRRP Instance is now owning VRRP VIPs <=",
      dateText: "Mon, 01 Mar 2021 09:44:08 +0000",
    });
    expect(data).toBe(
      "Date: Mon, 01 Mar 2021 09:44:08 +0000\r\n" +
        "From: Agent <agent@example.org>\r\n" +
        "Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\n" +
        "X-Mailer: Keepalived\r\n" +
        "To: a@example.org,\r\n Bob <b@example.org>,\r\n c@example.org\r\n" +
        "\r\n" +
        "=> VRRP Instance is now owning VRRP VIPs <=\r\n" +
        "\r\n" +
        ".\r\n",
    );
  });

  // What keepalived 2.2.7 (Debian) sent for a sync-group BACKUP alert to the test SMTP server
  // in a network namespace (router_id obs1, two recipients). 2.4.3 folds the To header one
  // recipient per line ("To: a,\r\n b"), which is the only difference.
  const SESSION_227 =
    "HELO helo.example\r\nMAIL FROM:<agent@example.org>\r\nRCPT TO:<a@example.org>\r\n" +
    "RCPT TO:<b@example.org>\r\nDATA\r\nDate: Sun, 22 Nov 2026 06:46:24 +0000\r\n" +
    "From: agent@example.org\r\nSubject: [obs1] VRRP Group G1 - Entering BACKUP state\r\n" +
    "X-Mailer: Keepalived\r\nTo: a@example.org, b@example.org\r\n\r\n" +
    "=> All VRRP group instances are now in BACKUP state <=\r\n\r\n.\r\nQUIT\r\n";

  test("the same bytes as keepalived 2.2.7 sent, To folding aside", () => {
    const { subject, body } = alertText({ kind: "group", name: "G1", state: "BACKUP" }, "obs1");
    const data = mailData({
      from: "agent@example.org",
      to: ["a@example.org", "b@example.org"],
      subject,
      body,
      dateText: "Sun, 22 Nov 2026 06:46:24 +0000",
    });
    const start = SESSION_227.indexOf("DATA\r\n") + 6;
    const end = SESSION_227.indexOf("QUIT\r\n");
    const kept227 = SESSION_227.slice(start, end);
    expect(data).toBe(
      kept227.replace("To: a@example.org, b@example.org", "To: a@example.org,\r\n b@example.org"),
    );
  });

  test("dot-stuffing and line ends: no body can end the message early", () => {
    const data = mailData({
      from: "f@example.org",
      to: ["t@example.org"],
      subject: "s",
      body: ".leading\n.\r\nmid.dle\rend",
      dateText: "d",
    });
    const body = data.slice(data.indexOf("\r\n\r\n") + 4);
    expect(body).toBe("..leading\r\n..\r\nmid.dle\r\nend\r\n\r\n.\r\n");
    // Exactly one terminator, at the end.
    expect(data.split("\r\n.\r\n")).toHaveLength(2);
    expect(dotStuff(".a\r\n.b\r\n")).toBe("..a\r\n..b\r\n");
  });

  test("header values stay on one line", () => {
    const data = mailData({
      from: "f@example.org",
      to: ["t@example.org\r\nBcc: x@example.org"],
      subject: "a\r\nX-Injected: 1",
      body: "b",
      dateText: "d",
    });
    const head = data.slice(0, data.indexOf("\r\n\r\n"));
    expect(head.split("\r\n").map((l) => l.split(":")[0])).toEqual([
      "Date",
      "From",
      "Subject",
      "X-Mailer",
      "To",
    ]);
  });
});
