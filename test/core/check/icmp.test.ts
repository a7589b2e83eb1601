import { describe, expect, test } from "bun:test";
import {
  decodeIcmp,
  encodeEcho,
  ICMP_PAYLOAD_BYTES,
  internetChecksum,
  pingPayload,
} from "../../../src/core/check/icmp.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));

/** An IPv4 header (20 bytes, protocol ICMP) around `icmp`, as a raw socket delivers it. */
function ipv4(icmp: Uint8Array, proto = 1): Uint8Array {
  const out = new Uint8Array(20 + icmp.length);
  out.set(hex("4500000000004000400100007f0000017f000001"));
  out[9] = proto;
  out.set(icmp, 20);
  return out;
}

describe("internetChecksum (RFC 1071)", () => {
  test("the RFC 1071 §3 example and an odd length", () => {
    // 0001 f203 f4f5 f6f7 → sum ddf2 → checksum 220d
    expect(internetChecksum(hex("0001f203f4f5f6f7"))).toBe(0x220d);
    expect(internetChecksum(hex("0001f203f4f5f6f700"))).toBe(0x220d);
    // odd length: the last byte is the high half of a zero-padded word (0xf600)
    expect(internetChecksum(hex("0001f203f4f5f6"))).toBe(0x2304);
  });
  test("a message carrying its checksum sums to zero", () => {
    expect(internetChecksum(encodeEcho(4, 0x1234, 7))).toBe(0);
  });
});

describe("encodeEcho (check_ping.c ping_it)", () => {
  test("IPv4: type 8, code 0, checksum, id, seq, 128 filler bytes", () => {
    const e = encodeEcho(4, 0xabcd, 0x0102);
    expect(e.length).toBe(8 + ICMP_PAYLOAD_BYTES);
    expect(Array.from(e.subarray(0, 2))).toEqual([8, 0]);
    expect(Array.from(e.subarray(4, 8))).toEqual([0xab, 0xcd, 0x01, 0x02]);
    expect(String.fromCharCode(...e.subarray(8, 27))).toBe("keepalived check - ");
    expect(Array.from(e.subarray(8))).toEqual(Array.from(pingPayload()));
  });
  test("IPv6: type 128, checksum left to the kernel", () => {
    const e = encodeEcho(6, 1, 2);
    expect(Array.from(e.subarray(0, 8))).toEqual([128, 0, 0, 0, 0, 1, 0, 2]);
  });
});

describe("decodeIcmp", () => {
  test("IPv4 echo reply behind its IP header", () => {
    const reply = encodeEcho(4, 0x1234, 9);
    reply[0] = 0;
    reply[2] = 0;
    reply[3] = 0;
    new DataView(reply.buffer).setUint16(2, internetChecksum(reply));
    expect(decodeIcmp(4, ipv4(reply))).toEqual({
      ok: true,
      message: { kind: "echo-reply", id: 0x1234, seq: 9 },
    });
  });
  test("our own request, seen on loopback", () => {
    expect(decodeIcmp(4, ipv4(encodeEcho(4, 1, 2)))).toMatchObject({
      message: { kind: "echo-request" },
    });
  });
  test("IPv4 destination unreachable quoting our request", () => {
    const quote = ipv4(encodeEcho(4, 0x4242, 77)).subarray(0, 28);
    const err = new Uint8Array(8 + quote.length);
    err[0] = 3;
    err[1] = 1; // host unreachable
    err.set(quote, 8);
    new DataView(err.buffer).setUint16(2, internetChecksum(err));
    expect(decodeIcmp(4, ipv4(err))).toEqual({
      ok: true,
      message: { kind: "unreachable", code: 1, id: 0x4242, seq: 77 },
    });
  });
  test("IPv6 echo reply and unreachable", () => {
    const reply = encodeEcho(6, 5, 6);
    reply[0] = 129;
    expect(decodeIcmp(6, reply)).toEqual({
      ok: true,
      message: { kind: "echo-reply", id: 5, seq: 6 },
    });
    const inner = new Uint8Array(40 + 8);
    inner[0] = 0x60;
    inner[6] = 58;
    inner.set(encodeEcho(6, 5, 6).subarray(0, 8), 40);
    const err = new Uint8Array(8 + inner.length);
    err[0] = 1;
    err[1] = 3;
    err.set(inner, 8);
    expect(decodeIcmp(6, err)).toEqual({
      ok: true,
      message: { kind: "unreachable", code: 3, id: 5, seq: 6 },
    });
  });
  test("reasons: short headers, other protocols, checksum, short quote", () => {
    expect(decodeIcmp(4, hex("4500"))).toEqual({ ok: false, reason: "short-ip-header" });
    expect(decodeIcmp(4, ipv4(encodeEcho(4, 1, 1), 17))).toEqual({ ok: false, reason: "not-icmp" });
    expect(decodeIcmp(4, ipv4(hex("0000")))).toEqual({ ok: false, reason: "short-icmp" });
    const bad = encodeEcho(4, 1, 1);
    bad[10] = (bad[10] ?? 0) ^ 0xff;
    expect(decodeIcmp(4, ipv4(bad))).toEqual({ ok: false, reason: "bad-checksum" });
    expect(decodeIcmp(6, hex("0100000000000000600000"))).toEqual({
      ok: false,
      reason: "short-quote",
    });
    // a port unreachable for some UDP datagram is not ours
    const udpQuote = ipv4(hex("0035003500080000"), 17);
    const err = new Uint8Array(8 + udpQuote.length);
    err[0] = 3;
    err[1] = 3;
    err.set(udpQuote, 8);
    new DataView(err.buffer).setUint16(2, internetChecksum(err));
    expect(decodeIcmp(4, ipv4(err))).toEqual({
      ok: true,
      message: { kind: "other", type: 3, code: 3 },
    });
  });
});
