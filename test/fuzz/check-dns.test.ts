/**
 * Mutation fuzzing of the DNS_CHECK codec: well-formed replies (questions, compressed and
 * uncompressed records) are damaged byte by byte, in length and by splicing; decodeDnsMessage
 * and dnsReplyVerdict must return a typed result, never throw. Plus the property that a
 * random query decodes back to its name and type.
 * FUZZ_CASES scales the run (default 5 000; 100 000 run locally); FUZZ_SEED replays one.
 */
import { expect, test } from "bun:test";
import {
  DNS_DECODE_REASONS,
  DNS_TYPES,
  decodeDnsMessage,
  dnsReplyVerdict,
  encodeDnsQuery,
} from "../../src/core/check/dns.ts";
import { Rng } from "../config/lines/rand.ts";

const CASES = Number(process.env.FUZZ_CASES ?? 5_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0xd45) >>> 0;
const caseRng = (i: number) => new Rng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
const TYPES = Object.values(DNS_TYPES);

function randomName(r: Rng): string {
  if (r.bool(0.1)) return ".";
  const n = r.int(1, 4);
  return Array.from({ length: n }, () =>
    Array.from({ length: r.int(1, 12) }, () => String.fromCharCode(r.int(97, 122))).join(""),
  ).join(".");
}

/** A well-formed reply: the query's question, then records whose owner is a pointer or a name. */
function randomReply(r: Rng): Uint8Array {
  const name = randomName(r);
  const q = encodeDnsQuery(r.int(0, 0xffff), name, r.pick(TYPES));
  if (!q.ok) throw new Error(q.reason);
  const parts: number[] = [...q.bytes];
  const nRecords = r.int(0, 4);
  for (let i = 0; i < nRecords; i++) {
    if (r.bool()) parts.push(0xc0, 12);
    else {
      const own = encodeDnsQuery(0, randomName(r), 1);
      if (!own.ok) throw new Error(own.reason);
      parts.push(...own.bytes.subarray(12, own.bytes.length - 4));
    }
    const rd = r.bytes(r.int(0, 20));
    parts.push(0, r.pick(TYPES), 0, 1, 0, 0, 1, 44, rd.length >> 8, rd.length & 0xff, ...rd);
  }
  const out = Uint8Array.from(parts);
  const v = new DataView(out.buffer);
  v.setUint16(2, 0x8180 | r.int(0, 5));
  v.setUint16(6, nRecords);
  return out;
}

function mutate(r: Rng, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  const n = r.int(1, 4);
  for (let k = 0; k < n; k++) {
    const op = r.int(0, 4);
    const at = r.int(0, Math.max(0, out.length - 1));
    if (op === 0 && out.length > 0) out[at] = r.int(0, 255);
    else if (op === 1) out.length = r.int(0, out.length);
    else if (op === 2) out.splice(at, 0, ...r.bytes(r.int(1, 8)));
    else if (op === 3 && out.length > 0) out[at] = r.pick([0xc0, 0xff, 0x3f, 0x40, 0x00]);
    else if (op === 4 && out.length > 12) out[r.int(4, 11)] = r.int(0, 255);
  }
  return Uint8Array.from(out);
}

test(`decodeDnsMessage + dnsReplyVerdict survive ${CASES} mutated replies (FUZZ_SEED=${SEED})`, () => {
  const seen = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const r = caseRng(i);
    const good = randomReply(r);
    const clean = decodeDnsMessage(good);
    if (!clean.ok) throw new Error(`case ${i}: a well-formed reply failed: ${clean.reason}`);
    const bad = mutate(r, good);
    let key: string;
    try {
      const d = decodeDnsMessage(bad);
      key = d.ok ? "ok" : d.reason;
      if (!d.ok) {
        expect(DNS_DECODE_REASONS).toContain(d.reason);
        expect(d.offset).toBeGreaterThanOrEqual(0);
        expect(d.offset).toBeLessThanOrEqual(bad.length);
      }
      const v = dnsReplyVerdict(r.int(0, 0xffff), bad);
      expect(["ok", "fail", "ignore"]).toContain(v.kind);
    } catch (e) {
      throw new Error(`case ${i} (FUZZ_SEED=${SEED}) threw: ${String(e)}`);
    }
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  // the mutations reach the decoder's main failure paths
  for (const k of ["ok", "short-header", "name-truncated", "record-truncated", "rdata-truncated"])
    expect(seen.get(k) ?? 0).toBeGreaterThan(0);
});

test(`decode(encodeDnsQuery(x)) gives x back for ${Math.ceil(CASES / 4)} queries (FUZZ_SEED=${SEED})`, () => {
  for (let i = 0; i < Math.ceil(CASES / 4); i++) {
    const r = caseRng(i);
    const name = randomName(r);
    const type = r.pick(TYPES);
    const id = r.int(0, 0xffff);
    const q = encodeDnsQuery(id, name, type);
    if (!q.ok) throw new Error(q.reason);
    const d = decodeDnsMessage(q.bytes);
    if (!d.ok) throw new Error(`case ${i}: ${d.reason}`);
    expect(d.message.header).toMatchObject({ id, qr: false, qdcount: 1, flags: 0x0100 });
    expect(d.message.questions).toEqual([{ name, type, class: 1 }]);
  }
});
