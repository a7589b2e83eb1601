/**
 * DNS_CHECK probe (keepalived 2.2.7 check/check_dns.c): one query (a random ID, RD set, one
 * question `name`/`type` of class IN) over a connected UDP socket to connect_ip:connect_port;
 * the reply is judged by core/check/dns.ts dnsReplyVerdict (ID, QR, RCODE — datagrams that are
 * not our answer are ignored and the wait goes on). No acceptable reply within connect_timeout,
 * an ICMP error (ECONNREFUSED…) or an error RCODE fail the probe. It never rejects.
 */
import {
  DNS_RECV_BUFFER_BYTES,
  DNS_TYPES,
  type DnsTypeName,
  dnsReplyVerdict,
  encodeDnsQuery,
} from "../core/check/dns.ts";
import { type CheckProbeResult, errorReason } from "./check-tcp.ts";
import { failedProbe, udpExchange } from "./udp-exchange.ts";

export interface DnsCheckSpec {
  readonly host: string;
  readonly port: number;
  readonly bindAddress?: string;
  readonly bindPort?: number;
  readonly connectTimeoutMs: number;
  /** `type` (keepalived default SOA). */
  readonly type: DnsTypeName;
  /** `name` (keepalived default: the root). */
  readonly name: string;
  /** The query ID; random when absent (check_dns.c uses random()). */
  readonly queryId?: number;
}

export function probeDns(spec: DnsCheckSpec): Promise<CheckProbeResult> {
  const id = spec.queryId ?? Math.floor(Math.random() * 0x10000);
  const query = encodeDnsQuery(id, spec.name, DNS_TYPES[spec.type] ?? DNS_TYPES.SOA);
  if (!query.ok) return failedProbe(`cannot encode name '${spec.name}': ${query.reason}`);
  return udpExchange({
    host: spec.host,
    port: spec.port,
    ...(spec.bindAddress !== undefined ? { bindAddress: spec.bindAddress } : {}),
    ...(spec.bindPort !== undefined ? { bindPort: spec.bindPort } : {}),
    timeoutMs: spec.connectTimeoutMs,
    payload: query.bytes,
    onMessage: (msg) => {
      const v = dnsReplyVerdict(id, msg.subarray(0, DNS_RECV_BUFFER_BYTES));
      if (v.kind === "ok") return { ok: true };
      if (v.kind === "fail") return { ok: false, reason: `read error occurred. (${v.reason})` };
      return undefined;
    },
    onTimeout: () => ({
      ok: false,
      reason: `read timeout from socket after ${spec.connectTimeoutMs} ms`,
    }),
    readError: (e) => `failed to read socket: ${errorReason(e)}`,
    writeError: (e) => `failed to write socket: ${errorReason(e)}`,
  });
}
