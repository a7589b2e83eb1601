/**
 * UDP_CHECK probe (keepalived 2.2.7 check/check_udp.c + core/layer4.c udp_bind_connect,
 * udp_socket_state, udp_socket_error). One connected datagram socket per probe:
 *
 * - it sends `payload`, or 32 bytes of "keepalived check - " repeated (layer4.c set_buf,
 *   UDP_BUFSIZE) when none is configured;
 * - an ICMP destination-unreachable (the kernel reports it on a connected socket as
 *   ECONNREFUSED / EHOSTUNREACH / ENETUNREACH) fails the probe;
 * - with no reply within connect_timeout the probe PASSES unless `require_reply` is set
 *   (udp_socket_state: "we consider it success unless require_reply is set");
 * - any datagram received passes, unless `require_reply` carries a pattern: then the reply's
 *   length must lie in [min_reply_length, max_reply_length] and its first
 *   min(len, pattern length) bytes must match the pattern (X/x nibbles are wildcards)
 *   (check_udp.c check_udp_reply). The lengths are only checked when a pattern is given.
 *
 * It never rejects, and everything is bounded by connect_timeout.
 */
import { type CheckProbeResult, errorReason } from "./check-tcp.ts";
import { failedProbe, udpExchange } from "./udp-exchange.ts";

/** A reply pattern: bytes and, per byte, the bits that are wildcards (check_udp.c reply_mask). */
export interface ReplyPattern {
  readonly data: Uint8Array;
  readonly mask: Uint8Array;
}

export interface UdpCheckSpec {
  readonly host: string;
  readonly port: number;
  readonly bindAddress?: string;
  readonly bindPort?: number;
  readonly connectTimeoutMs: number;
  /** `payload` as hex (even length); absent → keepalived's 32-byte filler. */
  readonly payloadHex?: string;
  /** `require_reply`: true (any reply) or a hex pattern with X/x wildcards. */
  readonly requireReply?: true | string;
  /** min_reply_length (keepalived default 0). */
  readonly minReplyLength?: number;
  /** max_reply_length (keepalived default 255, UINT8_MAX). */
  readonly maxReplyLength?: number;
}

/** layer4.c UDP_BUFSIZE and set_buf's filler text. */
export const UDP_DEFAULT_PAYLOAD_BYTES = 32;
const FILLER = "keepalived check - ";
/** check_udp.c udp_check_handler: max_reply_len = UINT8_MAX. */
export const UDP_DEFAULT_MAX_REPLY = 255;

/** The payload keepalived sends when none is configured (layer4.c set_buf). */
export function defaultUdpPayload(lengthBytes = UDP_DEFAULT_PAYLOAD_BYTES): Uint8Array {
  const out = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) out[i] = FILLER.charCodeAt(i % FILLER.length);
  return out;
}

function nibble(c: string): number | "wild" | undefined {
  if (c === "x" || c === "X") return "wild";
  const v = Number.parseInt(c, 16);
  return Number.isNaN(v) ? undefined : v;
}

/**
 * Parse a hex string as keepalived's parser.c read_hex_str does: spaces separate groups, two
 * nibbles make a byte, a lone nibble before a space or the end is a byte's low half, X/x is a
 * wildcard nibble. Returns undefined for an invalid or empty string.
 */
export function parseHexPattern(text: string, allowWildcard = true): ReplyPattern | undefined {
  const data: number[] = [];
  const mask: number[] = [];
  let i = 0;
  while (true) {
    while (text[i] === " " || text[i] === "\t") i++;
    if (i >= text.length) break;
    const a = nibble(text[i++] ?? "");
    if (a === undefined || (a === "wild" && !allowWildcard)) return undefined;
    let val = a === "wild" ? 0 : a;
    let m = a === "wild" ? 0x0f : 0;
    if (i < text.length && text[i] !== " ") {
      const b = nibble(text[i++] ?? "");
      if (b === undefined || (b === "wild" && !allowWildcard)) return undefined;
      val = (val << 4) | (b === "wild" ? 0 : b);
      m = (m << 4) | (b === "wild" ? 0x0f : 0);
    }
    data.push(val);
    mask.push(m);
  }
  return data.length === 0
    ? undefined
    : { data: Uint8Array.from(data), mask: Uint8Array.from(mask) };
}

/**
 * check_udp.c check_udp_reply: undefined when the reply is acceptable, else why not. Only
 * the first min(reply length, pattern length) bytes are compared.
 */
export function udpReplyMismatch(
  reply: Uint8Array,
  pattern: ReplyPattern,
  minReplyLength: number,
  maxReplyLength: number,
): string | undefined {
  if (reply.length < minReplyLength || reply.length > maxReplyLength)
    return `reply length ${reply.length} outside ${minReplyLength}-${maxReplyLength}`;
  const n = Math.min(reply.length, pattern.data.length);
  for (let i = 0; i < n; i++) {
    const diff = ((reply[i] ?? 0) ^ (pattern.data[i] ?? 0)) & ~(pattern.mask[i] ?? 0) & 0xff;
    if (diff !== 0) return `reply data mismatch at byte ${i}`;
  }
  return undefined;
}

function payloadOf(spec: UdpCheckSpec): Uint8Array | string {
  if (spec.payloadHex === undefined) return defaultUdpPayload();
  const p = parseHexPattern(spec.payloadHex, false);
  return p === undefined ? `invalid payload hex '${spec.payloadHex}'` : p.data;
}

export function probeUdp(spec: UdpCheckSpec): Promise<CheckProbeResult> {
  const pattern =
    typeof spec.requireReply === "string" ? parseHexPattern(spec.requireReply) : undefined;
  const maxLen = spec.maxReplyLength ?? UDP_DEFAULT_MAX_REPLY;
  const minLen = spec.minReplyLength ?? 0;
  const payload = payloadOf(spec);
  if (typeof payload === "string") return failedProbe(payload);
  if (typeof spec.requireReply === "string" && pattern === undefined)
    return failedProbe(`invalid require_reply pattern '${spec.requireReply}'`);
  return udpExchange({
    host: spec.host,
    port: spec.port,
    ...(spec.bindAddress !== undefined ? { bindAddress: spec.bindAddress } : {}),
    ...(spec.bindPort !== undefined ? { bindPort: spec.bindPort } : {}),
    timeoutMs: spec.connectTimeoutMs,
    payload,
    onMessage: (msg) => {
      // keepalived reads into a buffer of max_reply_len + 1 bytes: longer replies are cut.
      const reply = msg.subarray(0, maxLen + 1);
      const why =
        pattern === undefined ? undefined : udpReplyMismatch(reply, pattern, minLen, maxLen);
      return why === undefined ? { ok: true } : { ok: false, reason: why };
    },
    // keepalived: silence without an ICMP error is success unless a reply is required.
    onTimeout: () =>
      spec.requireReply !== undefined
        ? { ok: false, reason: `no reply within ${spec.connectTimeoutMs} ms` }
        : { ok: true },
    readError: errorReason,
    writeError: errorReason,
  });
}
