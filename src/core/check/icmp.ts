/**
 * ICMP / ICMPv6 echo for PING_CHECK (keepalived 2.2.7 check/check_ping.c ping_it/recv_it):
 * the request keepalived sends (an 8-byte echo header and 128 bytes of "keepalived check - "
 * repeated, ICMP_BUFSIZE) and the decoding of what a raw socket receives. Pure; the decoder
 * never throws, it returns one typed reason per failed check.
 *
 * keepalived uses an unprivileged ICMP datagram socket, where the kernel picks the echo ID
 * and hands each socket only its own replies. We use one raw socket per family, so the
 * decoder also recognises replies (and the destination-unreachable errors quoting our
 * request) by ID and sequence number for the shell to match them to probes.
 */

export const ICMP_ECHO_HEADER_BYTES = 8;
/** check_ping.c ICMP_BUFSIZE: the payload length. */
export const ICMP_PAYLOAD_BYTES = 128;
const FILLER = "keepalived check - ";

export const ICMP4 = { echoReply: 0, destUnreachable: 3, echoRequest: 8 } as const;
export const ICMP6 = { destUnreachable: 1, echoRequest: 128, echoReply: 129 } as const;
const IPV6_HEADER_BYTES = 40;

/** RFC 1071 Internet checksum over `b` (an odd last byte is padded with zero). */
export function internetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  if (b.length % 2 === 1) sum += (b[b.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** layer4.c set_buf: the filler text repeated over `n` bytes. */
export function pingPayload(n = ICMP_PAYLOAD_BYTES): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = FILLER.charCodeAt(i % FILLER.length);
  return out;
}

/**
 * An echo request. IPv4 carries its checksum; for ICMPv6 the kernel fills it in (raw
 * ICMPv6 sockets always do, RFC 3542 §3.1), so it stays zero here.
 */
export function encodeEcho(family: 4 | 6, id: number, seq: number, payload = pingPayload()) {
  const out = new Uint8Array(ICMP_ECHO_HEADER_BYTES + payload.length);
  const v = new DataView(out.buffer);
  out[0] = family === 4 ? ICMP4.echoRequest : ICMP6.echoRequest;
  v.setUint16(4, id & 0xffff);
  v.setUint16(6, seq & 0xffff);
  out.set(payload, ICMP_ECHO_HEADER_BYTES);
  if (family === 4) v.setUint16(2, internetChecksum(out));
  return out;
}

export const ICMP_DECODE_REASONS = [
  "short-ip-header",
  "not-icmp",
  "short-icmp",
  "bad-checksum",
  "short-quote",
] as const;
export type IcmpDecodeReason = (typeof ICMP_DECODE_REASONS)[number];

export type IcmpMessage =
  | { readonly kind: "echo-reply"; readonly id: number; readonly seq: number }
  | { readonly kind: "echo-request"; readonly id: number; readonly seq: number }
  /** A destination unreachable quoting one of our echo requests. */
  | {
      readonly kind: "unreachable";
      readonly code: number;
      readonly id: number;
      readonly seq: number;
    }
  | { readonly kind: "other"; readonly type: number; readonly code: number };

export type IcmpDecodeResult =
  | { readonly ok: true; readonly message: IcmpMessage }
  | { readonly ok: false; readonly reason: IcmpDecodeReason };

/** Strip the IPv4 header a raw IPv4 socket delivers (man 7 raw); the ICMP part or a reason. */
function ipv4Payload(b: Uint8Array): Uint8Array | IcmpDecodeReason {
  const first = b[0];
  if (first === undefined || b.length < 20) return "short-ip-header";
  const ihlBytes = (first & 0x0f) * 4;
  if (first >> 4 !== 4 || ihlBytes < 20 || b.length < ihlBytes) return "short-ip-header";
  if (b[9] !== 1) return "not-icmp";
  return b.subarray(ihlBytes);
}

/** The echo request quoted by an ICMP error: [IP header][first 8 bytes of our ICMP]. */
function quotedEcho(
  family: 4 | 6,
  quote: Uint8Array,
): { id: number; seq: number } | "short" | "not-echo" {
  let icmp: Uint8Array;
  if (family === 4) {
    const inner = ipv4Payload(quote);
    if (inner === "not-icmp") return "not-echo";
    if (typeof inner === "string") return "short";
    icmp = inner;
  } else {
    if (quote.length < IPV6_HEADER_BYTES) return "short";
    // next header 58 = ICMPv6 (no extension headers in what we send)
    if (quote[6] !== 58) return "not-echo";
    icmp = quote.subarray(IPV6_HEADER_BYTES);
  }
  if (icmp.length < ICMP_ECHO_HEADER_BYTES) return "short";
  if (icmp[0] !== (family === 4 ? ICMP4.echoRequest : ICMP6.echoRequest)) return "not-echo";
  const v = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
  return { id: v.getUint16(4), seq: v.getUint16(6) };
}

/**
 * Decode one datagram from a raw ICMP (with its IPv4 header) or ICMPv6 (without) socket.
 * The IPv4 checksum is verified; ICMPv6's is checked by the kernel.
 */
export function decodeIcmp(family: 4 | 6, b: Uint8Array): IcmpDecodeResult {
  let icmp = b;
  if (family === 4) {
    const p = ipv4Payload(b);
    if (typeof p === "string") return { ok: false, reason: p };
    icmp = p;
  }
  if (icmp.length < ICMP_ECHO_HEADER_BYTES) return { ok: false, reason: "short-icmp" };
  if (family === 4 && internetChecksum(icmp) !== 0) return { ok: false, reason: "bad-checksum" };
  const type = icmp[0] ?? 0;
  const code = icmp[1] ?? 0;
  const v = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
  const t = family === 4 ? ICMP4 : ICMP6;
  if (type === t.echoReply || type === t.echoRequest) {
    const kind = type === t.echoReply ? "echo-reply" : "echo-request";
    return { ok: true, message: { kind, id: v.getUint16(4), seq: v.getUint16(6) } };
  }
  if (type === t.destUnreachable) {
    const q = quotedEcho(family, icmp.subarray(ICMP_ECHO_HEADER_BYTES));
    if (q === "short") return { ok: false, reason: "short-quote" };
    if (q === "not-echo") return { ok: true, message: { kind: "other", type, code } };
    return { ok: true, message: { kind: "unreachable", code, ...q } };
  }
  return { ok: true, message: { kind: "other", type, code } };
}
