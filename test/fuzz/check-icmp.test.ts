/**
 * Mutation fuzzing of the PING_CHECK decoder: echo replies, our own requests and
 * destination-unreachable errors quoting a request (IPv4 behind an IP header, ICMPv6 bare)
 * are damaged byte by byte and in length; decodeIcmp must return a typed result, never
 * throw. FUZZ_CASES scales the run (default 5 000; 100 000 run locally); FUZZ_SEED replays one.
 */
import { expect, test } from "bun:test";
import {
  decodeIcmp,
  encodeEcho,
  ICMP_DECODE_REASONS,
  internetChecksum,
} from "../../src/core/check/icmp.ts";
import { Rng } from "../config/lines/rand.ts";

const CASES = Number(process.env.FUZZ_CASES ?? 5_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x1c3) >>> 0;
const caseRng = (i: number) => new Rng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);

function ipv4(inner: Uint8Array, r: Rng): Uint8Array {
  const ihl = r.pick([5, 5, 5, 6, 15]);
  const out = new Uint8Array(ihl * 4 + inner.length);
  out[0] = 0x40 | ihl;
  out[9] = 1;
  out.set(inner, ihl * 4);
  return out;
}

function fixSum(icmp: Uint8Array): Uint8Array {
  icmp[2] = 0;
  icmp[3] = 0;
  new DataView(icmp.buffer, icmp.byteOffset).setUint16(2, internetChecksum(icmp));
  return icmp;
}

function sample(r: Rng): { family: 4 | 6; bytes: Uint8Array } {
  const family = r.bool() ? 4 : 6;
  const echo = encodeEcho(family, r.int(0, 0xffff), r.int(0, 0xffff), r.bytes(r.int(0, 64)));
  const kind = r.int(0, 2);
  let icmp = echo;
  if (kind === 1) icmp[0] = family === 4 ? 0 : 129;
  if (kind === 2) {
    const quote =
      family === 4
        ? ipv4(echo.subarray(0, 8), r)
        : Uint8Array.from([
            0x60,
            0,
            0,
            0,
            0,
            8,
            58,
            64,
            ...new Uint8Array(32),
            ...echo.subarray(0, 8),
          ]);
    icmp = new Uint8Array(8 + quote.length);
    icmp[0] = family === 4 ? 3 : 1;
    icmp[1] = r.int(0, 5);
    icmp.set(quote, 8);
  }
  if (family === 4) fixSum(icmp);
  return { family, bytes: family === 4 ? ipv4(icmp, r) : icmp };
}

function mutate(r: Rng, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  for (let k = r.int(1, 3); k > 0; k--) {
    const op = r.int(0, 2);
    const at = r.int(0, Math.max(0, out.length - 1));
    if (op === 0 && out.length > 0) out[at] = r.int(0, 255);
    else if (op === 1) out.length = r.int(0, out.length);
    else out.splice(at, 0, ...r.bytes(r.int(1, 6)));
  }
  return Uint8Array.from(out);
}

test(`decodeIcmp survives ${CASES} mutated datagrams (FUZZ_SEED=${SEED})`, () => {
  const seen = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const r = caseRng(i);
    const s = sample(r);
    const clean = decodeIcmp(s.family, s.bytes);
    if (!clean.ok || clean.message.kind === "other")
      throw new Error(`case ${i}: a well-formed datagram decoded as ${JSON.stringify(clean)}`);
    const bad = mutate(r, s.bytes);
    let key: string;
    try {
      const d = decodeIcmp(s.family, bad);
      key = d.ok ? d.message.kind : d.reason;
      if (!d.ok) expect(ICMP_DECODE_REASONS).toContain(d.reason);
    } catch (e) {
      throw new Error(`case ${i} (FUZZ_SEED=${SEED}) threw: ${String(e)}`);
    }
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  for (const k of ["echo-reply", "unreachable", "short-ip-header", "short-icmp", "bad-checksum"])
    expect(seen.get(k) ?? 0).toBeGreaterThan(0);
});
