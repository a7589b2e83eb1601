/**
 * The VRRP codec and receive checks byte for byte: fixtures are exact frames of keepalived
 * 2.2.7 from /work/shared/reference/pcaps (Ethernet header removed, as a raw socket sees
 * them), then one negative case per decode reason and per check reason, each changing one
 * field of a good packet.
 */
import { describe, expect, test } from "bun:test";
import { formatIp, type IpAddr, parseIp } from "../../../src/core/net/ip.ts";
import {
  type Advert,
  type AdvertOut,
  DECODE_REASONS,
  type DecodeResult,
  type DecodeRx,
  decodeAdvert,
  encodeAdvert,
  encodeIpv4Header,
  passwordAuthData,
} from "../../../src/core/vrrp/advert.ts";
import {
  internetChecksum,
  ipv4HeaderChecksum,
  vrrpChecksum,
  vrrpChecksumValid,
} from "../../../src/core/vrrp/checksum.ts";
import {
  CHECK_REASONS,
  type CheckResult,
  checkAdvert,
  DECODE_OUTCOME,
  REASON_OUTCOME,
  type Reason,
  type ReceivingInstance,
  type Verdict,
} from "../../../src/core/vrrp/receive-check.ts";

/** Hex bytes; `#` starts a comment that runs to the end of the line. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/#.*$/gm, "").replace(/\s+/g, "");
  return Uint8Array.from(digits.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}
const ip = (s: string): IpAddr => parseIp(s)!;
const toHex = (b: Uint8Array | undefined): string | undefined =>
  b && Buffer.from(b).toString("hex");

/** keepalived-v2.pcap frame 6: lab-h1 as master, PASS auth. */
const V2_PASS = hex(`
  45 c0 00 28   # IPv4, IHL 5 | TOS 0xc0 (CS6) | total length 40
  00 01 00 00   # id 1 (chosen by the kernel: keepalived sends 0) | no flags, offset 0
  ff 70 18 87   # TTL 255 | protocol 112 (VRRP) | header checksum 0x1887
  c0 00 02 0b   # src 192.0.2.11
  e0 00 00 12   # dst 224.0.0.18
  21 33 96 01   # version 2, type 1 | VRID 51 | priority 150 | 1 address
  01 01 e2 1f   # auth type 1 (PASS) | advert interval 1 s | checksum 0xe21f
  c0 00 02 64   # 192.0.2.100
  6c 61 62 70 61 73 73 00   # auth data "labpass", zero-padded
`);
/** keepalived-v2.pcap frame 16: the same instance on SIGTERM, priority 0. */
const V2_PRIO0 = hex(`
  45 c0 00 28 00 06 00 00 ff 70 18 82   # id 6 | header checksum 0x1882
  c0 00 02 0b e0 00 00 12
  21 33 00 01   # VRID 51 | priority 0 (master stops, RFC 3768 §5.3.4) | 1 address
  01 01 78 20   # PASS | 1 s | checksum 0x7820
  c0 00 02 64 6c 61 62 70 61 73 73 00
`);
/** keepalived-v3.pcap frame 10: VRRPv3 over IPv4, advert_int 0.1 s. */
const V3_V4 = hex(`
  45 c0 00 20 00 01 00 00 ff 70 18 8f   # total length 32 | id 1 | header checksum 0x188f
  c0 00 02 0b e0 00 00 12               # 192.0.2.11 -> 224.0.0.18
  31 33 96 01   # version 3, type 1 | VRID 51 | priority 150 | 1 address
  00 0a d3 c1   # reserved 0 | max advert int 10 cs | checksum 0xd3c1 (with pseudo-header)
  c0 00 02 64   # 192.0.2.100
`);
/** keepalived-v3.pcap frame 27: priority 0. */
const V3_V4_PRIO0 = hex(`
  45 c0 00 20 00 0b 00 00 ff 70 18 85 c0 00 02 0b e0 00 00 12   # id 11
  31 33 00 01 00 0a 69 c2 c0 00 02 64   # priority 0 | checksum 0x69c2
`);
/** keepalived-v3-ipv6.pcap frame 6, VRRP message only (an IPv6 raw socket has no header). */
const V3_V6 = hex(`
  31 33 96 01   # version 3, type 1 | VRID 51 | priority 150 | 1 address
  00 64 5c 74   # reserved 0 | max advert int 100 cs | checksum 0x5c74 (RFC 8200 pseudo-header)
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 01 00   # 2001:db8::100
`);
const V6_RX: DecodeRx = {
  family: 6,
  ttlOrHopLimit: 255,
  src: ip("fe80::1a:b0ff:fe00:1"),
  dst: ip("ff02::12"),
  ipv4HeaderIncluded: false,
};
const V4_RX: DecodeRx = { family: 4, ipv4HeaderIncluded: true };

const V2_INST: ReceivingInstance = {
  version: 2,
  family: 4,
  vrid: 51,
  authType: 1,
  authData: passwordAuthData("labpass"),
  advertIntervalS: 1,
  unicast: false,
  checkUnicastSrc: false,
  vips: ["192.0.2.100"],
  skipCheckAdvAddr: false,
  ownerIgnoreAdverts: false,
  priority: 100,
};
const V3_INST: ReceivingInstance = { ...V2_INST, version: 3, authType: 0, advertIntervalCs: 10 };
const V6_VIPS = ["2001:db8::100"];
const V6_INST: ReceivingInstance = { ...V3_INST, family: 6, advertIntervalCs: 100, vips: V6_VIPS };

function decoded(bytes: Uint8Array, rx: DecodeRx = V4_RX): Advert {
  const r = decodeAdvert(bytes, rx);
  if (!r.ok) throw new Error(`decode failed: ${r.reason} (${r.detail})`);
  return r.advert;
}

const check = (b: Uint8Array, inst: ReceivingInstance, rx = V4_RX) =>
  checkAdvert(decoded(b, rx), inst);

/** The record with bytes as hex and addresses as text, to compare whole. */
function plain(a: Advert): Record<string, unknown> {
  return {
    ...a,
    addressBytes: toHex(a.addressBytes),
    authData: toHex(a.authData),
    src: formatIp(a.src),
    dst: formatIp(a.dst),
  };
}

describe("decode keepalived's frames", () => {
  test("v2 with PASS auth", () => {
    expect(plain(decoded(V2_PASS))).toEqual({
      version: 2,
      type: 1,
      vrid: 51,
      priority: 150,
      addrCount: 1,
      addresses: ["192.0.2.100"],
      addressBytes: "c0000264",
      authType: 1,
      authData: "6c61627061737300",
      advertIntervalS: 1,
      maxAdvertIntervalCs: undefined,
      reservedBits: undefined,
      checksum: 0xe21f,
      checksumOk: true,
      messageSum: decoded(V2_PASS).messageSum,
      src: "192.0.2.11",
      dst: "224.0.0.18",
      ttl: 255,
      ipTotalLength: 40,
      lengthOnWire: 40,
      vrrpLength: 20,
    });
  });

  test("v3 over IPv4 and IPv6, priority 0", () => {
    const v3 = decoded(V3_V4);
    expect([v3.version, v3.maxAdvertIntervalCs, v3.reservedBits, v3.vrrpLength]).toEqual([
      3, 10, 0, 12,
    ]);
    expect([v3.authType, v3.authData, v3.advertIntervalS, v3.checksumOk]).toEqual([
      undefined,
      undefined,
      undefined,
      true,
    ]);
    const v6 = decoded(V3_V6, V6_RX);
    expect(plain(v6)).toMatchObject({
      version: 3,
      priority: 150,
      addresses: ["2001:db8::100"],
      maxAdvertIntervalCs: 100,
      checksum: 0x5c74,
      checksumOk: true,
      src: "fe80::1a:b0ff:fe00:1",
      dst: "ff02::12",
      ttl: 255,
      ipTotalLength: undefined,
      lengthOnWire: 24,
    });
    for (const [bytes, inst] of [
      [V2_PRIO0, V2_INST],
      [V3_V4_PRIO0, V3_INST],
    ] as const) {
      expect(decoded(bytes).priority).toBe(0);
      expect(check(bytes, inst)).toMatchObject({ verdict: "accept", priorityZero: true });
    }
  });
});

const SRC = ip("192.0.2.11");
const GROUP = ip("224.0.0.18");

interface P4 {
  id?: number;
  dst?: IpAddr;
  ttl?: number;
  checksumAsV2?: boolean;
  checksumDst?: IpAddr;
}
/** IPv4 header + VRRP message, as keepalived builds them (the kernel's id kept for equality). */
function packet4(a: AdvertOut, { id = 0, dst = GROUP, ttl = 255, ...sum }: P4 = {}): Uint8Array {
  const buf = new Uint8Array(20 + 8 + 4 * a.addresses.length + (a.version === 2 ? 8 : 0));
  const len = encodeAdvert(buf, 20, a, { family: 4, src: SRC, dst, ...sum });
  encodeIpv4Header(buf, 0, { src: SRC, dst, ttl, tos: 0xc0, id, payloadLength: len });
  return buf;
}
const HEAD = { vrid: 51, priority: 150, addresses: [ip("192.0.2.100")] };
const PASS = passwordAuthData("labpass");
const V2_OUT: AdvertOut = { ...HEAD, version: 2, authType: 1, authData: PASS, advertIntervalS: 1 };
const V3_OUT: AdvertOut = { ...HEAD, version: 3, maxAdvertIntervalCs: 10 };

describe("encode gives keepalived's bytes", () => {
  test("v2 PASS and priority 0", () => {
    expect(toHex(packet4(V2_OUT, { id: 1 }))).toBe(toHex(V2_PASS));
    expect(toHex(packet4({ ...V2_OUT, priority: 0 }, { id: 6 }))).toBe(toHex(V2_PRIO0));
  });
  test("v3 over IPv4, priority 150 and 0", () => {
    expect(toHex(packet4(V3_OUT, { id: 1 }))).toBe(toHex(V3_V4));
    expect(toHex(packet4({ ...V3_OUT, priority: 0 }, { id: 11 }))).toBe(toHex(V3_V4_PRIO0));
  });
  test("v3 over IPv6 (the checksum the kernel would write)", () => {
    const buf = new Uint8Array(64).fill(0xee);
    const a: AdvertOut = { ...V3_OUT, addresses: [ip("2001:db8::100")], maxAdvertIntervalCs: 100 };
    const n = encodeAdvert(buf, 3, a, { family: 6, src: V6_RX.src!, dst: V6_RX.dst! });
    expect(toHex(buf.subarray(3, 3 + n))).toBe(toHex(V3_V6));
    expect([buf[2], buf[3 + n]]).toEqual([0xee, 0xee]);
  });
  test("programming errors throw RangeError", () => {
    expect(() =>
      encodeAdvert(new Uint8Array(10), 0, V3_OUT, { family: 4, src: SRC, dst: GROUP }),
    ).toThrow(RangeError);
    expect(() =>
      encodeAdvert(new Uint8Array(40), 0, V3_OUT, { family: 6, src: SRC, dst: GROUP }),
    ).toThrow(RangeError);
  });
  test("password: first 8 bytes, zero-padded", () => {
    expect(toHex(passwordAuthData("abc"))).toBe("6162630000000000");
    expect(toHex(passwordAuthData("0123456789"))).toBe("3031323334353637");
  });
});

describe("checksums", () => {
  test("RFC 1071 §3 example, odd length pads with zero", () => {
    expect(internetChecksum(hex("00 01 f2 03 f4 f5 f6 f7"), 0, 8)).toBe(0x220d);
    expect(internetChecksum(hex("00 01 f2 03 f4 f5 f6"), 0, 7)).toBe(0x2304);
  });
  const zeroed = (b: Uint8Array, at: number): Uint8Array => {
    const c = b.slice();
    c[at + 6] = 0;
    c[at + 7] = 0;
    return c;
  };
  const v4 = { family: 4 as const, src: SRC.bytes, dst: GROUP.bytes };
  test("v2 (no pseudo-header, auth data included), v3 IPv4 and its as-v2 variant", () => {
    expect(vrrpChecksum(zeroed(V2_PASS, 20), 20, 20, { ...v4, version: 2 })).toBe(0xe21f);
    expect(vrrpChecksum(zeroed(V3_V4, 20), 20, 12, { ...v4, version: 3 })).toBe(0xd3c1);
    expect(vrrpChecksum(zeroed(V3_V4, 20), 20, 12, { ...v4, version: 3, asV2: true })).toBe(0x765c);
    expect(vrrpChecksumValid(V3_V4, 20, 12, { ...v4, version: 3 })).toBe(true);
    expect(vrrpChecksumValid(V3_V4, 20, 12, { ...v4, version: 3, dst: SRC.bytes })).toBe(false);
  });
  test("v3 IPv6 pseudo-header and the IPv4 header checksum", () => {
    const ctx = { family: 6 as const, version: 3, src: V6_RX.src!.bytes, dst: V6_RX.dst!.bytes };
    expect(vrrpChecksum(zeroed(V3_V6, 0), 0, 24, ctx)).toBe(0x5c74);
    expect(ipv4HeaderChecksum(V2_PASS, 0, 20)).toBe(0x1887);
    expect(ipv4HeaderChecksum(V3_V4_PRIO0, 0, 20)).toBe(0x1885);
  });
});

/** A copy with bytes changed at `at`; `resum` recomputes the VRRP checksum afterwards. */
function patch(base: Uint8Array, at: number, values: number[], resum = false): Uint8Array {
  const b = base.slice();
  b.set(values, at);
  if (resum) {
    const ctx = {
      family: 4 as const,
      version: b[20]! >> 4,
      src: b.slice(12, 16),
      dst: b.slice(16, 20),
    };
    b[26] = 0;
    b[27] = 0;
    const sum = vrrpChecksum(b, 20, b.length - 20, ctx);
    b.set([sum >> 8, sum & 0xff], 26);
  }
  return b;
}
const failure = (r: DecodeResult) => (r.ok ? "ok" : r.reason);

describe("decode reasons, one per structural check", () => {
  const ah = new Uint8Array(20 + 24 + 12);
  ah.set(V3_V4.subarray(0, 20));
  ah[9] = 51;
  ah.set(V3_V4.subarray(20), 44);
  const cases: [string, string, Uint8Array, DecodeRx][] = [
    ["too_short", "no IPv4 header", V2_PASS.subarray(0, 19), V4_RX],
    ["too_short", "IPv4 header, 7 VRRP bytes", V2_PASS.subarray(0, 27), V4_RX],
    ["too_short", "7 bytes of IPv6 payload", V3_V6.subarray(0, 7), V6_RX],
    ["ip_header_err", "IHL 4", patch(V2_PASS, 0, [0x44]), V4_RX],
    ["ip_protocol_err", "UDP", patch(V2_PASS, 9, [17]), V4_RX],
    ["ah_header", "IPsec AH", ah, V4_RX],
    ["packet_len_err", "count 2, one address", patch(V2_PASS, 23, [2]), V4_RX],
    ["packet_len_err", "auth data cut", V2_PASS.subarray(0, 36), V4_RX],
    ["packet_len_err", "4 trailing bytes", Uint8Array.from([...V3_V6, 0, 0, 0, 0]), V6_RX],
  ];
  test.each(cases)("%s: %s", (reason, _what, bytes, rx) => {
    expect(failure(decodeAdvert(bytes, rx))).toBe(reason);
  });
  test("every decode reason has a case and an outcome", () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(DECODE_REASONS));
    expect(Object.keys(DECODE_OUTCOME).sort()).toEqual([...DECODE_REASONS].sort());
    const r = decodeAdvert(ah, V4_RX);
    expect(r.ok ? 0 : r.vrid).toBe(51);
  });
  test("Ethernet padding to 46 bytes is tolerated, other excess is not", () => {
    const pad = (b: Uint8Array, n: number) => Uint8Array.from([...b, ...new Array(n).fill(0)]);
    expect(check(pad(V2_PASS, 6), V2_INST).verdict).toBe("accept");
    expect(check(pad(V3_V4, 14), V3_INST).verdict).toBe("accept");
    expect(check(pad(V3_V4, 10), V3_INST).verdict).toBe("accept"); // one VLAN tag
    expect(failure(decodeAdvert(pad(V3_V4, 4), V4_RX))).toBe("packet_len_err");
    // A packet of 46 bytes or more was never padded: any excess is an error.
    const five = ["1", "2", "3", "4", "5"].map((x) => ip(`192.0.2.${x}`));
    const big = packet4({ ...V2_OUT, addresses: five });
    expect([big.length, failure(decodeAdvert(pad(big, 2), V4_RX))]).toEqual([56, "packet_len_err"]);
    // keepalived bounds the excess only by its residue; the tot_len check then catches it.
    expect(check(pad(V3_V4, 18), V3_INST).reason).toBe("ip_tot_len_err");
  });
  test("every truncation of every fixture is a typed failure", () => {
    for (const [b, rx] of [
      [V2_PASS, V4_RX],
      [V3_V4, V4_RX],
      [V3_V6, V6_RX],
    ] as const) {
      for (let n = 0; n < b.length; n++) {
        expect(["too_short", "packet_len_err"]).toContain(
          failure(decodeAdvert(b.subarray(0, n), rx)),
        );
      }
    }
  });
});

const PEER = ip("192.0.2.12");
const UNI_INST: ReceivingInstance = { ...V3_INST, unicast: true, peers: [{ address: SRC }] };
const uni = (a: AdvertOut = V3_OUT, ttl = 64) => packet4(a, { dst: PEER, ttl });

describe("check reasons, one per check, in keepalived's order", () => {
  const unicastSrc = { ...UNI_INST, checkUnicastSrc: true };
  type Case = [Reason, Verdict, Uint8Array, ReceivingInstance, DecodeRx];
  const cases: Case[] = [
    ["unknown_vrid", "drop", patch(V2_PASS, 21, [52], true), V2_INST, V4_RX],
    ["ipv6_cast_mismatch", "drop", V3_V6, V6_INST, { ...V6_RX, dst: ip("2001:db8::1") }],
    ["ip_ttl_err", "reject", patch(V2_PASS, 8, [254]), V2_INST, V4_RX],
    ["vers_err", "reject", patch(V3_V4, 20, [0x41]), V3_INST, V4_RX],
    ["invalid_authtype", "reject", patch(V2_PASS, 24, [3]), V2_INST, V4_RX],
    ["authtype_mismatch", "reject", patch(V2_PASS, 24, [0], true), V2_INST, V4_RX],
    ["auth_failure", "reject", patch(V2_PASS, 39, [0x21]), V2_INST, V4_RX],
    ["advert_interval_err", "drop", patch(V2_PASS, 25, [2], true), V2_INST, V4_RX],
    ["invalid_type_rcvd", "reject", patch(V2_PASS, 20, [0x22]), V2_INST, V4_RX],
    ["ip_tot_len_err", "reject", patch(V2_PASS, 3, [0x29]), V2_INST, V4_RX],
    ["chk_err", "reject", patch(V2_PASS, 27, [0x20]), V2_INST, V4_RX],
    ["cast_mismatch", "reject", patch(V2_PASS, 16, [192, 0, 2, 12]), V2_INST, V4_RX],
    [
      "owner_ignore_adverts",
      "drop",
      V2_PASS,
      { ...V2_INST, priority: 255, ownerIgnoreAdverts: true },
      V4_RX,
    ],
    ["unicast_src_err", "reject", uni(), { ...unicastSrc, peers: [{ address: PEER }] }, V4_RX],
    [
      "ttl_range_err",
      "drop",
      uni(),
      { ...unicastSrc, peers: [{ address: SRC, maxTtl: 63 }] },
      V4_RX,
    ],
  ];
  test.each(cases)("%s is %s", (reason, verdict, bytes, inst, rx) => {
    const r: CheckResult = check(bytes, inst, rx);
    const want = [verdict, reason, REASON_OUTCOME[reason].counter];
    expect([r.verdict, r.reason, r.counter]).toEqual(want);
    expect(r.advertRcvd).toBe(reason === "unicast_src_err" || reason === "ttl_range_err");
  });
  test("every check reason has a case", () => {
    expect(cases.map((c) => c[0])).toEqual([...CHECK_REASONS]);
  });
  test("the fixtures are accepted as they are", () => {
    const accepted = { verdict: "accept", advertRcvd: true, addrListMismatch: false };
    expect(check(V2_PASS, V2_INST)).toMatchObject({ ...accepted, priorityZero: false });
    expect(check(V3_V4, V3_INST)).toMatchObject({ ...accepted, intervalMismatch: false });
    expect(check(V3_V6, V6_INST, V6_RX)).toMatchObject(accepted);
  });
  test("order: the TTL check precedes the version check, auth precedes type", () => {
    expect(check(patch(patch(V3_V4, 8, [1]), 20, [0x41]), V3_INST).reason).toBe("ip_ttl_err");
    expect(check(patch(patch(V2_PASS, 20, [0x22]), 39, [1]), V2_INST).reason).toBe("auth_failure");
  });
});

describe("accepted with a note", () => {
  test("address list differs: counted, still accepted; skipped for the same master", () => {
    const other = patch(V2_PASS, 28, [192, 0, 2, 101], true);
    const mismatch = { verdict: "accept", addrListMismatch: true, counter: undefined };
    expect(check(other, V2_INST)).toMatchObject(mismatch);
    const same = { ...V2_INST, skipCheckAdvAddr: true, lastMasterSrc: SRC };
    expect(check(other, same).addrListMismatch).toBe(false);
    expect(check(other, { ...same, lastMasterSrc: PEER }).addrListMismatch).toBe(true);
    expect(check(V2_PASS, { ...same, vips: [] }).addrListMismatch).toBe(true);
  });
  test("v3 interval differs: accepted, flagged (the backup adopts it)", () => {
    const slow = packet4({ ...V3_OUT, maxAdvertIntervalCs: 100 });
    expect(check(slow, V3_INST)).toMatchObject({ verdict: "accept", intervalMismatch: true });
  });
  test("unicast: no TTL check without a range; multicast refused", () => {
    expect(check(uni(), UNI_INST).verdict).toBe("accept");
    expect(check(V3_V4, UNI_INST).reason).toBe("cast_mismatch");
  });
  test("v3_checksum_as_v2 and the old unicast checksum", () => {
    const asV2 = packet4(V3_OUT, { checksumAsV2: true });
    expect(check(asV2, V3_INST).reason).toBe("chk_err");
    expect(check(asV2, { ...V3_INST, checksumAsV2: true }).verdict).toBe("accept");
    const old = packet4(V3_OUT, { dst: PEER, checksumDst: GROUP });
    expect(check(old, UNI_INST)).toMatchObject({ verdict: "accept", checksumCompat: true });
    expect(check(old, { ...UNI_INST, oldUnicastChecksum: "never" }).reason).toBe("chk_err");
    expect(check(old, { ...UNI_INST, oldUnicastChecksum: "on" }).checksumCompat).toBe(false);
    expect(check(uni(), { ...UNI_INST, oldUnicastChecksum: "on" }).reason).toBe("chk_err");
  });
});
