/**
 * The Internet checksum (RFC 1071) and the pseudo-headers VRRP puts under it.
 *
 * Which bytes a VRRP checksum covers depends on version and family:
 * - v2 (RFC 3768 §5.3.8): the VRRP message only, including the 8 bytes of auth data;
 * - v3 over IPv4 (RFC 5798 §5.2.8): the IPv4 pseudo-header UDP uses (RFC 768: src, dst, zero,
 *   protocol 112, VRRP length) followed by the message; keepalived's `v3_checksum_as_v2`
 *   leaves the pseudo-header out, as Cisco and Juniper do (keepalived.conf(5) says RFC 9568
 *   wants that too; keepalived's default, and ours, keeps it);
 * - v3 over IPv6: the RFC 8200 §8.1 pseudo-header, which the kernel computes for us
 *   (IPV6_CHECKSUM), but the simulator and the tests need the same arithmetic.
 *
 * Sums are kept as plain JS numbers: they stay exact far beyond any packet size (2^53), so
 * carries are folded only at the end.
 */

/** IANA protocol number of VRRP (RFC 5798 §5.1.1.4). */
export const IPPROTO_VRRP = 112;

/**
 * Adds the big-endian 16-bit words of `bytes[start, end)` to `acc` without folding. An odd
 * final byte counts as the high byte of a word padded with zero (RFC 1071 §4.1).
 */
export function sumWords(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  let sum = acc;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Folds the carries of an unfolded sum back into 16 bits (end-around carry). */
export function foldSum(acc: number): number {
  let sum = acc;
  // Division, not >>: an unfolded sum may exceed 2^31.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for a message whose checksum field is zero: ~fold(sum). */
export function checksumOf(acc: number): number {
  return ~foldSum(acc) & 0xffff;
}

/** True when a sum taken over a message *including* its checksum field verifies. */
export function sumVerifies(acc: number): boolean {
  return foldSum(acc) === 0xffff;
}

/** RFC 1071 checksum of `bytes[start, end)`, with an optional partial sum (a pseudo-header). */
export function internetChecksum(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  return checksumOf(sumWords(bytes, start, end, acc));
}

/**
 * Partial sum of the IPv4 pseudo-header RFC 5798 §5.2.8 puts under a VRRPv3 checksum:
 * source, destination, a zero byte, the protocol, and the VRRP message length.
 */
export function ipv4PseudoHeaderSum(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  length: number,
): number {
  let sum = sumWords(src, 0, 4);
  sum = sumWords(dst, 0, 4, sum);
  return sum + (protocol & 0xff) + (length & 0xffff);
}

/**
 * Partial sum of the RFC 8200 §8.1 pseudo-header: source, destination, a 32-bit
 * upper-layer length, three zero bytes and the next-header value.
 */
export function ipv6PseudoHeaderSum(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  length: number,
): number {
  let sum = sumWords(src, 0, 16);
  sum = sumWords(dst, 0, 16, sum);
  return sum + Math.floor(length / 0x10000) + (length & 0xffff) + (nextHeader & 0xff);
}

/** How a VRRP checksum is formed; see the module comment. */
export interface VrrpChecksumCtx {
  readonly family: 4 | 6;
  readonly version: number;
  /** Source address bytes (4 or 16); needed for any pseudo-header. */
  readonly src: Uint8Array;
  /** Destination the pseudo-header names (the IP destination, or 224.0.0.18 in compat mode). */
  readonly dst: Uint8Array;
  /** keepalived's `v3_checksum_as_v2`: v3 over IPv4 without the pseudo-header. */
  readonly asV2?: boolean;
}

/** The pseudo-header part of a VRRP checksum for a message of `length` bytes (0 if none). */
export function vrrpPseudoSum(ctx: VrrpChecksumCtx, length: number): number {
  if (ctx.family === 6) return ipv6PseudoHeaderSum(ctx.src, ctx.dst, IPPROTO_VRRP, length);
  // RFC 3768 §5.3.8: v2 has no pseudo-header. Versions other than 2 and 3 never reach a
  // sender; a receiver treats them like v3 (keepalived's layout) before rejecting them.
  if (ctx.version === 2 || ctx.asV2 === true) return 0;
  return ipv4PseudoHeaderSum(ctx.src, ctx.dst, IPPROTO_VRRP, length);
}

/**
 * The checksum to write into a VRRP message at `bytes[start, start + length)`; the
 * checksum field (bytes 6–7 of the message) must be zero when this is called.
 */
export function vrrpChecksum(
  bytes: Uint8Array,
  start: number,
  length: number,
  ctx: VrrpChecksumCtx,
): number {
  return internetChecksum(bytes, start, start + length, vrrpPseudoSum(ctx, length));
}

/** True when the VRRP message at `bytes[start, start + length)` carries a valid checksum. */
export function vrrpChecksumValid(
  bytes: Uint8Array,
  start: number,
  length: number,
  ctx: VrrpChecksumCtx,
): boolean {
  return sumVerifies(sumWords(bytes, start, start + length, vrrpPseudoSum(ctx, length)));
}

/**
 * RFC 791 header checksum over `headerLength` bytes with the checksum field (bytes 10–11)
 * taken as zero, so it can be computed in place over a header that already carries one.
 */
export function ipv4HeaderChecksum(bytes: Uint8Array, start: number, headerLength: number): number {
  const sum =
    sumWords(bytes, start, start + 10) + sumWords(bytes, start + 12, start + headerLength);
  return checksumOf(sum);
}
