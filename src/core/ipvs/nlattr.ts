/**
 * Netlink framing as bytes: struct nlmsghdr, struct genlmsghdr and struct nlattr TLVs
 * (Linux include/uapi/linux/netlink.h, genetlink.h). Headers and attribute values are in host
 * byte order — little-endian on the two supported targets (x86-64, aarch64) — except where a
 * uapi field is __be16/__be32 (ports), which callers write with `be16`.
 *
 * The reader never throws anything but NlDecodeError, so a malformed reply from the kernel
 * (or from a fuzzer) is a typed failure naming the attribute, not a RangeError.
 */

export const NLMSG_HDRLEN = 16;
export const GENL_HDRLEN = 4;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** A malformed netlink message or attribute; `where` is the attribute path ("SERVICE.PORT"). */
export class NlDecodeError extends Error {
  override readonly name = "NlDecodeError";
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${where}: ${reason}`);
  }
}

/** One attribute to encode: scalars are pre-encoded bytes, nests hold child attributes. */
export type Attr =
  | { readonly type: number; readonly value: Uint8Array }
  | { readonly type: number; readonly nested: readonly Attr[] };

export function u8(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff);
}
export function u16(v: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, true);
  return b;
}
/** A __be16 (ports): network byte order. */
export function be16(v: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, false);
  return b;
}
export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
export function s32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}
/** A NUL-terminated string (NLA_NUL_STRING / NLA_STRING as libnl's nla_put_string sends it). */
export function cstring(s: string): Uint8Array {
  return new TextEncoder().encode(`${s}\0`);
}

function attrLength(a: Attr): number {
  if ("value" in a) return NLA_HDRLEN + a.value.length;
  return NLA_HDRLEN + a.nested.reduce((n, c) => n + align4(attrLength(c)), 0);
}

/** Writes `attrs` at `off` of `out`; returns the offset after the last (aligned) one. */
function writeAttrs(out: DataView, bytes: Uint8Array, off: number, attrs: readonly Attr[]): number {
  let at = off;
  for (const a of attrs) {
    const len = attrLength(a);
    out.setUint16(at, len, true);
    if ("value" in a) {
      out.setUint16(at + 2, a.type, true);
      bytes.set(a.value, at + NLA_HDRLEN);
    } else {
      // libnl's nla_nest_start sets NLA_F_NESTED; ipvsadm's messages carry it too.
      out.setUint16(at + 2, a.type | NLA_F_NESTED, true);
      writeAttrs(out, bytes, at + NLA_HDRLEN, a.nested);
    }
    at += align4(len);
  }
  return at;
}

export function encodeAttrs(attrs: readonly Attr[]): Uint8Array {
  const total = attrs.reduce((n, a) => n + align4(attrLength(a)), 0);
  const bytes = new Uint8Array(total);
  writeAttrs(new DataView(bytes.buffer), bytes, 0, attrs);
  return bytes;
}

export interface GenlRequest {
  readonly familyId: number;
  readonly flags: number;
  readonly seq: number;
  /** 0 lets the kernel fill in the socket's port id. */
  readonly portId: number;
  readonly cmd: number;
  readonly version: number;
  readonly attrs: readonly Attr[];
}

/** nlmsghdr + genlmsghdr + attributes: one complete request datagram. */
export function encodeGenl(req: GenlRequest): Uint8Array {
  const payload = encodeAttrs(req.attrs);
  const len = NLMSG_HDRLEN + GENL_HDRLEN + payload.length;
  const bytes = new Uint8Array(len);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, req.familyId, true);
  v.setUint16(6, req.flags, true);
  v.setUint32(8, req.seq >>> 0, true);
  v.setUint32(12, req.portId >>> 0, true);
  v.setUint8(16, req.cmd);
  v.setUint8(17, req.version);
  bytes.set(payload, NLMSG_HDRLEN + GENL_HDRLEN);
  return bytes;
}

// ---- reading --------------------------------------------------------------------------

/** One netlink message of a received datagram. */
export type NlMessage =
  | { readonly kind: "ack"; readonly seq: number }
  | {
      readonly kind: "error";
      readonly seq: number;
      readonly errno: number;
      readonly extack?: string;
    }
  | { readonly kind: "done"; readonly seq: number }
  | {
      readonly kind: "genl";
      readonly seq: number;
      readonly type: number;
      readonly flags: number;
      readonly cmd: number;
      /** The attribute bytes after the genlmsghdr. */
      readonly attrs: Uint8Array;
    };

const NLM_F_ACK_TLVS = 0x200;
const NLM_F_CAPPED = 0x100;
const NLMSGERR_ATTR_MSG = 1;

/** Splits a datagram into its netlink messages (several per datagram in a dump). */
export function splitMessages(buf: Uint8Array): NlMessage[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) throw new NlDecodeError("nlmsghdr", "truncated header");
    const len = v.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length)
      throw new NlDecodeError("nlmsghdr", `bad length ${len} at offset ${off}`);
    const type = v.getUint16(off + 4, true);
    const flags = v.getUint16(off + 6, true);
    const seq = v.getUint32(off + 8, true);
    const body = buf.subarray(off + NLMSG_HDRLEN, off + len);
    out.push(messageOf(type, flags, seq, body));
    off += align4(len);
  }
  return out;
}

function messageOf(type: number, flags: number, seq: number, body: Uint8Array): NlMessage {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  // A dump's NLMSG_DONE carries the dump's final status (0, or a negative errno).
  if (type === NLMSG_DONE) {
    const status = body.length >= 4 ? v.getInt32(0, true) : 0;
    return status < 0 ? { kind: "error", seq, errno: -status } : { kind: "done", seq };
  }
  if (type === NLMSG_ERROR) {
    if (body.length < 4) throw new NlDecodeError("nlmsgerr", "truncated");
    const err = v.getInt32(0, true);
    if (err === 0) return { kind: "ack", seq };
    const extack = flags & NLM_F_ACK_TLVS ? extackOf(body, flags) : undefined;
    return { kind: "error", seq, errno: -err, ...(extack !== undefined ? { extack } : {}) };
  }
  if (body.length < GENL_HDRLEN) throw new NlDecodeError("genlmsghdr", "truncated");
  return { kind: "genl", seq, type, flags, cmd: v.getUint8(0), attrs: body.subarray(GENL_HDRLEN) };
}

/** The extended-ack text after an nlmsgerr (error + the echoed, maybe capped, request). */
function extackOf(body: Uint8Array, flags: number): string | undefined {
  if (body.length < 4 + NLMSG_HDRLEN) return undefined;
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const inner = flags & NLM_F_CAPPED ? NLMSG_HDRLEN : v.getUint32(4, true);
  const start = 4 + align4(inner);
  if (start > body.length) return undefined;
  try {
    const msg = parseAttrs(body.subarray(start), "extack").get(NLMSGERR_ATTR_MSG);
    return msg ? readString(msg, "extack.msg") : undefined;
  } catch {
    return undefined; // extack is a courtesy; a malformed one must not hide the errno
  }
}

/** Attributes by type (last one wins, as nla_parse does), without the NESTED flag bit. */
export function parseAttrs(buf: Uint8Array, where: string): Map<number, Uint8Array> {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Map<number, Uint8Array>();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = v.getUint16(off, true);
    const type = v.getUint16(off + 2, true) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || off + len > buf.length)
      throw new NlDecodeError(where, `attribute ${type} has bad length ${len}`);
    out.set(type, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  // Fewer than 4 trailing bytes are padding; the kernel's nla_parse only warns about them.
  return out;
}

function need(b: Uint8Array, n: number, where: string): DataView {
  if (b.length < n) throw new NlDecodeError(where, `expected ${n} bytes, got ${b.length}`);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
export function readU8(b: Uint8Array, where: string): number {
  return need(b, 1, where).getUint8(0);
}
export function readU16(b: Uint8Array, where: string): number {
  return need(b, 2, where).getUint16(0, true);
}
export function readBe16(b: Uint8Array, where: string): number {
  return need(b, 2, where).getUint16(0, false);
}
export function readU32(b: Uint8Array, where: string): number {
  return need(b, 4, where).getUint32(0, true);
}
export function readS32(b: Uint8Array, where: string): number {
  return need(b, 4, where).getInt32(0, true);
}
export function readU64(b: Uint8Array, where: string): bigint {
  return need(b, 8, where).getBigUint64(0, true);
}
export function readString(b: Uint8Array, where: string): string {
  const end = b.indexOf(0);
  const s = b.subarray(0, end < 0 ? b.length : end);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(s);
  } catch {
    throw new NlDecodeError(where, "string is not UTF-8");
  }
}
