/**
 * Interop of the codec with two outside judges: Wireshark's VRRP dissector must decode every
 * advert we encode (checksum good, nothing malformed), and every VRRP frame real keepalived
 * 2.2.7 sent in the reference captures must pass our decode + receive checks.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type IpAddr, isMulticast, parseIp } from "../../../src/core/net/ip.ts";
import {
  type AdvertOut,
  decodeAdvert,
  encodeAdvert,
  encodeIpv4Header,
  passwordAuthData,
} from "../../../src/core/vrrp/advert.ts";
import { IPPROTO_VRRP } from "../../../src/core/vrrp/checksum.ts";
import { checkAdvert, type ReceivingInstance } from "../../../src/core/vrrp/receive-check.ts";
import { missing, run } from "../../helpers/env.ts";
import {
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ethernetFrame,
  ipv6Packet,
  multicastMac,
  type PcapRecord,
  parseEthernet,
  readPcap,
  writePcap,
} from "../../helpers/pcap.ts";

const ip = (s: string): IpAddr => parseIp(s)!;
const HOST_MAC = new Uint8Array([0x02, 0x1a, 0xb0, 0, 0, 1]);
const PEER_MAC = new Uint8Array([0x02, 0x1a, 0xb0, 0, 0, 2]);
const SRC = { 4: ip("192.0.2.11"), 6: ip("fe80::1a:b0ff:fe00:1") } as const;
const GROUP = { 4: ip("224.0.0.18"), 6: ip("ff02::12") } as const;
const PEER = { 4: ip("192.0.2.12"), 6: ip("fe80::1a:b0ff:fe00:2") } as const;

interface Case {
  readonly out: AdvertOut;
  readonly family: 4 | 6;
  readonly dst: IpAddr;
  readonly asV2: boolean;
}

function addresses(family: 4 | 6, n: number): IpAddr[] {
  return Array.from({ length: n }, (_, i) =>
    ip(family === 4 ? `198.51.100.${i + 1}` : `2001:db8:${i.toString(16)}::${i + 1}`),
  );
}

/** v2/v3 × IPv4/IPv6 × 1..many addresses × priorities 0/100/255 × multicast/unicast. */
function matrix(): Case[] {
  const cases: Case[] = [];
  for (const [version, family] of [
    [2, 4],
    [3, 4],
    [3, 6],
  ] as const) {
    for (const n of [1, 2, 7, 20]) {
      for (const priority of [0, 100, 255]) {
        for (const dst of [GROUP[family], PEER[family]]) {
          const base = { vrid: n * 3 + (priority & 7), priority, addresses: addresses(family, n) };
          const out: AdvertOut =
            version === 2
              ? {
                  ...base,
                  version,
                  authType: n % 2 === 0 ? 1 : 0,
                  authData: passwordAuthData("s3cr3t!!x"),
                  advertIntervalS: 1 + n,
                }
              : { ...base, version, maxAdvertIntervalCs: 10 * n };
          cases.push({ out, family, dst, asV2: false });
        }
      }
    }
  }
  return cases;
}

/** Ethernet + IP + VRRP, as it would appear on the wire (short frames padded). */
function frame(c: Case): Uint8Array {
  const vrrp = new Uint8Array(8 + 16 * c.out.addresses.length + 8);
  const src = SRC[c.family];
  const len = encodeAdvert(vrrp, 0, c.out, {
    family: c.family,
    src,
    dst: c.dst,
    checksumAsV2: c.asV2,
  });
  const dstMac = isMulticast(c.dst) ? multicastMac(c.family, c.dst.bytes) : PEER_MAC;
  if (c.family === 6) {
    const pkt = ipv6Packet(src.bytes, c.dst.bytes, IPPROTO_VRRP, 255, vrrp.subarray(0, len));
    return ethernetFrame(dstMac, HOST_MAC, ETHERTYPE_IPV6, pkt, true);
  }
  const pkt = new Uint8Array(20 + len);
  encodeIpv4Header(pkt, 0, { src, dst: c.dst, ttl: 255, tos: 0xc0, id: 0, payloadLength: len });
  pkt.set(vrrp.subarray(0, len), 20);
  return ethernetFrame(dstMac, HOST_MAC, ETHERTYPE_IPV4, pkt, true);
}

const why = missing({ commands: ["tshark"] });
if (why) console.log(`tshark tests skipped: ${why}`);
const dir = mkdtempSync(join(tmpdir(), "vrrp-tshark-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** tshark -V output, one chunk per frame. */
function dissect(cases: readonly Case[], name: string, prefs: string[] = []): string[] {
  const records: PcapRecord[] = cases.map((c, i) => {
    const data = frame(c);
    return { time: 1_800_000_000 + i / 100, data, origLen: data.length };
  });
  const file = join(dir, `${name}.pcap`);
  writeFileSync(file, writePcap(records));
  const r = run(["tshark", "-n", "-r", file, "-V", "-o", "ip.check_checksum:TRUE", ...prefs]);
  // tshark warns when run as root; anything else on stderr is a problem.
  expect(r.stderr.replace(/^Running as user .*\n/m, "")).toBe("");
  expect(r.code).toBe(0);
  return r.stdout.split(/^Frame \d+:/m).slice(1);
}

function assertGood(cases: readonly Case[], frames: readonly string[]): void {
  expect(frames.length).toBe(cases.length);
  frames.forEach((text, i) => {
    const c = cases[i]!;
    const label = `frame ${i + 1} (v${c.out.version} IPv${c.family} n=${c.out.addresses.length})`;
    expect({ label, vrrp: text.includes("Virtual Router Redundancy Protocol") }).toEqual({
      label,
      vrrp: true,
    });
    expect({ label, good: text.includes("[Checksum Status: Good]") }).toEqual({
      label,
      good: true,
    });
    expect({
      label,
      bad: /Malformed|Expert Info \((Error|Warning)|Bad checksum/.test(text),
    }).toEqual({
      label,
      bad: false,
    });
    expect(text).toContain(`Virtual Rtr ID: ${c.out.vrid}\n`);
    expect(text).toContain(`Priority: ${c.out.priority} `);
    expect(text).toContain(`Addr Count: ${c.out.addresses.length}\n`);
    if (c.family === 4) expect(text).toContain("[Header checksum status: Good]");
  });
}

describe.skipIf(why !== undefined)("tshark decodes what we encode", () => {
  test("the matrix: v2/v3, IPv4/IPv6, 1–20 addresses, priorities 0/100/255, uni/multicast", () => {
    const cases = matrix();
    expect(cases.length).toBe(3 * 4 * 3 * 2);
    assertGood(cases, dissect(cases, "matrix"));
  });
  test("v3_checksum_as_v2, judged with Wireshark's matching preference", () => {
    const cases = matrix()
      .filter((c) => c.out.version === 3 && c.family === 4)
      .map((c) => ({ ...c, asV2: true }));
    assertGood(cases, dissect(cases, "as-v2", ["-o", "vrrp.v3_checksum_as_in_v2:TRUE"]));
    // Without the preference the same frames must fail: the variant really differs.
    const plain = dissect(cases, "as-v2-plain");
    expect(plain.filter((t) => t.includes("[Checksum Status: Good]")).length).toBe(0);
  });
});

const PCAPS = "/work/shared/reference/pcaps";
const base = {
  vrid: 51,
  unicast: false,
  checkUnicastSrc: false,
  skipCheckAdvAddr: false,
  ownerIgnoreAdverts: false,
  priority: 100,
} as const;
/** Each capture with the instance its header line describes, and its VRRP frame count. */
const CAPTURES: [string, ReceivingInstance, number][] = [
  [
    "keepalived-v2",
    {
      ...base,
      version: 2,
      family: 4,
      authType: 1,
      authData: passwordAuthData("labpass"),
      advertIntervalS: 1,
      vips: ["192.0.2.100"],
    },
    20,
  ],
  [
    "keepalived-v3",
    { ...base, version: 3, family: 4, authType: 0, advertIntervalCs: 10, vips: ["192.0.2.100"] },
    55,
  ],
  [
    "keepalived-v3-ipv6",
    { ...base, version: 3, family: 6, authType: 0, advertIntervalCs: 100, vips: ["2001:db8::100"] },
    20,
  ],
];

describe.skipIf(missing({ paths: [PCAPS] }) !== undefined)("keepalived's own adverts pass", () => {
  test.each(CAPTURES)("%s", (name, inst, count) => {
    const pcap = readPcap(new Uint8Array(readFileSync(`${PCAPS}/${name}.pcap`)));
    let seen = 0;
    for (const rec of pcap.records) {
      const eth = parseEthernet(rec.data);
      if (!eth) continue;
      const p = eth.payload;
      let result: ReturnType<typeof decodeAdvert>;
      if (eth.etherType === ETHERTYPE_IPV4 && p[9] === IPPROTO_VRRP) {
        result = decodeAdvert(p, { family: 4, ipv4HeaderIncluded: true });
      } else if (eth.etherType === ETHERTYPE_IPV6 && p[6] === IPPROTO_VRRP) {
        const rx = {
          family: 6 as const,
          ttlOrHopLimit: p[7]!,
          src: { family: 6 as const, bytes: p.slice(8, 24) },
          dst: { family: 6 as const, bytes: p.slice(24, 40) },
          ipv4HeaderIncluded: false,
        };
        result = decodeAdvert(p.subarray(40, 40 + ((p[4]! << 8) | p[5]!)), rx);
      } else continue;
      seen++;
      if (!result.ok) throw new Error(`${name}: ${result.reason} ${result.detail}`);
      expect(result.advert.checksumOk).toBe(true);
      const r = checkAdvert(result.advert, inst);
      expect({ verdict: r.verdict, reason: r.reason, addr: r.addrListMismatch }).toEqual({
        verdict: "accept",
        reason: undefined,
        addr: false,
      });
      expect(r.priorityZero).toBe(result.advert.priority === 0);
    }
    expect(seen).toBe(count);
  });
});
