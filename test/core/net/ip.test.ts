import { describe, expect, test } from "bun:test";
import {
  bigIntToIp,
  compareIp,
  formatIp,
  formatPrefix,
  formatRange,
  hostBitsSet,
  ipToBigInt,
  isLinkLocal,
  isMulticast,
  isUnspecified,
  maskHostBits,
  parseIp,
  parsePrefix,
  parseRange,
} from "../../../src/core/net/ip.ts";
import { forCases, SEED } from "../../config/lines/rand.ts";

const canon = (s: string): string | undefined => {
  const a = parseIp(s);
  return a ? formatIp(a) : undefined;
};

describe("IPv4", () => {
  test.each([
    ["0.0.0.0", "0.0.0.0"],
    ["192.0.2.1", "192.0.2.1"],
    ["255.255.255.255", "255.255.255.255"],
  ])("%s", (s, want) => {
    expect(canon(s)).toBe(want);
    expect(parseIp(s)?.family).toBe(4);
  });

  // inet_pton's rules: exactly four decimal parts, no leading zeros, each at most 255.
  test.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3.04",
    "1..3.4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.4/24",
    "0x1.2.3.4",
    "1.2.3.-4",
    "1.2.3.4.",
  ])("rejects %p", (s) => {
    expect(parseIp(s)).toBeUndefined();
  });
});

describe("IPv6 (RFC 5952)", () => {
  test.each([
    // §4.1 leading zeros removed; §4.3 lowercase.
    ["2001:0db8::0001", "2001:db8::1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:aaaa:bbbb:cccc:dddd:eeee:AAAA", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa"],
    // §4.2.1 shorten as much as possible.
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8::0:1", "2001:db8::1"],
    // §4.2.2 a single 16-bit 0 field is not shortened.
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    // §4.2.3 the longest run; the first on a tie.
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["fe80::1", "fe80::1"],
    ["FE80:0000:0000:0000:0000:0000:0000:0001", "fe80::1"],
    // §5 mixed notation for IPv4-mapped addresses only.
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["::ffff:c000:0201", "::ffff:192.0.2.1"],
    ["0:0:0:0:0:ffff:0.0.0.0", "::ffff:0.0.0.0"],
    ["::1.2.3.4", "::102:304"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ])("%s -> %s", (s, want) => {
    expect(canon(s)).toBe(want);
    expect(canon(want)).toBe(want);
  });

  test.each([
    ":",
    ":::",
    "1:::2",
    "1::2::3",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "12345::",
    "g::",
    "fe80::1%eth0",
    "fe80::1%1",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "2001:db8::1:2:3:4:5:6",
    "1.2.3.4::",
    "::1.2.3.04",
    "::1.2.3",
    "::ffff:1.2.3.4.5",
    "1.2.3.4:1::",
    "[::1]",
    "::1/128",
  ])("rejects %p", (s) => {
    expect(parseIp(s)).toBeUndefined();
  });

  test(`formatIp/parseIp round-trip and agree with WHATWG URL (seed ${SEED})`, () => {
    forCases(SEED, 3000, (r) => {
      const a = { family: 6 as const, bytes: r.bytes(16) };
      const text = formatIp(a);
      expect(parseIp(text)?.bytes).toEqual(a.bytes);
      expect(text).toBe(text.toLowerCase());
      const mapped = text.startsWith("::ffff:") && text.includes(".");
      // WHATWG URL serialises IPv6 by RFC 5952's compression rules, without mixed notation.
      if (!mapped) expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
      const v4 = { family: 4 as const, bytes: r.bytes(4) };
      expect(parseIp(formatIp(v4))?.bytes).toEqual(v4.bytes);
    });
  });
});

describe("prefixes", () => {
  test("bare address gets the full length", () => {
    const p = parsePrefix("192.0.2.1");
    expect(p.ok && formatPrefix(p.prefix)).toBe("192.0.2.1/32");
    expect(p.ok && p.explicitLen).toBe(false);
    const q = parsePrefix("2001:DB8::1");
    expect(q.ok && formatPrefix(q.prefix)).toBe("2001:db8::1/128");
  });

  test.each([
    ["192.0.2.0/24", "192.0.2.0/24"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["192.0.2.1/024", "192.0.2.1/24"],
  ])("%s", (s, want) => {
    const p = parsePrefix(s);
    expect(p.ok && formatPrefix(p.prefix)).toBe(want);
    expect(p.ok && p.explicitLen).toBe(true);
  });

  test.each([
    ["192.0.2.0/33", "bad-prefix"],
    ["2001:db8::/129", "bad-prefix"],
    ["192.0.2.0/", "bad-prefix"],
    ["192.0.2.0/-1", "bad-prefix"],
    ["192.0.2.0/ 24", "bad-prefix"],
    ["192.0.2.0/24/1", "bad-prefix"],
    ["192.0.2/24", "bad-address"],
    ["x/24", "bad-address"],
  ])("%s fails with %s", (s, code) => {
    const p = parsePrefix(s);
    expect(p.ok ? "ok" : p.code).toBe(code);
  });

  test("requireLen", () => {
    const p = parsePrefix("192.0.2.1", true);
    expect(p.ok ? "ok" : p.code).toBe("bad-prefix");
  });

  test("host bits", () => {
    const p = parsePrefix("192.0.2.1/24");
    if (!p.ok) throw new Error("parse");
    expect(hostBitsSet(p.prefix)).toBe(true);
    expect(formatPrefix(maskHostBits(p.prefix))).toBe("192.0.2.0/24");
    expect(formatPrefix(maskHostBits(p.prefix, true))).toBe("192.0.2.255/24");
    const q = parsePrefix("2001:db8::/33");
    expect(q.ok && hostBitsSet(q.prefix)).toBe(false);
  });
});

describe("comparison and classes", () => {
  const ip = (s: string) => parseIp(s)!;
  test("compareIp is numeric, IPv4 before IPv6", () => {
    expect(compareIp(ip("10.0.0.2"), ip("10.0.0.10"))).toBe(-1);
    expect(compareIp(ip("192.0.2.1"), ip("10.255.255.255"))).toBe(1);
    expect(compareIp(ip("fe80::1"), ip("fe80::1"))).toBe(0);
    expect(compareIp(ip("2001:db8::2"), ip("2001:db8::10"))).toBe(-1);
    expect(compareIp(ip("255.255.255.255"), ip("::"))).toBe(-1);
    expect(compareIp(ip("::"), ip("0.0.0.0"))).toBe(1);
  });

  test(`compareIp agrees with bigint order (seed ${SEED})`, () => {
    forCases(SEED, 2000, (r) => {
      const a = { family: 6 as const, bytes: r.bytes(16) };
      const b = { family: 6 as const, bytes: r.bytes(16) };
      const x = ipToBigInt(a);
      const y = ipToBigInt(b);
      expect(compareIp(a, b)).toBe(x < y ? -1 : x > y ? 1 : 0);
      expect(bigIntToIp(6, x).bytes).toEqual(a.bytes);
    });
  });

  test.each([
    ["224.0.0.18", true, false, false],
    ["239.255.255.255", true, false, false],
    ["223.255.255.255", false, false, false],
    ["ff02::12", true, false, false],
    ["fe80::1", false, true, false],
    ["febf::1", false, true, false],
    ["fec0::1", false, false, false],
    ["169.254.1.1", false, true, false],
    ["169.253.1.1", false, false, false],
    ["0.0.0.0", false, false, true],
    ["::", false, false, true],
    ["::1", false, false, false],
  ])("%s multicast=%p linklocal=%p unspecified=%p", (s, m, l, u) => {
    const a = ip(s);
    expect([isMulticast(a), isLinkLocal(a), isUnspecified(a)]).toEqual([m, l, u]);
  });
});

describe("virtual_server_group ranges", () => {
  test.each([
    ["192.168.200.1", "single", 1n, "192.168.200.1", "192.168.200.1"],
    ["192.168.200.1-10", "short", 10n, "192.168.200.1", "192.168.200.10"],
    ["192.168.200.250-192.168.201.10", "full", 17n, "192.168.200.250", "192.168.201.10"],
    ["192.168.200.5-192.168.200.5", "full", 1n, "192.168.200.5", "192.168.200.5"],
    ["192.168.202.8/29", "prefix", 8n, "192.168.202.8", "192.168.202.15"],
    ["10.0.0.0/8", "prefix", 2n ** 24n, "10.0.0.0", "10.255.255.255"],
    ["10.0.0.1/32", "prefix", 1n, "10.0.0.1", "10.0.0.1"],
    ["ae00::2-9", "short", 8n, "ae00::2", "ae00::9"],
    ["ae00::2-A", "short", 9n, "ae00::2", "ae00::a"],
    ["2001:db8::-2001:db8::1:0", "full", 65537n, "2001:db8::", "2001:db8::1:0"],
    ["2001:db8::/64", "prefix", 2n ** 64n, "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"],
  ])("%s", (s, form, count, first, last) => {
    const r = parseRange(s);
    if (!r.ok) throw new Error(r.message);
    expect([r.range.form, r.range.count, formatIp(r.range.first), formatIp(r.range.last)]).toEqual([
      form,
      count,
      first,
      last,
    ]);
    const again = parseRange(formatRange(r.range));
    expect(again.ok && again.range).toEqual(r.range);
  });

  test("canonical text keeps the form", () => {
    const f = (s: string) => {
      const r = parseRange(s);
      return r.ok ? formatRange(r.range) : r.code;
    };
    expect(f("AE00:0::0002-000A")).toBe("ae00::2-a");
    expect(f("192.168.200.1-010")).toBe("192.168.200.1-10");
    expect(f("2001:DB8::/126")).toBe("2001:db8::/126");
  });

  test.each([
    ["192.168.200.10-5", "bad-range"],
    ["192.168.200.4-4", "bad-range"],
    ["192.168.200.4-256", "bad-range"],
    ["192.168.200.4-0x10", "bad-range"],
    ["192.168.200.4-", "bad-range"],
    ["ae00::9-2", "bad-range"],
    ["ae00::2-10000", "bad-range"],
    ["1.2.3.4-1.2.3.3", "bad-range"],
    ["1.2.3.4-1.2.3", "bad-address"],
    ["1.2.3.4-2001:db8::1.2.3.4", "family-mismatch"],
    ["2001:db8::1-1.2.3.4:", "bad-address"],
    ["192.168.202.9/29", "host-bits-set"],
    ["2001:db8::1/64", "host-bits-set"],
    ["192.168.202.0/0", "bad-prefix"],
    ["192.168.202.0/33", "bad-prefix"],
    ["x-5", "bad-address"],
    ["1.2.3.4/24-5", "bad-prefix"],
  ])("%s fails with %s", (s, code) => {
    const r = parseRange(s);
    expect(r.ok ? "ok" : r.code).toBe(code);
  });
});
