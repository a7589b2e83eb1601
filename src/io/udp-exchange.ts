/**
 * One request datagram and the wait for its answer, as UDP_CHECK and DNS_CHECK both do it:
 * a connected UDP socket (bound first for bindto / bind_port), the payload sent once, every
 * arriving datagram judged until one settles the probe, a timeout that settles it otherwise,
 * and an ICMP error (ECONNREFUSED on a connected socket) reported through `onError`. It
 * never rejects and always closes its socket.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { type CheckProbeResult, elapsedMs, errorReason } from "./check-tcp.ts";

/** A verdict: pass or fail with a reason. */
export type UdpVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface UdpExchange {
  readonly host: string;
  readonly port: number;
  readonly bindAddress?: string;
  readonly bindPort?: number;
  readonly timeoutMs: number;
  readonly payload: Uint8Array;
  /** Judge one datagram; undefined: not ours, keep waiting. */
  readonly onMessage: (reply: Uint8Array) => UdpVerdict | undefined;
  readonly onTimeout: () => UdpVerdict;
  /** The reason text for a socket error (read side) and a failed send. */
  readonly readError: (e: unknown) => string;
  readonly writeError: (e: unknown) => string;
}

export function udpExchange(x: UdpExchange): Promise<CheckProbeResult> {
  const startMs = performance.now();
  return new Promise((resolve) => {
    let sock: Socket | undefined;
    let done = false;
    const finish = (v: UdpVerdict) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock?.close();
      } catch {
        // already closed (an error closes it)
      }
      const latencyMs = elapsedMs(startMs);
      resolve(v.ok ? { ok: true, latencyMs } : { ok: false, reason: v.reason, latencyMs });
    };
    const timer = setTimeout(() => finish(x.onTimeout()), x.timeoutMs);
    try {
      const s = createSocket(isIPv6(x.host) ? "udp6" : "udp4");
      sock = s;
      s.on("error", (e) => finish({ ok: false, reason: x.readError(e) }));
      s.on("message", (msg: Buffer) => {
        const v = x.onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
        if (v !== undefined) finish(v);
      });
      const connectAndSend = () =>
        s.connect(x.port, x.host, () => {
          if (done) return;
          s.send(x.payload, (err) => {
            if (err) finish({ ok: false, reason: x.writeError(err) });
          });
        });
      if (x.bindAddress !== undefined || x.bindPort !== undefined)
        s.bind(
          {
            port: x.bindPort ?? 0,
            ...(x.bindAddress !== undefined ? { address: x.bindAddress } : {}),
          },
          connectAndSend,
        );
      else connectAndSend();
    } catch (e) {
      finish({ ok: false, reason: errorReason(e) });
    }
  });
}

/** A probe that fails before any socket exists (bad payload, bad name). */
export function failedProbe(reason: string): Promise<CheckProbeResult> {
  return Promise.resolve({ ok: false, reason, latencyMs: 0 });
}
