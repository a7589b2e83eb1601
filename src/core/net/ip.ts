/**
 * IPv4 and IPv6 addresses as bytes: parsing (as strict as glibc's inet_pton), canonical
 * formatting (RFC 5952), prefixes, numeric comparison, address classes, and the address
 * ranges that keepalived's virtual_server_group accepts. Pure: no I/O, no imports.
 */

export type IpFamily = 4 | 6;

/** An address; `bytes` has 4 (IPv4) or 16 (IPv6) bytes in network order. */
export interface IpAddr {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
}

/** An address with a prefix length in [0, 32] or [0, 128]. Host bits may be set. */
export interface IpPrefix extends IpAddr {
  readonly len: number;
}

/** Why a parse failed; the config layer turns these into Issue codes of the same name. */
export type IpErrorCode =
  | "bad-address"
  | "bad-prefix"
  | "bad-range"
  | "family-mismatch"
  | "host-bits-set";

export interface IpError {
  readonly ok: false;
  readonly code: IpErrorCode;
  readonly message: string;
}

export function maxPrefixLen(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

// glibc's inet_pton rejects leading zeros in an IPv4 part ("01"), so do we: keepalived
// hands every address to inet_pton, and "010" must not silently mean 10 (or 8).
const V4_PART = /^(0|[1-9][0-9]{0,2})$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!V4_PART.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Parses one side of "::" into 16-bit groups; an IPv4 tail counts as two groups. */
function parseV6Side(side: string, allowV4Tail: boolean): number[] | undefined {
  if (side === "") return [];
  const parts = side.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && allowV4Tail && p.includes(".")) {
      const v4 = parseV4(p);
      if (!v4) return undefined;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (V6_GROUP.test(p)) {
      groups.push(Number.parseInt(p, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

// RFC 4291 §2.2 text forms. Zone ids ("%eth0") are rejected: keepalived's inet_pton
// does not take them, and an address line names its interface with `dev`.
function parseV6(s: string): Uint8Array | undefined {
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 1) {
    const all = parseV6Side(s, true);
    if (all?.length !== 8) return undefined;
    groups = all;
  } else {
    const head = parseV6Side(halves[0]!, false);
    const tail = parseV6Side(halves[1]!, true);
    // "::" stands for at least one zero group (inet_pton accepts "1:2:3:4:5:6:7::").
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Parses a bare address. The family follows from a ':' as in keepalived (utils.c). */
export function parseIp(s: string): IpAddr | undefined {
  if (s.includes(":")) {
    const bytes = parseV6(s);
    return bytes ? { family: 6, bytes } : undefined;
  }
  const bytes = parseV4(s);
  return bytes ? { family: 4, bytes } : undefined;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * RFC 5952 §4: lowercase, no leading zeros, the longest run of two or more zero groups
 * (the first on a tie) becomes "::". §5: mixed notation for IPv4-mapped addresses only,
 * the one well-known prefix every implementation agrees on.
 */
function formatV6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  const mapped = isV4Mapped(b);
  const hexCount = mapped ? 6 : 8;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < hexCount; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < hexCount && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(":");
  let text: string;
  if (bestStart < 0) text = hex(0, hexCount);
  else text = `${hex(0, bestStart)}::${hex(bestStart + bestLen, hexCount)}`;
  if (!mapped) return text;
  const v4 = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return text.endsWith(":") ? `${text}${v4}` : `${text}:${v4}`;
}

export function formatIp(a: IpAddr): string {
  if (a.family === 4) return Array.from(a.bytes).join(".");
  return formatV6(a.bytes);
}

/** Canonical "address/len". */
export function formatPrefix(p: IpPrefix): string {
  return `${formatIp(p)}/${p.len}`;
}

export type PrefixResult =
  | { readonly ok: true; readonly prefix: IpPrefix; readonly explicitLen: boolean }
  | IpError;

function fail(code: IpErrorCode, message: string): IpError {
  return { ok: false, code, message };
}

/**
 * Parses "ADDR/LEN" or, unless `requireLen`, a bare "ADDR" (then LEN is the full length,
 * keepalived's default for address lines). LEN is decimal, as keepalived reads it.
 */
export function parsePrefix(s: string, requireLen = false): PrefixResult {
  const slash = s.indexOf("/");
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const addr = parseIp(addrText);
  if (!addr) return fail("bad-address", `'${addrText}' is not an IPv4 or IPv6 address`);
  const max = maxPrefixLen(addr.family);
  if (slash < 0) {
    if (requireLen) return fail("bad-prefix", `'${s}' has no prefix length`);
    return { ok: true, prefix: { ...addr, len: max }, explicitLen: false };
  }
  const lenText = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lenText) || Number(lenText) > max) {
    return fail("bad-prefix", `prefix length '${lenText}' is not in [0, ${max}]`);
  }
  return { ok: true, prefix: { ...addr, len: Number(lenText) }, explicitLen: true };
}

/** True if any bit after the first `len` bits is set. */
export function hostBitsSet(p: IpPrefix): boolean {
  for (let bit = p.len; bit < p.bytes.length * 8; bit++) {
    if ((p.bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return true;
  }
  return false;
}

/** The prefix with its host bits cleared (`set` = false) or set (`set` = true). */
export function maskHostBits(p: IpPrefix, set = false): IpPrefix {
  const bytes = new Uint8Array(p.bytes);
  for (let bit = p.len; bit < bytes.length * 8; bit++) {
    const m = 1 << (7 - (bit & 7));
    bytes[bit >> 3] = set ? bytes[bit >> 3]! | m : bytes[bit >> 3]! & ~m;
  }
  return { family: p.family, bytes, len: p.len };
}

/** Numeric order (IPv4 before IPv6); VRRP breaks priority ties on the higher address. */
export function compareIp(a: IpAddr, b: IpAddr): -1 | 0 | 1 {
  if (a.family !== b.family) return a.family < b.family ? -1 : 1;
  for (let i = 0; i < a.bytes.length; i++) {
    const x = a.bytes[i]!;
    const y = b.bytes[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function ipEqual(a: IpAddr, b: IpAddr): boolean {
  return compareIp(a, b) === 0;
}

/** 224.0.0.0/4 (RFC 5771) or ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(a: IpAddr): boolean {
  return a.family === 4 ? (a.bytes[0]! & 0xf0) === 0xe0 : a.bytes[0] === 0xff;
}

/** 169.254.0.0/16 (RFC 3927) or fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocal(a: IpAddr): boolean {
  if (a.family === 4) return a.bytes[0] === 169 && a.bytes[1] === 254;
  return a.bytes[0] === 0xfe && (a.bytes[1]! & 0xc0) === 0x80;
}

/** 0.0.0.0 or :: (RFC 4291 §2.5.2). */
export function isUnspecified(a: IpAddr): boolean {
  return a.bytes.every((b) => b === 0);
}

export function ipToBigInt(a: IpAddr): bigint {
  let n = 0n;
  for (const b of a.bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function bigIntToIp(family: IpFamily, n: bigint): IpAddr {
  const bytes = new Uint8Array(family === 4 ? 4 : 16);
  let v = n;
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return { family, bytes };
}

/**
 * How a virtual_server_group range was written (keepalived.conf(5), virtual_server_group):
 * `single` ADDR; `short` ADDR-END where END replaces the last IPv4 octet (decimal) or the
 * last IPv6 group (hex, e.g. ae00::2-9); `full` ADDR-ADDR; `prefix` ADDR/LEN with LEN >= 1
 * and no host bits set.
 */
export type RangeForm = "single" | "short" | "full" | "prefix";

export interface IpRange {
  readonly form: RangeForm;
  readonly first: IpAddr;
  readonly last: IpAddr;
  /** Only for `prefix`. */
  readonly len?: number;
  /** Addresses in the range, inclusive; a bigint because an IPv6 /64 holds 2^64. */
  readonly count: bigint;
}

export type RangeResult = { readonly ok: true; readonly range: IpRange } | IpError;

function mkRange(form: RangeForm, first: IpAddr, last: IpAddr, len?: number): RangeResult {
  const count = ipToBigInt(last) - ipToBigInt(first) + 1n;
  const range: IpRange =
    len === undefined ? { form, first, last, count } : { form, first, last, len, count };
  return { ok: true, range };
}

function parsePrefixRange(s: string): RangeResult {
  const r = parsePrefix(s, true);
  if (!r.ok) return r;
  // keepalived (check_data.c) refuses /0 and set host bits for group ranges.
  if (r.prefix.len === 0) return fail("bad-prefix", "a range prefix length must be at least 1");
  if (hostBitsSet(r.prefix)) {
    return fail("host-bits-set", `'${s}' has bits set after the prefix length`);
  }
  return mkRange("prefix", r.prefix, maskHostBits(r.prefix, true), r.prefix.len);
}

function parseShortEnd(first: IpAddr, endText: string): RangeResult {
  const v4 = first.family === 4;
  const ok = v4 ? /^[0-9]{1,3}$/.test(endText) : /^[0-9a-fA-F]{1,4}$/.test(endText);
  const end = ok ? Number.parseInt(endText, v4 ? 10 : 16) : Number.NaN;
  if (!ok || end > (v4 ? 255 : 0xffff)) {
    return fail("bad-range", `range end '${endText}' is not ${v4 ? "0-255" : "hex 0-ffff"}`);
  }
  const bytes = new Uint8Array(first.bytes);
  const n = bytes.length;
  const start = v4 ? bytes[n - 1]! : (bytes[n - 2]! << 8) | bytes[n - 1]!;
  // keepalived requires END strictly greater than the start's last part.
  if (end <= start) return fail("bad-range", `range end '${endText}' is not above the start`);
  if (v4) bytes[n - 1] = end;
  else {
    bytes[n - 2] = end >> 8;
    bytes[n - 1] = end & 0xff;
  }
  return mkRange("short", first, { family: first.family, bytes });
}

/** Parses one virtual_server_group address or range. */
export function parseRange(s: string): RangeResult {
  if (s.includes("/")) return parsePrefixRange(s);
  const dash = s.indexOf("-");
  const startText = dash < 0 ? s : s.slice(0, dash);
  const first = parseIp(startText);
  if (!first) return fail("bad-address", `'${startText}' is not an IPv4 or IPv6 address`);
  if (dash < 0) return mkRange("single", first, first);
  const endText = s.slice(dash + 1);
  // A '.' (IPv4) or ':' (IPv6) in the end part makes it a full address, as in keepalived.
  const full = first.family === 4 ? endText.includes(".") : endText.includes(":");
  if (!full) return parseShortEnd(first, endText);
  const last = parseIp(endText);
  if (!last) return fail("bad-address", `range end '${endText}' is not an address`);
  if (last.family !== first.family) {
    return fail("family-mismatch", `range '${s}' mixes IPv4 and IPv6`);
  }
  if (compareIp(last, first) < 0) return fail("bad-range", `range '${s}' ends before it starts`);
  return mkRange("full", first, last);
}

/** Canonical text for a range, in the form it was written. */
export function formatRange(r: IpRange): string {
  const first = formatIp(r.first);
  switch (r.form) {
    case "single":
      return first;
    case "prefix":
      return `${first}/${r.len ?? maxPrefixLen(r.first.family)}`;
    case "full":
      return `${first}-${formatIp(r.last)}`;
    case "short": {
      const b = r.last.bytes;
      const n = b.length;
      const end =
        r.last.family === 4 ? String(b[n - 1]) : ((b[n - 2]! << 8) | b[n - 1]!).toString(16);
      return `${first}-${end}`;
    }
  }
}
