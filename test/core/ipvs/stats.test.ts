/**
 * The IPVS traffic counters in GET_SERVICE / GET_DEST dumps: the IPVS_STATS_ATTR_* nests of
 * Linux include/uapi/linux/ip_vs.h, filled by net/netfilter/ipvs/ip_vs_ctl.c
 * ip_vs_genl_fill_stats (32-bit: conns, packets and rates u32, bytes u64) and
 * ip_vs_genl_fill_stats64 (every value u64, PAD before a misaligned u64).
 */
import { describe, expect, test } from "bun:test";
import {
  decodeDest,
  decodeDestWithStats,
  decodeService,
  decodeServiceWithStats,
  decodeStats,
  u64ToNumber,
} from "../../../src/core/ipvs/genl-decode.ts";
import { CA, DA_STATS, DA_STATS64, SA_STATS, STATS } from "../../../src/core/ipvs/ipvs-attrs.ts";
import {
  type Attr,
  encodeAttrs,
  NlDecodeError,
  parseAttrs,
  u32,
} from "../../../src/core/ipvs/nlattr.ts";
import { AF_INET, AF_INET6, type IpvsStats } from "../../../src/core/ipvs/types.ts";
import { CAPTURE } from "./ipvsadm-capture.ts";

const unhex = (s: string): Uint8Array =>
  new Uint8Array(Buffer.from(s.replace(/#[^\n]*/g, "").replace(/[^0-9a-f]/gi, ""), "hex"));
const u64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};

/** A DEST reply from a Linux ≥ 4.1 kernel, annotated from uapi ip_vs.h (no PAD: x86-64). */
const DEST_STATS64 = unhex(`
  dc00 0200                               # IPVS_CMD_ATTR_DEST, 220 bytes
    1400 0100 c633640a 00000000 00000000 00000000  # ADDR 198.51.100.10
    0600 0200 1f90 0000                   # PORT 8080 (be16)
    0800 0300 00000000                    # FWD_METHOD masq
    0800 0400 01000000                    # WEIGHT 1
    0800 0500 00000000                    # U_THRESH
    0800 0600 00000000                    # L_THRESH
    0800 0700 02000000                    # ACTIVE_CONNS 2
    0800 0800 05000000                    # INACT_CONNS 5
    0800 0900 00000000                    # PERSIST_CONNS 0
    0600 0b00 0200 0000                   # ADDR_FAMILY AF_INET
    7c00 0c00                             # STATS64, 124 bytes
      0c00 0100 0700000000000000          # CONNS 7
      0c00 0200 2a00000000000000          # INPKTS 42
      0c00 0300 2800000000000000          # OUTPKTS 40
      0c00 0400 1000000001000000          # INBYTES 2^32 + 16
      0c00 0500 b80b000000000000          # OUTBYTES 3000
      0c00 0600 0100000000000000          # CPS 1
      0c00 0700 0200000000000000          # INPPS 2
      0c00 0800 0300000000000000          # OUTPPS 3
      0c00 0900 9600000000000000          # INBPS 150
      0c00 0a00 fa00000000000000          # OUTBPS 250
`);

const ANNOTATED_STATS: IpvsStats = {
  conns: 7,
  inPkts: 42,
  outPkts: 40,
  inBytes: 2 ** 32 + 16,
  outBytes: 3000,
  cps: 1,
  inPps: 2,
  outPps: 3,
  inBps: 150,
  outBps: 250,
};

const ORDER: readonly (readonly [keyof IpvsStats, number])[] = [
  ["conns", STATS.CONNS],
  ["inPkts", STATS.INPKTS],
  ["outPkts", STATS.OUTPKTS],
  ["inBytes", STATS.INBYTES],
  ["outBytes", STATS.OUTBYTES],
  ["cps", STATS.CPS],
  ["inPps", STATS.INPPS],
  ["outPps", STATS.OUTPPS],
  ["inBps", STATS.INBPS],
  ["outBps", STATS.OUTBPS],
];
const WIDE_IN_32 = new Set<number>([STATS.INBYTES, STATS.OUTBYTES]);

/** A stats nest as the kernel writes it; `pad` puts a PAD attribute before every u64. */
function statsNest(
  type: number,
  s: IpvsStats,
  opts: { wide: boolean; pad?: boolean; drop?: number },
): Attr {
  const nested: Attr[] = [];
  for (const [field, t] of ORDER) {
    if (t === opts.drop) continue;
    const asU64 = opts.wide || WIDE_IN_32.has(t);
    if (asU64 && opts.pad) nested.push({ type: STATS.PAD, value: new Uint8Array() });
    nested.push({ type: t, value: asU64 ? u64(BigInt(s[field])) : u32(s[field]) });
  }
  return { type, nested };
}

/** The DEST reply above with its STATS64 nest replaced by `extra`. */
function destWith(...extra: Attr[]): Uint8Array {
  const top = parseAttrs(DEST_STATS64, "t");
  const inner = parseAttrs(top.get(CA.DEST) as Uint8Array, "t");
  const keep: Attr[] = [...inner]
    .filter(([t]) => t !== DA_STATS64)
    .map(([type, value]) => ({ type, value }));
  return encodeAttrs([{ type: CA.DEST, nested: [...keep, ...extra] }]);
}

/** The attribute bytes of a captured reply (after its 4-byte genlmsghdr). */
const captured = (cmd: string, i: number): Uint8Array => {
  const c = CAPTURE.filter((x) => x.cmd === cmd && x.dir === "received")[i];
  if (!c) throw new Error(`no capture ${cmd} #${i}`);
  return unhex(c.hex).subarray(4);
};

const ZERO: IpvsStats = {
  conns: 0,
  inPkts: 0,
  outPkts: 0,
  inBytes: 0,
  outBytes: 0,
  cps: 0,
  inPps: 0,
  outPps: 0,
  inBps: 0,
  outBps: 0,
};

describe("decoding the counters nests", () => {
  test("STATS64 of a dest, annotated from uapi ip_vs.h", () => {
    const d = decodeDestWithStats(DEST_STATS64, AF_INET);
    expect(d.stats).toEqual(ANNOTATED_STATS);
    expect(d).toMatchObject({ port: 8080, weight: 1, activeConns: 2, inactiveConns: 5 });
  });

  test("the plain decoders leave the counters out (the reconciler does not read them)", () => {
    expect("stats" in decodeDest(DEST_STATS64, AF_INET)).toBe(false);
    expect("stats" in decodeService(captured("ipvsadm -Ln", 1))).toBe(false);
  });

  test("Linux 6.1's captured replies (PAD before every u64) decode to zero counters", () => {
    // ipvsadm -Ln right after the services were added: no traffic yet.
    for (const i of [1, 2, 3])
      expect(decodeServiceWithStats(captured("ipvsadm -Ln", i)).stats).toEqual(ZERO);
    for (const i of [4, 5])
      expect(decodeDestWithStats(captured("ipvsadm -Ln", i), AF_INET).stats).toEqual(ZERO);
    expect(decodeDestWithStats(captured("ipvsadm -Ln", 6), AF_INET6).stats).toEqual(ZERO);
  });

  test("STATS64 wins over STATS when both are there", () => {
    const narrow = { ...ANNOTATED_STATS, conns: 1, inBytes: 5 };
    const b = destWith(
      statsNest(DA_STATS, narrow, { wide: false }),
      statsNest(DA_STATS64, ANNOTATED_STATS, { wide: true, pad: true }),
    );
    expect(decodeDestWithStats(b, AF_INET).stats).toEqual(ANNOTATED_STATS);
  });

  test("only the 32-bit STATS nest (Linux < 4.1): u32 counts and rates, u64 bytes", () => {
    const s = { ...ANNOTATED_STATS, conns: 0xffffffff, outBytes: 2 ** 40 + 3 };
    const b = destWith(statsNest(DA_STATS, s, { wide: false, pad: true }));
    expect(decodeDestWithStats(b, AF_INET).stats).toEqual(s);
    // the fixture really carries 4-byte counts and 8-byte byte counters
    const raw = parseAttrs(parseAttrs(b, "t").get(CA.DEST) as Uint8Array, "t").get(DA_STATS);
    const attrs = parseAttrs(raw as Uint8Array, "t");
    expect([attrs.get(STATS.CONNS)?.length, attrs.get(STATS.INBYTES)?.length]).toEqual([4, 8]);
  });

  test("no counters nest at all: no stats", () => {
    const d = decodeDestWithStats(destWith(), AF_INET);
    expect(d.stats).toBeUndefined();
    expect(d.weight).toBe(1);
  });

  test("a service's STATS nest", () => {
    const top = parseAttrs(captured("ipvsadm -Ln", 1), "t");
    const inner = parseAttrs(top.get(CA.SERVICE) as Uint8Array, "t");
    const keep: Attr[] = [...inner]
      .filter(([t]) => t !== 10 && t !== 12)
      .map(([type, value]) => ({ type, value }));
    const b = encodeAttrs([
      {
        type: CA.SERVICE,
        nested: [...keep, statsNest(SA_STATS, ANNOTATED_STATS, { wide: false })],
      },
    ]);
    expect(decodeServiceWithStats(b).stats).toEqual(ANNOTATED_STATS);
    expect(decodeServiceWithStats(b).scheduler).toBe("wlc");
  });
});

describe("u64 counters above 2^53 − 1", () => {
  test("exact up to 2^53 − 1, then the nearest double, never decreasing", () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    expect(u64ToNumber(max)).toBe(Number.MAX_SAFE_INTEGER);
    expect(u64ToNumber(max + 1n)).toBe(2 ** 53);
    expect(u64ToNumber(max + 2n)).toBe(2 ** 53); // 2^53 + 1 is not a double: rounds down
    expect(u64ToNumber(max + 3n)).toBe(2 ** 53 + 2);
    expect(u64ToNumber(2n ** 64n - 1n)).toBe(2 ** 64);
    let prev = -1;
    for (let v = max - 4n; v < max + 40n; v++) {
      const n = u64ToNumber(v);
      expect(n).toBeGreaterThanOrEqual(prev);
      expect(Math.abs(n - Number(v))).toBeLessThanOrEqual(1);
      prev = n;
    }
  });

  test("through the decoder: a 2^60-byte counter and the u64 maximum", () => {
    const s = { ...ANNOTATED_STATS, inBytes: 2 ** 60, outBytes: 2 ** 64 };
    const nest = encodeAttrs([statsNest(DA_STATS64, s, { wide: true })]);
    const inner = parseAttrs(nest, "t").get(DA_STATS64) as Uint8Array;
    const withMax = new Uint8Array(inner);
    // OUTBYTES is the 5th 12-byte attribute: overwrite its value with 2^64 − 1.
    withMax.set(u64(2n ** 64n - 1n), 4 * 12 + 4);
    expect(decodeStats(withMax, true, "DEST.STATS64")).toEqual(s);
  });
});

describe("malformed counters are NlDecodeErrors naming the attribute", () => {
  const err = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      if (e instanceof NlDecodeError) return e.message;
      throw e;
    }
    return "no error";
  };

  test("a missing counter", () => {
    const b = destWith(statsNest(DA_STATS64, ANNOTATED_STATS, { wide: true, drop: STATS.CPS }));
    expect(err(() => decodeDestWithStats(b, AF_INET))).toBe("DEST.STATS64.CPS: missing");
  });

  test("a u32 where STATS64 needs a u64", () => {
    const bad: Attr = {
      type: DA_STATS64,
      nested: ORDER.map(([, t]) => ({
        type: t,
        value: t === STATS.INBYTES ? u32(1) : u64(1n),
      })),
    };
    expect(err(() => decodeDestWithStats(destWith(bad), AF_INET))).toBe(
      "DEST.STATS64.INBYTES: expected 8 bytes, got 4",
    );
  });

  test("a nest whose attribute overruns it", () => {
    const b = destWith({ type: DA_STATS, value: unhex("0c00 0100 0000") });
    expect(err(() => decodeDestWithStats(b, AF_INET))).toBe(
      "DEST.STATS: attribute 1 has bad length 12",
    );
  });

  test("the service's nest is named SERVICE.*", () => {
    const top = parseAttrs(captured("ipvsadm -Ln", 3), "t");
    const inner = parseAttrs(top.get(CA.SERVICE) as Uint8Array, "t");
    const keep: Attr[] = [...inner]
      .filter(([t]) => t !== 10 && t !== 12)
      .map(([type, value]) => ({ type, value }));
    const b = encodeAttrs([
      {
        type: CA.SERVICE,
        nested: [...keep, statsNest(SA_STATS, ZERO, { wide: false, drop: STATS.OUTBPS })],
      },
    ]);
    expect(err(() => decodeServiceWithStats(b))).toBe("SERVICE.STATS.OUTBPS: missing");
    // the plain decoder never looks inside
    expect(decodeService(b).key).toEqual({ af: AF_INET, fwmark: 42 });
  });
});
