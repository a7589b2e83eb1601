/**
 * Mutation fuzzing of decodeAdvert + checkAdvert: good adverts (and the instances that accept
 * them) are damaged field by field, byte by byte, in length, in the receive metadata and in
 * the instance; whatever happens, the result is typed, never a throw, and every reason must
 * be reached across the run. Plus the round-trip property decode(encode(x)) == x.
 * FUZZ_CASES scales the run (default 200 000); FUZZ_SEED replays one.
 */
import { expect, test } from "bun:test";
import { formatIp, type IpAddr } from "../../src/core/net/ip.ts";
import {
  type AdvertOut,
  advertLength,
  DECODE_REASONS,
  type DecodeResult,
  type DecodeRx,
  decodeAdvert,
  encodeAdvert,
  encodeIpv4Header,
  passwordAuthData,
} from "../../src/core/vrrp/advert.ts";
import { vrrpChecksum } from "../../src/core/vrrp/checksum.ts";
import {
  CHECK_REASONS,
  type CheckResult,
  checkAdvert,
  REASON_OUTCOME,
  type ReceivingInstance,
} from "../../src/core/vrrp/receive-check.ts";
import { Rng } from "../config/lines/rand.ts";

const CASES = Number(process.env.FUZZ_CASES ?? 200_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed) >>> 0;
const caseRng = (i: number) => new Rng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);

interface Sample {
  readonly out: AdvertOut;
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly rx: DecodeRx;
  readonly inst: ReceivingInstance;
}

function randomAddr(r: Rng, family: 4 | 6, multicast = false): IpAddr {
  const bytes = r.bytes(family === 4 ? 4 : 16);
  if (multicast) bytes[0] = family === 4 ? 0xe0 | (bytes[0]! & 0x0f) : 0xff;
  else if (family === 4) bytes[0] = 1 + (bytes[0]! % 0xdf);
  else if (bytes[0] === 0xff) bytes[0] = 0x20;
  return { family, bytes };
}

/** Distinct addresses (a VIP list never repeats itself): a random base, numbered. */
function randomAddrs(r: Rng, family: 4 | 6, n: number): IpAddr[] {
  const base = randomAddr(r, family).bytes;
  return Array.from({ length: n }, (_, i) => {
    const bytes = base.slice();
    bytes[bytes.length - 1] = i;
    return { family, bytes };
  });
}

/** A valid advert, its bytes as a raw socket delivers them, and an instance that takes it. */
function sample(r: Rng): Sample {
  const family: 4 | 6 = r.bool(0.6) ? 4 : 6;
  const version = family === 6 || r.bool() ? 3 : 2;
  const unicast = r.bool(0.3);
  const src = randomAddr(r, family);
  const dst = unicast ? randomAddr(r, family) : randomAddr(r, family, true);
  const n = r.pick([0, 1, 1, 2, 3, 8, r.int(0, 40)]);
  const addrs = randomAddrs(r, family, n);
  const pass = r.bool() ? "p" : "a much longer password";
  const head = { vrid: r.int(1, 255), priority: r.int(0, 255), addresses: addrs };
  const out: AdvertOut =
    version === 2
      ? {
          ...head,
          version,
          authType: r.bool() ? 1 : 0,
          authData: passwordAuthData(pass),
          advertIntervalS: r.int(1, 255),
        }
      : { ...head, version, maxAdvertIntervalCs: r.int(1, 4095) };
  const ttl = unicast ? r.int(1, 255) : 255;
  const len = advertLength(version, family, n);
  const withHeader = family === 4;
  const bytes = new Uint8Array((withHeader ? 20 : 0) + len);
  encodeAdvert(bytes, withHeader ? 20 : 0, out, { family, src, dst });
  if (withHeader)
    encodeIpv4Header(bytes, 0, {
      src,
      dst,
      ttl,
      tos: 0xc0,
      id: r.int(0, 0xffff),
      payloadLength: len,
    });
  const rx: DecodeRx = withHeader
    ? { family, ipv4HeaderIncluded: true }
    : { family, ipv4HeaderIncluded: false, src, dst, ttlOrHopLimit: ttl };
  const inst: ReceivingInstance = {
    version,
    family,
    vrid: out.vrid,
    authType: out.authType ?? 0,
    authData: passwordAuthData(pass),
    advertIntervalS: out.advertIntervalS ?? 1,
    advertIntervalCs: out.maxAdvertIntervalCs ?? 100,
    unicast,
    peers: unicast ? [{ address: src, minTtl: ttl - r.int(0, 3), maxTtl: 255 }] : [],
    checkUnicastSrc: r.bool(),
    vips: addrs.map(formatIp).reverse(),
    skipCheckAdvAddr: r.bool(),
    ownerIgnoreAdverts: r.bool(),
    priority: r.int(1, 254),
  };
  return { out, family, bytes, rx, inst };
}

/** Recomputes the VRRP checksum in place when the (mutated) message is still complete. */
function resum(b: Uint8Array, rx: DecodeRx): void {
  const hdr = rx.family === 4 && rx.ipv4HeaderIncluded;
  const at = hdr ? (b[0]! & 0x0f) * 4 : 0;
  if (b.length < at + 8) return;
  const len = advertLength(b[at]! >> 4, rx.family, b[at + 3]!);
  if (b.length < at + len) return;
  const ctx = {
    family: rx.family,
    version: b[at]! >> 4,
    src: hdr ? b.slice(12, 16) : (rx.src?.bytes ?? new Uint8Array(16)),
    dst: hdr ? b.slice(16, 20) : (rx.dst?.bytes ?? new Uint8Array(16)),
  };
  b[at + 6] = 0;
  b[at + 7] = 0;
  const sum = vrrpChecksum(b, at, len, ctx);
  b[at + 6] = sum >> 8;
  b[at + 7] = sum & 0xff;
}

type Mutable = { bytes: Uint8Array; rx: DecodeRx; inst: ReceivingInstance };

/** One damage; each kind aims at a field or a length so that every check gets its turn. */
function mutate(r: Rng, m: Mutable, family: 4 | 6): void {
  const b = m.bytes;
  const vrrpAt = family === 4 ? 20 : 0;
  switch (r.int(0, 9)) {
    case 0:
      if (b.length) b[r.int(0, b.length - 1)] = r.int(0, 255);
      return;
    case 1:
      m.bytes = b.subarray(0, r.int(0, b.length));
      return;
    case 2: {
      const extra = r.pick([2, 4, 6, 10, 14, r.int(1, 40)]);
      m.bytes = Uint8Array.from([...b, ...r.bytes(extra)]);
      return;
    }
    case 3: {
      if (family !== 4) return;
      const field = r.pick([0, 3, 8, 9, 16]);
      if (b.length < 20) return;
      if (field === 9 && r.bool(0.3)) {
        // IPsec AH: protocol 51 and a 24-byte AH header in front of the message.
        const ah = new Uint8Array(b.length + 24);
        ah.set(b.subarray(0, 20));
        ah.set(b.subarray(20), 44);
        ah[9] = 51;
        m.bytes = ah;
        return;
      }
      b[field] = field === 9 ? r.pick([17, 112, 112, r.int(0, 255)]) : r.int(0, 255);
      if (field === 16 && r.bool()) b[16] = 0xe0;
      if (r.bool(0.7)) resum(b, m.rx);
      return;
    }
    case 4: {
      const field = vrrpAt + r.int(0, Math.max(0, Math.min(b.length - vrrpAt, 20) - 1));
      if (field >= b.length) return;
      const nibble = field === vrrpAt && r.bool();
      b[field] = nibble ? (r.int(0, 15) << 4) | (b[field]! & 0x0f) : r.int(0, 255);
      if (r.bool(0.7)) resum(b, m.rx);
      return;
    }
    case 5:
      if (family === 6) {
        m.rx = { ...m.rx, dst: randomAddr(r, 6, r.bool()), ttlOrHopLimit: r.int(0, 255) };
        return;
      }
      m.rx = { ...m.rx, ipv4HeaderIncluded: !m.rx.ipv4HeaderIncluded };
      return;
    default:
      mutateInstance(r, m);
  }
}

function mutateInstance(r: Rng, m: Mutable): void {
  const i = m.inst;
  const changes: Partial<ReceivingInstance>[] = [
    { vrid: r.int(0, 255) },
    { version: i.version === 2 ? 3 : 2 },
    { authType: i.authType === 1 ? 0 : 1 },
    { authData: passwordAuthData(r.pick(["p", "q", "pass", ""])) },
    { advertIntervalS: r.int(1, 3), advertIntervalCs: r.int(1, 300) },
    { unicast: !i.unicast },
    {
      checkUnicastSrc: true,
      unicast: true,
      peers: r.bool() ? [] : [{ address: randomAddr(r, i.family) }],
    },
    { checkUnicastSrc: true, peers: (i.peers ?? []).map((p) => ({ ...p, maxTtl: r.int(0, 254) })) },
    { ownerIgnoreAdverts: true, priority: 255 },
    { vips: r.bool() ? [] : ["192.0.2.1", "2001:db8::1"], skipCheckAdvAddr: r.bool() },
    { checksumAsV2: true },
    { oldUnicastChecksum: r.pick(["auto", "never", "on"] as const) },
  ];
  m.inst = { ...i, ...r.pick(changes) };
}

/** The shape every result must have; throws (with the case) otherwise. */
function checkTyped(d: DecodeResult, c: CheckResult | undefined): string {
  if (!d.ok) {
    if (!DECODE_REASONS.includes(d.reason) || typeof d.detail !== "string")
      throw new Error(`untyped decode failure ${JSON.stringify(d)}`);
    return `decode:${d.reason}`;
  }
  if (!c) throw new Error("no check result");
  const a = d.advert;
  if (a.addresses.length !== a.addrCount || a.lengthOnWire < a.vrrpLength)
    throw new Error(`inconsistent advert ${JSON.stringify(a.addresses)}`);
  if (c.reason === undefined) {
    if (c.verdict !== "accept" || c.counter !== undefined) throw new Error("bad accept");
    if (a.type !== 1) throw new Error("accepted a non-advertisement");
    return "accept";
  }
  const want = REASON_OUTCOME[c.reason];
  if (!want || c.verdict !== want.verdict || c.counter !== want.counter)
    throw new Error(`result ${JSON.stringify(c)} disagrees with its reason`);
  return `check:${c.reason}`;
}

test(`decodeAdvert + checkAdvert survive ${CASES} mutated adverts (FUZZ_SEED=${SEED})`, () => {
  const counts = new Map<string, number>();
  const started = performance.now();
  for (let i = 0; i < CASES; i++) {
    const r = caseRng(i);
    const s = sample(r);
    const m: Mutable = { bytes: s.bytes, rx: s.rx, inst: s.inst };
    const rounds = r.pick([0, 1, 1, 1, 2, 3]);
    let key: string;
    try {
      for (let k = 0; k < rounds; k++) mutate(r, m, s.family);
      const d = decodeAdvert(m.bytes, m.rx);
      key = checkTyped(d, d.ok ? checkAdvert(d.advert, m.inst) : undefined);
    } catch (e) {
      throw new Error(`FUZZ_SEED=${SEED} case ${i}: ${e instanceof Error ? e.stack : String(e)}`);
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const ms = performance.now() - started;
  const table = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${k.padEnd(32)} ${n}`);
  console.log(
    `advert fuzz: ${CASES} cases in ${ms.toFixed(0)} ms (FUZZ_SEED=${SEED})\n${table.join("\n")}`,
  );
  const expected = [
    "accept",
    ...DECODE_REASONS.map((x) => `decode:${x}`),
    ...CHECK_REASONS.map((x) => `check:${x}`),
  ];
  expect(expected.filter((k) => !counts.has(k))).toEqual([]);
}, 120_000);

test(`decode(encode(x)) == x for ${Math.ceil(CASES / 4)} random adverts (FUZZ_SEED=${SEED})`, () => {
  for (let i = 0; i < Math.ceil(CASES / 4); i++) {
    const s = sample(caseRng(i));
    const d = decodeAdvert(s.bytes, s.rx);
    const got = d.ok && {
      version: d.advert.version,
      vrid: d.advert.vrid,
      priority: d.advert.priority,
      addresses: d.advert.addresses,
      authType: d.advert.authType,
      authData: d.advert.authData && [...d.advert.authData],
      advertIntervalS: d.advert.advertIntervalS,
      maxAdvertIntervalCs: d.advert.maxAdvertIntervalCs,
      checksumOk: d.advert.checksumOk,
      verdict: checkAdvert(d.advert, s.inst).verdict,
    };
    const v2 = s.out.version === 2;
    const want = {
      version: s.out.version,
      vrid: s.out.vrid,
      priority: s.out.priority,
      addresses: s.out.addresses.map(formatIp),
      authType: s.out.authType,
      authData:
        v2 && s.family === 4
          ? [...(s.out.authType === 1 ? s.out.authData! : new Uint8Array(8))]
          : undefined,
      advertIntervalS: s.out.advertIntervalS,
      maxAdvertIntervalCs: s.out.maxAdvertIntervalCs,
      checksumOk: true,
      verdict: "accept" as const,
    };
    if (!Bun.deepEquals(got, want)) {
      expect({ case: i, seed: SEED, got }).toEqual({ case: i, seed: SEED, got: want });
    }
  }
}, 120_000);
