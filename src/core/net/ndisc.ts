/**
 * Unsolicited Neighbour Advertisements, byte for byte as keepalived builds them (vrrp_ndisc.c
 * ndisc_send_unsolicited_na_immediate; reference pcap keepalived-v3-ipv6.pcap frame 6).
 *
 * keepalived writes the whole Ethernet frame and sends it on an AF_PACKET socket, so the
 * IPv6 source can be the VIP itself without the kernel's source-address checks, and the
 * IPv6 header is exactly: version 6, traffic class 0, flow label 0, hop limit 255
 * (RFC 4861 §7.1.2 requires 255), to ff02::1 / 33:33:00:00:00:01 (RFC 2464 §7). The NA
 * carries Override (RFC 4861 §4.4, §7.2.6: update caches at once), Router when asked, not
 * Solicited, and a Target Link-Layer Address option. Pure.
 */
import { ETH_ALEN, ETH_HLEN, writeEthernetHeader } from "./arp.ts";

export const ETHERTYPE_IPV6 = 0x86dd;
export const IPPROTO_ICMPV6 = 58;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_OPT_TARGET_LINKADDR = 2;
export const NDISC_HOP_LIMIT = 255;
export const IPV6_HLEN = 40;
/** ICMPv6 type/code/checksum + flags + target + one 8-byte option. */
export const NA_LEN = 4 + 4 + 16 + 8;
export const NA_FRAME_LEN = ETH_HLEN + IPV6_HLEN + NA_LEN;

export const ALL_NODES: Uint8Array = new Uint8Array([0xff, 0x02, ...new Array(13).fill(0), 1]);
export const ALL_NODES_MAC: Uint8Array = new Uint8Array([0x33, 0x33, 0, 0, 0, 1]);

const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_OVERRIDE = 0x20;

/**
 * ICMPv6 checksum (RFC 4443 §2.3): one's complement sum over the RFC 8200 §8.1
 * pseudo-header (src, dst, 32-bit length, next header 58) and the message, whose checksum
 * field must be zero. The kernel would compute it for a raw ICMPv6 socket; on AF_PACKET
 * nobody does, so we must.
 */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, msg: Uint8Array): number {
  let sum = 0;
  const words = (b: Uint8Array): void => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  };
  words(src);
  words(dst);
  sum += Math.floor(msg.length / 0x10000) + (msg.length & 0xffff) + IPPROTO_ICMPV6;
  words(msg);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The ICMPv6 NA message for `target` at `mac`, checksummed for src = target, dst = ff02::1. */
export function neighbourAdvert(mac: Uint8Array, target: Uint8Array, router: boolean): Uint8Array {
  if (mac.length !== ETH_ALEN)
    throw new RangeError(`MAC address must be 6 bytes, got ${mac.length}`);
  if (target.length !== 16)
    throw new RangeError(`IPv6 address must be 16 bytes, got ${target.length}`);
  const m = new Uint8Array(NA_LEN);
  m[0] = ND_NEIGHBOR_ADVERT;
  m[4] = NA_FLAG_OVERRIDE | (router ? NA_FLAG_ROUTER : 0);
  m.set(target, 8);
  m[24] = ND_OPT_TARGET_LINKADDR;
  m[25] = 1; // option length in units of 8 bytes
  m.set(mac, 26);
  const sum = icmpv6Checksum(target, ALL_NODES, m);
  m[2] = sum >> 8;
  m[3] = sum & 0xff;
  return m;
}

/** The whole Ethernet frame of an unsolicited NA for `target` (the VIP) from `mac`. */
export function unsolicitedNa(mac: Uint8Array, target: Uint8Array, router: boolean): Uint8Array {
  const na = neighbourAdvert(mac, target, router);
  const f = new Uint8Array(NA_FRAME_LEN);
  writeEthernetHeader(f, ALL_NODES_MAC, mac, ETHERTYPE_IPV6);
  const ip = ETH_HLEN;
  f[ip] = 0x60; // version 6, traffic class 0, flow label 0
  f[ip + 4] = NA_LEN >> 8; // payload length
  f[ip + 5] = NA_LEN & 0xff;
  f[ip + 6] = IPPROTO_ICMPV6;
  f[ip + 7] = NDISC_HOP_LIMIT;
  f.set(target, ip + 8); // source: the VIP itself, as keepalived
  f.set(ALL_NODES, ip + 24);
  f.set(na, ip + IPV6_HLEN);
  return f;
}
