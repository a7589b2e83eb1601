/**
 * GARP and unsolicited NA frames against the bytes keepalived 2.2.7 put on the wire
 * (/work/shared/reference/pcaps: keepalived-v2.pcap frame 7, keepalived-v3.pcap frame 5,
 * keepalived-v3-ipv6.pcap frame 6; lab MACs 02:1a:b0:00:00:0N, VIPs 192.0.2.100 and
 * 2001:db8::100). The hex is copied from the tshark dumps beside the pcaps, so the test runs
 * without them; when the pcaps are present every ARP / NA frame in them is checked too.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { GARP_FRAME_LEN, gratuitousArp } from "../../../src/core/net/arp.ts";
import { parseIp } from "../../../src/core/net/ip.ts";
import {
  ALL_NODES,
  icmpv6Checksum,
  NA_FRAME_LEN,
  neighbourAdvert,
  unsolicitedNa,
} from "../../../src/core/net/ndisc.ts";
import { readPcap } from "../../helpers/pcap.ts";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const mac = (n: number): Uint8Array => new Uint8Array([0x02, 0x1a, 0xb0, 0, 0, n]);
const VIP4 = parseIp("192.0.2.100")!.bytes;
const VIP6 = parseIp("2001:db8::100")!.bytes;

// keepalived-v2.pcap frame 7 (lab-h1 becomes MASTER).
const GARP_H1 = hex(`ff ff ff ff ff ff 02 1a b0 00 00 01 08 06 00 01
  08 00 06 04 00 01 02 1a b0 00 00 01 c0 00 02 64 ff ff ff ff ff ff c0 00 02 64`);
// keepalived-v3.pcap frame 5 (lab-h2 becomes MASTER).
const GARP_H2 = hex(`ff ff ff ff ff ff 02 1a b0 00 00 02 08 06 00 01
  08 00 06 04 00 01 02 1a b0 00 00 02 c0 00 02 64 ff ff ff ff ff ff c0 00 02 64`);
// keepalived-v3-ipv6.pcap frame 6: ICMPv6 checksum 0x4712, flags 0x20000000 (Override).
const NA_H1 = hex(`33 33 00 00 00 01 02 1a b0 00 00 01 86 dd 60 00
  00 00 00 20 3a ff 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 01 00 ff 02 00 00 00 00 00 00 00 00
  00 00 00 00 00 01 88 00 47 12 20 00 00 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 01 00 02 01
  02 1a b0 00 00 01`);

/** True when the ICMPv6 message in `frame` checksums to zero with its pseudo-header. */
function naChecksumOk(frame: Uint8Array): boolean {
  const src = frame.subarray(22, 38);
  const dst = frame.subarray(38, 54);
  const msg = frame.slice(54);
  const stored = (msg[2]! << 8) | msg[3]!;
  msg[2] = 0;
  msg[3] = 0;
  return icmpv6Checksum(src, dst, msg) === stored;
}

describe("gratuitous ARP", () => {
  test("equals keepalived's frame byte for byte", () => {
    expect(gratuitousArp(mac(1), VIP4)).toEqual(GARP_H1);
    expect(gratuitousArp(mac(2), VIP4)).toEqual(GARP_H2);
    expect(GARP_H1.length).toBe(GARP_FRAME_LEN);
  });

  test("request op, broadcast target MAC, VIP as sender and target (RFC 5227 §3 announcement)", () => {
    const f = gratuitousArp(mac(7), parseIp("203.0.113.9")!.bytes);
    expect((f[20]! << 8) | f[21]!).toBe(1);
    expect([...f.subarray(32, 38)]).toEqual([255, 255, 255, 255, 255, 255]);
    expect([...f.subarray(28, 32)]).toEqual([203, 0, 113, 9]);
    expect([...f.subarray(38, 42)]).toEqual([203, 0, 113, 9]);
  });

  test("rejects addresses of the wrong size", () => {
    expect(() => gratuitousArp(new Uint8Array(5), VIP4)).toThrow(RangeError);
    expect(() => gratuitousArp(mac(1), VIP6)).toThrow(RangeError);
  });
});

describe("unsolicited neighbour advertisement", () => {
  test("equals keepalived's frame byte for byte, checksum included", () => {
    expect(unsolicitedNa(mac(1), VIP6, false)).toEqual(NA_H1);
    expect(NA_H1.length).toBe(NA_FRAME_LEN);
  });

  test("the ICMPv6 checksum is RFC 4443's over the RFC 8200 pseudo-header", () => {
    const na = neighbourAdvert(mac(1), VIP6, false);
    expect((na[2]! << 8) | na[3]!).toBe(0x4712);
    expect(naChecksumOk(NA_H1)).toBe(true);
    // A message whose checksum field holds the right value sums to zero.
    expect(icmpv6Checksum(VIP6, ALL_NODES, na)).toBe(0);
  });

  test("the Router flag sets bit 31 and keeps the checksum right", () => {
    const f = unsolicitedNa(mac(3), parseIp("2001:db8:5::7")!.bytes, true);
    expect(f[58]).toBe(0xa0); // Router | Override, not Solicited
    expect(naChecksumOk(f)).toBe(true);
    expect(unsolicitedNa(mac(3), parseIp("2001:db8:5::7")!.bytes, false)[58]).toBe(0x20);
  });

  test("hop limit 255 (RFC 4861 §7.1.2), source = the VIP, to ff02::1 / 33:33:00:00:00:01", () => {
    const f = unsolicitedNa(mac(1), VIP6, false);
    expect(f[21]).toBe(255);
    expect(f.subarray(22, 38)).toEqual(VIP6);
    expect(f.subarray(38, 54)).toEqual(ALL_NODES);
    expect([...f.subarray(0, 6)]).toEqual([0x33, 0x33, 0, 0, 0, 1]);
  });
});

const PCAPS = "/work/shared/reference/pcaps";
describe.skipIf(!existsSync(PCAPS))(`every frame in the reference pcaps (${PCAPS})`, () => {
  test.each(["keepalived-v2.pcap", "keepalived-v3.pcap", "keepalived-v3-ipv6.pcap"])(
    "%s",
    (file) => {
      let seen = 0;
      for (const r of readPcap(new Uint8Array(readFileSync(`${PCAPS}/${file}`))).records) {
        const f = r.data;
        const ethertype = (f[12]! << 8) | f[13]!;
        const src = f.slice(6, 12);
        if (ethertype === 0x0806) {
          expect(gratuitousArp(src, f.slice(28, 32))).toEqual(f);
          seen++;
        } else if (ethertype === 0x86dd && f[20] === 58 && f[54] === 136) {
          expect(unsolicitedNa(src, f.slice(62, 78), (f[58]! & 0x80) !== 0)).toEqual(f);
          seen++;
        }
      }
      expect(seen).toBeGreaterThan(0);
    },
  );
});
