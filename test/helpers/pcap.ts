/**
 * A tiny libpcap file writer and reader (classic format, not pcapng), plus the Ethernet and
 * IPv6 framing the VRRP tests wrap adverts in. Format: https://wiki.wireshark.org/Development/LibpcapFileFormat
 */

export const LINKTYPE_ETHERNET = 1;
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

export interface PcapRecord {
  /** Seconds since the epoch, fractional. */
  readonly time: number;
  readonly data: Uint8Array;
  /** Length on the wire (may exceed data.length when the capture was cut). */
  readonly origLen: number;
}

/** Serializes records as a little-endian, microsecond pcap file. */
export function writePcap(
  records: readonly PcapRecord[],
  linkType = LINKTYPE_ETHERNET,
): Uint8Array {
  const size = 24 + records.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC_US, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 0x40000, true);
  v.setUint32(20, linkType, true);
  let at = 24;
  for (const r of records) {
    const sec = Math.floor(r.time);
    v.setUint32(at, sec, true);
    v.setUint32(at + 4, Math.round((r.time - sec) * 1e6), true);
    v.setUint32(at + 8, r.data.length, true);
    v.setUint32(at + 12, r.origLen, true);
    out.set(r.data, at + 16);
    at += 16 + r.data.length;
  }
  return out;
}

export interface Pcap {
  readonly linkType: number;
  readonly records: readonly PcapRecord[];
}

/** Parses a classic pcap file of either byte order and either time resolution. */
export function readPcap(file: Uint8Array): Pcap {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 24) throw new Error("not a pcap file: shorter than its header");
  const raw = v.getUint32(0, true);
  const le = raw === MAGIC_US || raw === MAGIC_NS;
  const magic = v.getUint32(0, le);
  if (magic !== MAGIC_US && magic !== MAGIC_NS) throw new Error("not a classic pcap file");
  const scale = magic === MAGIC_NS ? 1e-9 : 1e-6;
  const linkType = v.getUint32(20, le);
  const records: PcapRecord[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const incl = v.getUint32(at + 8, le);
    if (at + 16 + incl > file.length) throw new Error(`truncated record at offset ${at}`);
    records.push({
      time: v.getUint32(at, le) + v.getUint32(at + 4, le) * scale,
      data: file.slice(at + 16, at + 16 + incl),
      origLen: v.getUint32(at + 12, le),
    });
    at += 16 + incl;
  }
  return { linkType, records };
}

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;

/** An Ethernet II frame; padded with zeros to 60 bytes when `pad` (as a NIC would). */
export function ethernetFrame(
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
  payload: Uint8Array,
  pad = false,
): Uint8Array {
  const len = Math.max(14 + payload.length, pad ? 60 : 0);
  const out = new Uint8Array(len);
  out.set(dst, 0);
  out.set(src, 6);
  out[12] = etherType >> 8;
  out[13] = etherType & 0xff;
  out.set(payload, 14);
  return out;
}

/** The multicast MAC of an IP group: 01:00:5e + low 23 bits (RFC 1112), 33:33 + low 32 (RFC 2464). */
export function multicastMac(family: 4 | 6, group: Uint8Array): Uint8Array {
  if (family === 4) return new Uint8Array([1, 0, 0x5e, group[1]! & 0x7f, group[2]!, group[3]!]);
  return new Uint8Array([0x33, 0x33, group[12]!, group[13]!, group[14]!, group[15]!]);
}

/** A 40-byte IPv6 header (traffic class 0xc0 as the kernel sends VRRP) plus the payload. */
export function ipv6Packet(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  hopLimit: number,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(40 + payload.length);
  out[0] = 0x6c;
  out[4] = payload.length >> 8;
  out[5] = payload.length & 0xff;
  out[6] = nextHeader;
  out[7] = hopLimit;
  out.set(src, 8);
  out.set(dst, 24);
  out.set(payload, 40);
  return out;
}

export interface EthernetPayload {
  readonly etherType: number;
  /** Everything after the Ethernet (and any VLAN) header, padding included. */
  readonly payload: Uint8Array;
}

/** Strips the Ethernet header and any 802.1Q tags, as the kernel does before a raw socket. */
export function parseEthernet(frame: Uint8Array): EthernetPayload | undefined {
  let at = 12;
  while (at + 2 <= frame.length) {
    const type = (frame[at]! << 8) | frame[at + 1]!;
    if (type !== ETHERTYPE_VLAN) return { etherType: type, payload: frame.subarray(at + 2) };
    at += 4;
  }
  return undefined;
}
