/**
 * DNS_CHECK probe (keepalived 2.2.7 check/check_dns.c): one query (a random ID, RD set, one
 * question `name`/`type` of class IN) over a connected UDP socket to connect_ip:connect_port;
 * the reply is judged by core/check/dns.ts dnsReplyVerdict (ID, QR, RCODE — datagrams that are
 * not our answer are ignored and the wait goes on). No acceptable reply within connect_timeout,
 * an ICMP error (ECONNREFUSED…) or an error RCODE fail the probe. It never rejects.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import {
  DNS_RECV_BUFFER_BYTES,
  DNS_TYPES,
  type DnsTypeName,
  dnsReplyVerdict,
  encodeDnsQuery,
} from "../core/check/dns.ts";
import { type CheckProbeResult, elapsedMs, errorReason } from "./check-tcp.ts";

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
  const startMs = performance.now();
  const id = spec.queryId ?? Math.floor(Math.random() * 0x10000);
  return new Promise((resolve) => {
    let sock: Socket | undefined;
    let done = false;
    const finish = (ok: boolean, reason?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock?.close();
      } catch {
        // already closed
      }
      const latencyMs = elapsedMs(startMs);
      resolve(reason === undefined ? { ok, latencyMs } : { ok, reason, latencyMs });
    };
    const timer = setTimeout(
      () => finish(false, `read timeout from socket after ${spec.connectTimeoutMs} ms`),
      spec.connectTimeoutMs,
    );
    const query = encodeDnsQuery(id, spec.name, DNS_TYPES[spec.type] ?? DNS_TYPES.SOA);
    if (!query.ok) return finish(false, `cannot encode name '${spec.name}': ${query.reason}`);
    try {
      const s = createSocket(isIPv6(spec.host) ? "udp6" : "udp4");
      sock = s;
      s.on("error", (e) => finish(false, `failed to read socket: ${errorReason(e)}`));
      s.on("message", (msg: Buffer) => {
        const n = Math.min(msg.length, DNS_RECV_BUFFER_BYTES);
        const v = dnsReplyVerdict(id, new Uint8Array(msg.buffer, msg.byteOffset, n));
        if (v.kind === "ok") finish(true);
        else if (v.kind === "fail") finish(false, `read error occurred. (${v.reason})`);
      });
      const connectAndSend = () =>
        s.connect(spec.port, spec.host, () => {
          if (done) return;
          s.send(query.bytes, (err) => {
            if (err) finish(false, `failed to write socket: ${errorReason(err)}`);
          });
        });
      if (spec.bindAddress !== undefined || spec.bindPort !== undefined)
        s.bind(
          {
            port: spec.bindPort ?? 0,
            ...(spec.bindAddress !== undefined ? { address: spec.bindAddress } : {}),
          },
          connectAndSend,
        );
      else connectAndSend();
    } catch (e) {
      finish(false, errorReason(e));
    }
  });
}
