/**
 * The DNS messages of DNS_CHECK (keepalived 2.2.7 check/check_dns.c; RFC 1035 §4.1): the one
 * query it sends and what it makes of a reply. Pure; the decoder never throws, it returns one
 * typed reason per failed check, in a fixed order.
 *
 * keepalived's verdict on a received datagram (check_dns.c dns_recv_thread) only reads the
 * header: shorter than 8 bytes (it compares with sizeof of a pointer, not of the 12-byte
 * header), a different ID, or QR clear → ignore it and keep waiting; RCODE ≠ 0 → failure;
 * otherwise success. The answer count is not looked at. `dnsReplyVerdict` reproduces that;
 * `decodeDnsMessage` decodes the whole message for status and tests.
 */

/** check_dns.c DNS_TYPE: the query types DNS_CHECK accepts, by name. */
export const DNS_TYPES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  RRSIG: 46,
  DNSKEY: 48,
} as const;
export type DnsTypeName = keyof typeof DNS_TYPES;

export const DNS_HEADER_BYTES = 12;
/** check_dns.h DNS_BUFFER_SIZE: keepalived's receive buffer; longer replies are cut. */
export const DNS_RECV_BUFFER_BYTES = 768;
/** check_dns.c: `ret < sizeof (r_header)` — r_header is a pointer (8 bytes on 64-bit). */
export const DNS_MIN_CONSIDERED_BYTES = 8;
const CLASS_IN = 1;
const FLAG_QR = 0x8000;
const FLAG_RD = 0x0100;
const MAX_LABEL = 63;
const MAX_NAME = 255;
/** A compression pointer chain longer than this is a loop. */
const MAX_POINTERS = 64;

export interface DnsHeader {
  readonly id: number;
  readonly flags: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly rcode: number;
  readonly qdcount: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

export interface DnsQuestion {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface DnsRecord extends DnsQuestion {
  readonly ttl: number;
  readonly rdata: Uint8Array;
}

export interface DnsMessage {
  readonly header: DnsHeader;
  readonly questions: readonly DnsQuestion[];
  /** Answer, authority and additional records, in order. */
  readonly records: readonly DnsRecord[];
}

export const DNS_DECODE_REASONS = [
  "short-header",
  "name-truncated",
  "label-type",
  "bad-pointer",
  "pointer-loop",
  "name-too-long",
  "question-truncated",
  "record-truncated",
  "rdata-truncated",
] as const;
export type DnsDecodeReason = (typeof DNS_DECODE_REASONS)[number];

export type DnsDecodeResult =
  | { readonly ok: true; readonly message: DnsMessage }
  | { readonly ok: false; readonly reason: DnsDecodeReason; readonly offset: number };

export const DNS_ENCODE_REASONS = ["empty-label", "label-too-long", "name-too-long"] as const;
export type DnsEncodeReason = (typeof DNS_ENCODE_REASONS)[number];

export type DnsEncodeResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: DnsEncodeReason };

/**
 * The query keepalived sends (check_dns.c dns_make_query): the given ID, only RD set, one
 * question of class IN. "" and "." are the root; a trailing dot changes nothing.
 */
export function encodeDnsQuery(id: number, name: string, type: number): DnsEncodeResult {
  const labels = name === "" || name === "." ? [] : name.replace(/\.$/, "").split(".");
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let nameBytes = 1;
  for (const l of labels) {
    const b = enc.encode(l);
    // keepalived's config check refuses empty labels (dns_name_handler); a label over 63
    // bytes would be written with a length byte the receiver reads as a pointer.
    if (b.length === 0) return { ok: false, reason: "empty-label" };
    if (b.length > MAX_LABEL) return { ok: false, reason: "label-too-long" };
    nameBytes += 1 + b.length;
    parts.push(b);
  }
  if (nameBytes > MAX_NAME) return { ok: false, reason: "name-too-long" };
  const out = new Uint8Array(DNS_HEADER_BYTES + nameBytes + 4);
  const v = new DataView(out.buffer);
  v.setUint16(0, id & 0xffff);
  v.setUint16(2, FLAG_RD);
  v.setUint16(4, 1);
  let p = DNS_HEADER_BYTES;
  for (const b of parts) {
    out[p++] = b.length;
    out.set(b, p);
    p += b.length;
  }
  out[p++] = 0;
  v.setUint16(p, type & 0xffff);
  v.setUint16(p + 2, CLASS_IN);
  return { ok: true, bytes: out };
}

function readHeader(b: Uint8Array): DnsHeader {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = v.getUint16(2);
  return {
    id: v.getUint16(0),
    flags,
    qr: (flags & FLAG_QR) !== 0,
    opcode: (flags >> 11) & 0x0f,
    rcode: flags & 0x0f,
    qdcount: v.getUint16(4),
    ancount: v.getUint16(6),
    nscount: v.getUint16(8),
    arcount: v.getUint16(10),
  };
}

type NameResult =
  | { readonly name: string; readonly next: number }
  | { readonly reason: DnsDecodeReason; readonly offset: number };

/** RFC 1035 §4.1.4: labels and compression pointers; every pointer hop is bounded. */
function readName(b: Uint8Array, start: number): NameResult {
  const labels: string[] = [];
  let p = start;
  let next = -1;
  let hops = 0;
  let total = 1;
  const dec = new TextDecoder("latin1");
  while (true) {
    const len = b[p];
    if (len === undefined) return { reason: "name-truncated", offset: p };
    if (len === 0) break;
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      const lo = b[p + 1];
      if (lo === undefined) return { reason: "name-truncated", offset: p };
      if (++hops > MAX_POINTERS) return { reason: "pointer-loop", offset: p };
      const target = ((len & 0x3f) << 8) | lo;
      if (target >= b.length) return { reason: "bad-pointer", offset: p };
      if (next < 0) next = p + 2;
      p = target;
      continue;
    }
    if (kind !== 0) return { reason: "label-type", offset: p };
    if (p + 1 + len > b.length) return { reason: "name-truncated", offset: p };
    total += 1 + len;
    if (total > MAX_NAME) return { reason: "name-too-long", offset: p };
    labels.push(dec.decode(b.subarray(p + 1, p + 1 + len)));
    p += 1 + len;
  }
  return { name: labels.length === 0 ? "." : labels.join("."), next: next < 0 ? p + 1 : next };
}

/** Decode a whole message; any failure is a reason and the offset where it was found. */
export function decodeDnsMessage(b: Uint8Array): DnsDecodeResult {
  if (b.length < DNS_HEADER_BYTES) return { ok: false, reason: "short-header", offset: 0 };
  const header = readHeader(b);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const questions: DnsQuestion[] = [];
  const records: DnsRecord[] = [];
  let p = DNS_HEADER_BYTES;
  for (let i = 0; i < header.qdcount; i++) {
    const n = readName(b, p);
    if ("reason" in n) return { ok: false, reason: n.reason, offset: n.offset };
    if (n.next + 4 > b.length) return { ok: false, reason: "question-truncated", offset: n.next };
    questions.push({ name: n.name, type: v.getUint16(n.next), class: v.getUint16(n.next + 2) });
    p = n.next + 4;
  }
  const rrCount = header.ancount + header.nscount + header.arcount;
  for (let i = 0; i < rrCount; i++) {
    const n = readName(b, p);
    if ("reason" in n) return { ok: false, reason: n.reason, offset: n.offset };
    if (n.next + 10 > b.length) return { ok: false, reason: "record-truncated", offset: n.next };
    const rdlength = v.getUint16(n.next + 8);
    const rdStart = n.next + 10;
    if (rdStart + rdlength > b.length)
      return { ok: false, reason: "rdata-truncated", offset: rdStart };
    records.push({
      name: n.name,
      type: v.getUint16(n.next),
      class: v.getUint16(n.next + 2),
      ttl: v.getUint32(n.next + 4),
      rdata: b.slice(rdStart, rdStart + rdlength),
    });
    p = rdStart + rdlength;
  }
  return { ok: true, message: { header, questions, records } };
}

export type DnsVerdict =
  | { readonly kind: "ignore"; readonly why: "short" | "id-mismatch" | "not-a-response" }
  | { readonly kind: "ok"; readonly header: DnsHeader }
  | { readonly kind: "fail"; readonly reason: string };

/** check_dns.c dns_recv_thread: what one received datagram means for the probe. */
export function dnsReplyVerdict(queryId: number, reply: Uint8Array): DnsVerdict {
  if (reply.length < DNS_MIN_CONSIDERED_BYTES) return { kind: "ignore", why: "short" };
  // Bytes 0-3 are all keepalived reads; the rest of its header view may be past the end.
  const padded = new Uint8Array(DNS_HEADER_BYTES);
  padded.set(reply.subarray(0, DNS_HEADER_BYTES));
  const header = readHeader(padded);
  if (header.id !== (queryId & 0xffff)) return { kind: "ignore", why: "id-mismatch" };
  if (!header.qr) return { kind: "ignore", why: "not-a-response" };
  if (header.rcode !== 0) return { kind: "fail", reason: `rcode = ${header.rcode}` };
  return { kind: "ok", header };
}
