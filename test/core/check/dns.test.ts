import { describe, expect, test } from "bun:test";
import {
  DNS_TYPES,
  decodeDnsMessage,
  dnsReplyVerdict,
  encodeDnsQuery,
} from "../../../src/core/check/dns.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("encodeDnsQuery (check_dns.c dns_make_query)", () => {
  test("root SOA: header with RD only, one question, empty name", () => {
    const q = encodeDnsQuery(0x1234, ".", DNS_TYPES.SOA);
    if (!q.ok) throw new Error(q.reason);
    // id 1234 | flags 0100 (RD) | qd 1 an 0 ns 0 ar 0 | name 00 | type 0006 | class 0001
    expect(toHex(q.bytes)).toBe("1234010000010000000000000000060001");
    const empty = encodeDnsQuery(0x1234, "", DNS_TYPES.SOA);
    expect(empty.ok && toHex(empty.bytes)).toBe(toHex(q.bytes));
  });

  test("example.com A, with or without the trailing dot", () => {
    const q = encodeDnsQuery(0xbeef, "example.com", DNS_TYPES.A);
    if (!q.ok) throw new Error(q.reason);
    // id beef | RD | qd 1 | 07 "example" 03 "com" 00 | type A | class IN
    expect(toHex(q.bytes)).toBe(
      "beef01000001000000000000" + "076578616d706c6503636f6d00" + "0001" + "0001",
    );
    const dotted = encodeDnsQuery(0xbeef, "example.com.", DNS_TYPES.A);
    expect(dotted.ok && toHex(dotted.bytes)).toBe(toHex(q.bytes));
  });

  test("refuses empty and over-long labels and names", () => {
    expect(encodeDnsQuery(1, "a..b", 1)).toEqual({ ok: false, reason: "empty-label" });
    expect(encodeDnsQuery(1, `${"a".repeat(64)}.com`, 1)).toEqual({
      ok: false,
      reason: "label-too-long",
    });
    const long = Array.from({ length: 5 }, () => "a".repeat(60)).join(".");
    expect(encodeDnsQuery(1, long, 1)).toEqual({ ok: false, reason: "name-too-long" });
    expect(encodeDnsQuery(1, `${"a".repeat(63)}.x`, 1).ok).toBe(true);
  });
});

describe("decodeDnsMessage", () => {
  test("a reply with a compressed answer", () => {
    // header: id beef, flags 8180 (QR RD RA), qd 1 an 1
    // question: example.com A IN; answer: c00c A IN ttl 300 rdlen 4 192.0.2.7
    const b = hex(
      "beef818000010001000000000765" +
        "78616d706c6503636f6d0000010001" +
        "c00c000100010000012c0004c0000207",
    );
    const r = decodeDnsMessage(b);
    if (!r.ok) throw new Error(r.reason);
    expect(r.message.header).toMatchObject({ id: 0xbeef, qr: true, rcode: 0, ancount: 1 });
    expect(r.message.questions).toEqual([{ name: "example.com", type: 1, class: 1 }]);
    expect(r.message.records[0]).toMatchObject({ name: "example.com", type: 1, ttl: 300 });
    expect(Array.from(r.message.records[0]?.rdata ?? [])).toEqual([192, 0, 2, 7]);
  });

  test("one reason per failure, with its offset", () => {
    expect(decodeDnsMessage(hex("beef8180"))).toEqual({
      ok: false,
      reason: "short-header",
      offset: 0,
    });
    // qdcount 1 but nothing follows
    expect(decodeDnsMessage(hex("beef81800001000000000000"))).toMatchObject({
      reason: "name-truncated",
      offset: 12,
    });
    // a pointer to itself
    expect(decodeDnsMessage(hex("beef81800001000000000000c00c00010001"))).toMatchObject({
      reason: "pointer-loop",
    });
    // label type 0x40 (extended, RFC 6891 obsolete)
    expect(decodeDnsMessage(hex("beef8180000100000000000041"))).toMatchObject({
      reason: "label-type",
    });
    // question without type/class
    expect(decodeDnsMessage(hex("beef8180000100000000000000"))).toMatchObject({
      reason: "question-truncated",
    });
    // answer with rdlength past the end
    expect(
      decodeDnsMessage(hex("beef8180000000010000000000000100010000012c0004c000")),
    ).toMatchObject({ reason: "rdata-truncated" });
  });
});

describe("dnsReplyVerdict (check_dns.c dns_recv_thread)", () => {
  test("ok: our ID, QR set, RCODE 0 — the answer count does not matter", () => {
    expect(dnsReplyVerdict(0xbeef, hex("beef818000010000000000000000060001")).kind).toBe("ok");
  });
  test("fail on a non-zero RCODE (NXDOMAIN, SERVFAIL, REFUSED)", () => {
    for (const rc of [2, 3, 5])
      expect(dnsReplyVerdict(0xbeef, hex(`beef818${rc}000100000000000000`))).toEqual({
        kind: "fail",
        reason: `rcode = ${rc}`,
      });
  });
  test("ignored: shorter than 8 bytes, other ID, or a query (QR clear)", () => {
    expect(dnsReplyVerdict(0xbeef, hex("beef818000"))).toEqual({ kind: "ignore", why: "short" });
    expect(dnsReplyVerdict(0xbeef, hex("beee818000010000"))).toEqual({
      kind: "ignore",
      why: "id-mismatch",
    });
    expect(dnsReplyVerdict(0xbeef, hex("beef010000010000"))).toEqual({
      kind: "ignore",
      why: "not-a-response",
    });
  });
  test("8 to 11 bytes are judged on their first four (keepalived's sizeof quirk)", () => {
    expect(dnsReplyVerdict(0xbeef, hex("beef818000000000")).kind).toBe("ok");
  });
});
