/**
 * The VRRP advertisement on the wire: encoding into a caller's buffer (no allocation, for
 * the send path) and decoding, once, at the receive boundary into a validated `Advert`.
 *
 * Layout (RFC 3768 §5.1 for v2, RFC 5798 §5.1 for v3), 8 fixed bytes then addresses:
 *   0 version<<4 | type   1 VRID   2 priority   3 count of addresses
 *   4–5 v2: auth type, advert interval (s); v3: 4 reserved bits, 12-bit max advert int (cs)
 *   6–7 checksum, 8… addresses (4 or 16 bytes each), v2 over IPv4 only: 8 bytes auth data.
 *
 * Decoding checks only what does not depend on the receiving instance, in keepalived's
 * order (vrrp_get_header, then the first steps of vrrp_check_packet); everything else is
 * receive-check.ts. IPv4 raw sockets hand us the IP header (we parse it); IPv6 ones do not.
 */
import { formatIp, type IpAddr } from "../net/ip.ts";
import {
  IPPROTO_VRRP,
  ipv4HeaderChecksum,
  sumVerifies,
  sumWords,
  type VrrpChecksumCtx,
  vrrpChecksum,
  vrrpPseudoSum,
} from "./checksum.ts";

/** RFC 3768 §5.3.1 / RFC 5798 §5.2.1. */
export const VRRP_VERSION_2 = 2;
export const VRRP_VERSION_3 = 3;
/** The only packet type (RFC 5798 §5.2.2). */
export const VRRP_TYPE_ADVERT = 1;
/** Fixed part of the message, before the addresses. */
export const VRRP_HEADER_LEN = 8;
/** v2 authentication data (RFC 3768 §5.3.10); keepalived sends it only over IPv4. */
export const VRRP_AUTH_LEN = 8;
/** RFC 3768 §5.3.6 auth types; 2 (AH) is understood on receipt only to be refused. */
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;
/** TTL / hop limit a multicast advert must carry (RFC 5798 §5.1.1.3, §5.1.2.3). */
export const VRRP_TTL = 255;
/** 12 bits of centiseconds (RFC 5798 §5.2.7). */
export const V3_MAX_ADVERT_INTERVAL_CS = 0xfff;
/** One byte of seconds (RFC 3768 §5.3.7). */
export const V2_MAX_ADVERT_INTERVAL_S = 0xff;
/** The count field is one byte (RFC 5798 §5.2.5). */
export const MAX_ADDR_COUNT = 0xff;
export const IPV4_HEADER_LEN = 20;
/** IP protocol of IPsec AH (RFC 4302), which keepalived's legacy AH auth wraps VRRP in. */
export const IPPROTO_AH = 51;
/** keepalived's ipsec_ah_t: next header, length, reserved, SPI, sequence, 96-bit ICV. */
export const AH_HEADER_LEN = 24;
/** Minimum Ethernet frame without FCS, Ethernet header, 802.1Q tag: for padding tolerance. */
const ETH_ZLEN = 60;
const ETH_HLEN = 14;
const VLAN_TAG_SIZE = 4;
/** The smallest IP packet an Ethernet frame carries unpadded (60 − 14). */
export const ETH_MIN_PAYLOAD = ETH_ZLEN - ETH_HLEN;
/** 224.0.0.18 (RFC 5798 §5.1.1.2); pre-1.3.6 keepalived put it in unicast pseudo-headers. */
export const VRRP_GROUP4: IpAddr = { family: 4, bytes: new Uint8Array([224, 0, 0, 18]) };

const UNSPEC4: IpAddr = { family: 4, bytes: new Uint8Array(4) };
const UNSPEC6: IpAddr = { family: 6, bytes: new Uint8Array(16) };

/** Length of a VRRP message (without any IP header). */
export function advertLength(version: number, family: 4 | 6, addrCount: number): number {
  const auth = version === VRRP_VERSION_2 && family === 4 ? VRRP_AUTH_LEN : 0;
  return VRRP_HEADER_LEN + addrCount * (family === 4 ? 4 : 16) + auth;
}

/**
 * keepalived accepts a length that exceeds the expected one only by Ethernet padding: the
 * frame was short, padded to 60 bytes, and 14 (plus 4 per VLAN tag) were stripped, so the
 * excess can be checked only modulo the tag size (vrrp_check_packet).
 */
export function isEthernetPadding(expected: number, received: number): boolean {
  const residue = (VLAN_TAG_SIZE - (ETH_MIN_PAYLOAD % VLAN_TAG_SIZE)) % VLAN_TAG_SIZE;
  return (
    expected < ETH_MIN_PAYLOAD &&
    expected < received &&
    (received - expected) % VLAN_TAG_SIZE === residue
  );
}

/** What we send. Values are assumed validated by the config layer; see encodeAdvert. */
export interface AdvertOut {
  readonly version: 2 | 3;
  readonly vrid: number;
  readonly priority: number;
  readonly addresses: readonly IpAddr[];
  /** v2 only: AUTH_NONE or AUTH_PASS. */
  readonly authType?: 0 | 1;
  /** v2 PASS: 8 bytes, from passwordAuthData (computed once, not per advert). */
  readonly authData?: Uint8Array;
  /** v2 only, whole seconds 1–255. */
  readonly advertIntervalS?: number;
  /** v3 only, centiseconds 1–4095. */
  readonly maxAdvertIntervalCs?: number;
}

export interface EncodeCtx {
  readonly family: 4 | 6;
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly checksumAsV2?: boolean;
  /** The pseudo-header destination when it differs from `dst` (old_unicast_checksum). */
  readonly checksumDst?: IpAddr;
}

/**
 * The auth data for simple password authentication (RFC 2338 §5.3.6.1): the password's
 * bytes, the first 8 only, zero-padded, as keepalived stores `auth_pass`.
 */
export function passwordAuthData(password: string): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LEN);
  out.set(new TextEncoder().encode(password).subarray(0, VRRP_AUTH_LEN));
  return out;
}

function writeHeader(buf: Uint8Array, at: number, a: AdvertOut): void {
  buf[at] = (a.version << 4) | VRRP_TYPE_ADVERT;
  buf[at + 1] = a.vrid;
  buf[at + 2] = a.priority;
  buf[at + 3] = a.addresses.length;
  if (a.version === VRRP_VERSION_2) {
    buf[at + 4] = a.authType ?? AUTH_NONE;
    buf[at + 5] = a.advertIntervalS ?? 1;
  } else {
    // RFC 5798 §5.2.6: the 4 reserved bits are sent as zero.
    const cs = (a.maxAdvertIntervalCs ?? 100) & V3_MAX_ADVERT_INTERVAL_CS;
    buf[at + 4] = cs >> 8;
    buf[at + 5] = cs & 0xff;
  }
  buf[at + 6] = 0;
  buf[at + 7] = 0;
}

/**
 * Writes the VRRP message at `buf[offset…]` and returns its length. Throws RangeError only
 * on a programming error (buffer too small, address of the wrong family, count > 255).
 */
export function encodeAdvert(
  buf: Uint8Array,
  offset: number,
  a: AdvertOut,
  ctx: EncodeCtx,
): number {
  const len = advertLength(a.version, ctx.family, a.addresses.length);
  if (offset < 0 || buf.length - offset < len) throw new RangeError("advert buffer too small");
  if (a.addresses.length > MAX_ADDR_COUNT) throw new RangeError("more than 255 addresses");
  writeHeader(buf, offset, a);
  let at = offset + VRRP_HEADER_LEN;
  for (const addr of a.addresses) {
    if (addr.family !== ctx.family)
      throw new RangeError("address family differs from the advert's");
    buf.set(addr.bytes, at);
    at += addr.bytes.length;
  }
  if (a.version === VRRP_VERSION_2 && ctx.family === 4) {
    // RFC 3768 §5.3.10: auth data is present (zero) even without authentication.
    buf.fill(0, at, at + VRRP_AUTH_LEN);
    if (a.authType === AUTH_PASS && a.authData) buf.set(a.authData.subarray(0, VRRP_AUTH_LEN), at);
  }
  const sumCtx: VrrpChecksumCtx = {
    family: ctx.family,
    version: a.version,
    src: ctx.src.bytes,
    dst: (ctx.checksumDst ?? ctx.dst).bytes,
    asV2: ctx.checksumAsV2 === true,
  };
  const sum = vrrpChecksum(buf, offset, len, sumCtx);
  buf[offset + 6] = sum >> 8;
  buf[offset + 7] = sum & 0xff;
  return len;
}

export interface Ipv4HeaderOut {
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly ttl: number;
  /** keepalived sends 0xC0 (network control, RFC 2474 CS6). */
  readonly tos: number;
  /** keepalived sends 0 and lets the kernel pick (the reference pcaps show 1, 2, 3…). */
  readonly id: number;
  /** Bytes after the IP header. */
  readonly payloadLength: number;
  /** Defaults to VRRP; AH only for tests of the refusal. */
  readonly protocol?: number;
}

/**
 * Writes the 20-byte IPv4 header keepalived builds for IP_HDRINCL (vrrp_build_ip4): no
 * options, no DF, protocol 112. Linux recomputes the checksum (and fills a zero id) on
 * send; we still compute it so the bytes are valid for the simulator and pcaps.
 */
export function encodeIpv4Header(buf: Uint8Array, offset: number, h: Ipv4HeaderOut): number {
  if (offset < 0 || buf.length - offset < IPV4_HEADER_LEN) throw new RangeError("buffer too small");
  const total = IPV4_HEADER_LEN + h.payloadLength;
  buf[offset] = 0x45;
  buf[offset + 1] = h.tos;
  buf[offset + 2] = total >> 8;
  buf[offset + 3] = total & 0xff;
  buf[offset + 4] = (h.id >> 8) & 0xff;
  buf[offset + 5] = h.id & 0xff;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
  buf[offset + 8] = h.ttl;
  buf[offset + 9] = h.protocol ?? IPPROTO_VRRP;
  buf.set(h.src.bytes, offset + 12);
  buf.set(h.dst.bytes, offset + 16);
  const sum = ipv4HeaderChecksum(buf, offset, IPV4_HEADER_LEN);
  buf[offset + 10] = sum >> 8;
  buf[offset + 11] = sum & 0xff;
  return IPV4_HEADER_LEN;
}

/** A decoded advertisement: structurally sound, not yet accepted by any instance. */
export interface Advert {
  /** Raw version nibble: any value may arrive; receive-check rejects the wrong one. */
  readonly version: number;
  /** Raw type nibble, checked by receive-check (keepalived checks it after auth). */
  readonly type: number;
  readonly vrid: number;
  readonly priority: number;
  readonly addrCount: number;
  /** Canonical text (formatIp) of each address, in packet order. */
  readonly addresses: readonly string[];
  /** The addresses as they arrived: a view of the input, 4 or 16 bytes each. */
  readonly addressBytes: Uint8Array;
  /** Version 2: auth type and interval; auth data only over IPv4 (a view of the input). */
  readonly authType: number | undefined;
  readonly authData: Uint8Array | undefined;
  readonly advertIntervalS: number | undefined;
  /** Version ≠ 2: the 12-bit Max Adver Int and the 4 reserved bits (ignored on receipt). */
  readonly maxAdvertIntervalCs: number | undefined;
  readonly reservedBits: number | undefined;
  readonly checksum: number;
  /** Checksum verifies in the RFC form (v2: plain; v3: pseudo-header with src and dst). */
  readonly checksumOk: boolean;
  /** Unfolded sum of the VRRP message incl. checksum field, to verify the other forms. */
  readonly messageSum: number;
  readonly src: IpAddr;
  readonly dst: IpAddr;
  /** IPv4 TTL from the header, IPv6 hop limit from recvmsg; undefined if not received. */
  readonly ttl: number | undefined;
  /** IPv4 tot_len when the header was included (receive-check compares it). */
  readonly ipTotalLength: number | undefined;
  /** Bytes received, IP header and any Ethernet padding included. */
  readonly lengthOnWire: number;
  /** Length of the VRRP message itself. */
  readonly vrrpLength: number;
}

export interface DecodeRx {
  readonly family: 4 | 6;
  /** IPv6 hop limit (IPV6_HOPLIMIT), or the TTL when no IPv4 header is included. */
  readonly ttlOrHopLimit?: number;
  /** Source and destination when not in the bytes (IPv6: recvmsg name and IPV6_PKTINFO). */
  readonly src?: IpAddr;
  readonly dst?: IpAddr;
  readonly ipv4HeaderIncluded: boolean;
}

/** One reason per structural check, in the order they are made. */
export type DecodeReason =
  | "too_short"
  | "ip_header_err"
  | "ip_protocol_err"
  | "ah_header"
  | "packet_len_err";

export const DECODE_REASONS: readonly DecodeReason[] = [
  "too_short",
  "ip_header_err",
  "ip_protocol_err",
  "ah_header",
  "packet_len_err",
];

export type DecodeResult =
  | { readonly ok: true; readonly advert: Advert }
  | {
      readonly ok: false;
      readonly reason: DecodeReason;
      readonly detail: string;
      /** The VRID when the VRRP header was reached, so the error can be counted on it. */
      readonly vrid: number | undefined;
    };

function fail(reason: DecodeReason, detail: string, vrid?: number): DecodeResult {
  return { ok: false, reason, detail, vrid };
}

function formatAddr(bytes: Uint8Array, at: number, family: 4 | 6): string {
  if (family === 4) return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
  return formatIp({ family: 6, bytes: bytes.subarray(at, at + 16) });
}

/** Where the VRRP message starts, or a failure: the IPv4 header checks of vrrp_get_header. */
function locateVrrp(bytes: Uint8Array, rx: DecodeRx): number | DecodeResult {
  const n = bytes.length;
  if (rx.family === 6 || !rx.ipv4HeaderIncluded) {
    return n < VRRP_HEADER_LEN ? fail("too_short", `${n} bytes, no VRRP header`) : 0;
  }
  if (n < IPV4_HEADER_LEN) return fail("too_short", `${n} bytes, no IPv4 header`);
  const ihl = (bytes[0]! & 0x0f) * 4;
  if (bytes[0]! >> 4 !== 4 || ihl < IPV4_HEADER_LEN) {
    return fail("ip_header_err", `IP version ${bytes[0]! >> 4}, header length ${ihl}`);
  }
  const protocol = bytes[9]!;
  if (protocol === IPPROTO_AH) {
    // keepalived finds the VRID behind the AH header, then refuses AH unless configured.
    const at = ihl + AH_HEADER_LEN;
    if (n < at + VRRP_HEADER_LEN) return fail("too_short", `${n} bytes, AH without VRRP header`);
    return fail("ah_header", "IPsec AH authentication is not supported", bytes[at + 1]);
  }
  if (protocol !== IPPROTO_VRRP) return fail("ip_protocol_err", `IP protocol ${protocol}`);
  if (n < ihl + VRRP_HEADER_LEN) return fail("too_short", `${n} bytes, no VRRP header`);
  return ihl;
}

/** Decodes one received datagram. Never throws: every problem is a typed reason. */
export function decodeAdvert(bytes: Uint8Array, rx: DecodeRx): DecodeResult {
  const located = locateVrrp(bytes, rx);
  if (typeof located !== "number") return located;
  const at = located;
  const family = rx.family;
  const version = bytes[at]! >> 4;
  const vrid = bytes[at + 1]!;
  const addrCount = bytes[at + 3]!;
  const vrrpLength = advertLength(version, family, addrCount);
  // RFC 5798 §7.1: the packet must hold the complete message, and nothing but padding more.
  const expected = at + vrrpLength;
  if (bytes.length !== expected && !isEthernetPadding(expected, bytes.length)) {
    return fail("packet_len_err", `length ${bytes.length}, expected ${expected}`, vrid);
  }
  const addrLen = family === 4 ? 4 : 16;
  const addrStart = at + VRRP_HEADER_LEN;
  const addrEnd = addrStart + addrCount * addrLen;
  const addresses: string[] = new Array<string>(addrCount);
  for (let i = 0; i < addrCount; i++)
    addresses[i] = formatAddr(bytes, addrStart + i * addrLen, family);
  const v2 = version === VRRP_VERSION_2;
  const withHeader = family === 4 && rx.ipv4HeaderIncluded;
  const src = withHeader
    ? { family: 4 as const, bytes: bytes.subarray(12, 16) }
    : (rx.src ?? (family === 4 ? UNSPEC4 : UNSPEC6));
  const dst = withHeader
    ? { family: 4 as const, bytes: bytes.subarray(16, 20) }
    : (rx.dst ?? (family === 4 ? UNSPEC4 : UNSPEC6));
  const messageSum = sumWords(bytes, at, at + vrrpLength);
  const pseudo = vrrpPseudoSum({ family, version, src: src.bytes, dst: dst.bytes }, vrrpLength);
  const advert: Advert = {
    version,
    type: bytes[at]! & 0x0f,
    vrid,
    priority: bytes[at + 2]!,
    addrCount,
    addresses,
    addressBytes: bytes.subarray(addrStart, addrEnd),
    authType: v2 ? bytes[at + 4] : undefined,
    authData: v2 && family === 4 ? bytes.subarray(addrEnd, addrEnd + VRRP_AUTH_LEN) : undefined,
    advertIntervalS: v2 ? bytes[at + 5] : undefined,
    maxAdvertIntervalCs: v2 ? undefined : ((bytes[at + 4]! & 0x0f) << 8) | bytes[at + 5]!,
    reservedBits: v2 ? undefined : bytes[at + 4]! >> 4,
    checksum: (bytes[at + 6]! << 8) | bytes[at + 7]!,
    checksumOk: sumVerifies(messageSum + pseudo),
    messageSum,
    src,
    dst,
    ttl: withHeader ? bytes[8] : rx.ttlOrHopLimit,
    ipTotalLength: withHeader ? (bytes[2]! << 8) | bytes[3]! : undefined,
    lengthOnWire: bytes.length,
    vrrpLength,
  };
  return { ok: true, advert };
}
