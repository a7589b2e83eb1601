/**
 * Gratuitous ARP frames, byte for byte as keepalived sends them (vrrp_arp.c
 * send_gratuitous_arp_immediate; reference pcap keepalived-v2.pcap frame 7).
 *
 * keepalived sends an ARP *request* (RFC 5227 §3 "ARP Announcement" uses requests too):
 * Ethernet broadcast, sender = (interface MAC, VIP), target = (ff:ff:ff:ff:ff:ff, VIP).
 * RFC 5227 suggests a zero target MAC; keepalived uses broadcast, and so do we, since
 * some hosts only update their caches from one or the other. No Ethernet padding: the
 * frame is 42 bytes and the driver pads it to the 60-byte minimum on the wire. Pure.
 */

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
/** ARP hardware type Ethernet (RFC 826). */
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
/** Ethernet header + 28-byte ARP payload for IPv4 over Ethernet. */
export const GARP_FRAME_LEN = ETH_HLEN + 28;

export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function need(what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${b.length}`);
}

/** Writes an Ethernet II header at offset 0 of `frame`. */
export function writeEthernetHeader(
  frame: Uint8Array,
  dst: Uint8Array,
  src: Uint8Array,
  ethertype: number,
): void {
  frame.set(dst, 0);
  frame.set(src, ETH_ALEN);
  frame[12] = ethertype >> 8;
  frame[13] = ethertype & 0xff;
}

/** The gratuitous ARP frame announcing that `ip` (4 bytes) is at `mac` (6 bytes). */
export function gratuitousArp(mac: Uint8Array, ip: Uint8Array): Uint8Array {
  need("MAC address", mac, ETH_ALEN);
  need("IPv4 address", ip, 4);
  const f = new Uint8Array(GARP_FRAME_LEN);
  writeEthernetHeader(f, BROADCAST_MAC, mac, ETHERTYPE_ARP);
  const a = ETH_HLEN;
  f[a + 1] = ARPHRD_ETHER; // ar_hrd
  f[a + 2] = ETHERTYPE_IPV4 >> 8; // ar_pro
  f[a + 4] = ETH_ALEN; // ar_hln
  f[a + 5] = 4; // ar_pln
  f[a + 7] = ARPOP_REQUEST; // ar_op
  f.set(mac, a + 8); // sender hardware address
  f.set(ip, a + 14); // sender protocol address
  f.set(BROADCAST_MAC, a + 18); // target hardware address: broadcast, as keepalived
  f.set(ip, a + 24); // target protocol address
  return f;
}
