/**
 * One track_http probe: GET the URL, and call it a success when the status is expected.
 * Like keepalived's HTTP_GET checker (check_http.c) each probe opens its own connection
 * (a pooled one would hide a server that stopped accepting), follows no redirect (a 3xx is
 * the answer), and the timeout bounds the whole exchange. The body is read up to a bound
 * and discarded, so a server streaming without end costs neither memory nor time.
 * It never throws: every failure is a result with a reason.
 */
import type { HttpProbeSpec } from "../core/track/http-spec.ts";

export type { HttpProbeSpec };

export interface HttpProbeResult {
  readonly ok: boolean;
  /** The response status, when one arrived. */
  readonly status?: number;
  /** Why it failed (absent on success). */
  readonly reason?: string;
  /** From the request to the end of the bounded body read, or to the failure. */
  readonly latencyMs: number;
}

/** Body bytes read before the rest is dropped with the connection. */
export const MAX_BODY_BYTES = 64 * 1024;

const USER_AGENT = "edge-agent track_http";

export async function probeHttp(spec: HttpProbeSpec): Promise<HttpProbeResult> {
  const startMs = performance.now();
  const elapsed = () => Math.round((performance.now() - startMs) * 1000) / 1000;
  const signal = AbortSignal.timeout(spec.timeoutMs);
  let status: number | undefined;
  try {
    const headers: Record<string, string> = { "user-agent": USER_AGENT, accept: "*/*" };
    if (spec.host !== undefined) headers.host = spec.host;
    const res = await fetch(spec.url, {
      method: "GET",
      headers,
      redirect: "manual",
      signal,
      // A fresh connection per probe, never an http_proxy from the environment, and the
      // body's bytes as sent (only counted, so nothing is gained by inflating them).
      keepalive: false,
      proxy: false,
      decompress: false,
      tls: tlsOptions(spec),
    });
    status = res.status;
    await drain(res.body);
    const ok = spec.expect(res.status);
    return ok
      ? { ok, status, latencyMs: elapsed() }
      : { ok, status, reason: `unexpected status ${res.status}`, latencyMs: elapsed() };
  } catch (e) {
    const reason = signal.aborted
      ? `no complete answer within ${spec.timeoutMs} ms`
      : `request failed: ${describeError(e)}`;
    return status === undefined
      ? { ok: false, reason, latencyMs: elapsed() }
      : { ok: false, status, reason, latencyMs: elapsed() };
  }
}

/**
 * With a Host header, https names that virtual host in SNI too (RFC 6066 §3), so the server
 * picks its certificate and the check verifies that name rather than the URL's address. SNI
 * carries DNS names only: an address in the Host header leaves it to the URL.
 */
function tlsOptions(spec: HttpProbeSpec): { rejectUnauthorized: boolean; serverName?: string } {
  const name = spec.host?.startsWith("[") ? undefined : spec.host?.replace(/:\d+$/, "");
  return name === undefined || /^[\d.]+$/.test(name)
    ? { rejectUnauthorized: spec.tlsVerify }
    : { rejectUnauthorized: spec.tlsVerify, serverName: name.replace(/\.$/, "") };
}

/** Read and drop up to MAX_BODY_BYTES, then cancel the rest (which closes the connection). */
async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body) return;
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total >= MAX_BODY_BYTES) {
        await reader.cancel().catch(() => undefined);
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** A one-line reason: Bun's fetch errors carry a code (ConnectionRefused, …) and a message. */
function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const msg = e.message.split("\n")[0] ?? "";
    return typeof code === "string" && code !== "" && !msg.includes(code)
      ? `${code}: ${msg}`
      : msg || e.name;
  }
  return String(e);
}
