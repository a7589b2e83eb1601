/**
 * HTTP_GET and SSL_GET probes (keepalived check/check_http.c, check_ssl.c): one GET of one
 * `url` over a fresh connection, read to the end of the stream, then judged: the status must
 * be in the URL's set (200-299 by default) and, when a digest is given, the MD5 of the body
 * must equal it. Like keepalived the request is written by hand (HTTP/1.0 unless
 * http_protocol says otherwise, `Host:` from the virtualhost or the address), the body is
 * digested as it arrives (no de-chunking), TLS peers are not verified, and every read waits
 * at most connect_timeout. Unlike keepalived, a whole probe is also bounded in time and body
 * size, so a server trickling bytes forever cannot hold a checker.
 * It never rejects and never blocks the event loop.
 */
import { createHash, type Hash } from "node:crypto";
import { isIPv6, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type CheckProbeResult, elapsedMs, errorReason } from "./check-tcp.ts";

export type HttpProtocol = "1.0" | "1.0C" | "1.1";

export interface HttpCheckUrl {
  readonly path: string;
  /** MD5 of the body, lower-case hex. */
  readonly digest?: string;
  /** Codes and inclusive ranges as the config keeps them ("200", "200-299"); none ⇒ 200-299. */
  readonly statusCodes?: readonly string[];
  readonly virtualhost?: string;
}

export interface HttpTlsSpec {
  /** enable_sni: send server_name (sni_name, else the virtualhost). */
  readonly enableSni?: boolean;
  readonly sniName?: string;
  /** The SSL { } block: client certificate and key (PEM), key password, CA file (PEM). */
  readonly certificate?: string;
  readonly key?: string;
  readonly password?: string;
  readonly ca?: string;
}

export interface HttpCheckSpec {
  readonly host: string;
  readonly port: number;
  readonly bindAddress?: string;
  readonly bindPort?: number;
  /** Bounds the connect and every later wait for data (keepalived connection_to). */
  readonly connectTimeoutMs: number;
  readonly httpProtocol?: HttpProtocol;
  /** The checker's virtualhost (else the real server's or virtual server's, resolved by the caller). */
  readonly virtualhost?: string;
  readonly url: HttpCheckUrl;
  /** Present for SSL_GET. */
  readonly tls?: HttpTlsSpec;
  /** Whole-probe bound; default 10 × connectTimeoutMs. */
  readonly totalTimeoutMs?: number;
  /** Body bytes accepted; default MAX_CHECK_BODY_BYTES. */
  readonly maxBodyBytes?: number;
}

export const MAX_CHECK_BODY_BYTES = 16 * 1024 * 1024;
/** Response headers larger than this are a failure. */
export const MAX_CHECK_HEADER_BYTES = 64 * 1024;
const USER_AGENT = "KeepAliveClient"; // what keepalived sends, so server logs look the same

/** The request keepalived would send (check_http.c http_request's template). */
export function buildRequest(spec: HttpCheckSpec): string {
  const vhost = spec.url.virtualhost ?? spec.virtualhost;
  const proto = spec.httpProtocol ?? "1.0";
  const hostHeader =
    vhost ?? `${isIPv6(spec.host) ? `[${spec.host}]` : spec.host}:${String(spec.port)}`;
  return (
    `GET ${spec.url.path} HTTP/1.${proto === "1.1" ? 1 : 0}\r\n` +
    `User-Agent: ${USER_AGENT}\r\n` +
    (proto === "1.0" ? "" : "Connection: close\r\n") +
    `Host: ${hostHeader}\r\n\r\n`
  );
}

/** Is `code` in the URL's set ("200", "200-299" …)? The default set is 200-299. */
export function statusAccepted(code: number, set: readonly string[] | undefined): boolean {
  const list = set === undefined || set.length === 0 ? ["200-299"] : set;
  return list.some((item) => {
    const [a, b] = item.split("-");
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    return code >= lo && code <= hi;
  });
}

/** What one GET brought back. */
export interface HttpReceived {
  readonly status: number;
  /** MD5 of the body (of its first Content-Length bytes when the server sent one). */
  readonly digestHex: string;
  readonly bodyBytes: number;
  /** With `keep`: the header block (through the blank line) and the digested body. */
  readonly header?: Uint8Array;
  readonly body?: Uint8Array;
}
type Received = HttpReceived;

export function probeHttpGet(spec: HttpCheckSpec): Promise<CheckProbeResult> {
  const startMs = performance.now();
  return fetchOnce(spec).then(
    (got) => judge(spec, got, elapsedMs(startMs)),
    (e: unknown) => ({ ok: false, reason: errorReason(e), latencyMs: elapsedMs(startMs) }),
  );
}

function judge(spec: HttpCheckSpec, got: Received, latencyMs: number): CheckProbeResult {
  if (!statusAccepted(got.status, spec.url.statusCodes))
    return { ok: false, reason: `HTTP status code ${got.status} not expected`, latencyMs };
  if (spec.url.digest !== undefined && spec.url.digest.toLowerCase() !== got.digestHex)
    return {
      ok: false,
      reason: `MD5 digest ${got.digestHex} differs from ${spec.url.digest}`,
      latencyMs,
    };
  return { ok: true, latencyMs };
}

class ProbeFailure extends Error {}

function openSocket(spec: HttpCheckSpec): Socket {
  const base = {
    host: spec.host,
    port: spec.port,
    ...(spec.bindAddress !== undefined ? { localAddress: spec.bindAddress } : {}),
    ...(spec.bindPort !== undefined ? { localPort: spec.bindPort } : {}),
  };
  const tls = spec.tls;
  if (tls === undefined) return netConnect(base);
  const sni = tls.enableSni ? (tls.sniName ?? spec.url.virtualhost ?? spec.virtualhost) : undefined;
  return tlsConnect({
    ...base,
    // check_ssl.c never asks OpenSSL to verify the peer; only reachability is checked.
    rejectUnauthorized: false,
    // node sends the host as SNI by default; keepalived sends none unless enable_sni.
    servername: sni ?? "",
    ...(tls.certificate !== undefined ? { cert: tls.certificate } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {}),
    ...(tls.password !== undefined ? { passphrase: tls.password } : {}),
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
  });
}

/**
 * Parses one response as it streams in: the status line, Content-Length, and the body's
 * MD5 (check_http.c http_process_response stops digesting at Content-Length).
 */
class ResponseReader {
  private head: Buffer = Buffer.alloc(0);
  private hash: Hash | undefined;
  private digestLeft = Number.POSITIVE_INFINITY;
  private readonly kept: Buffer[] = [];
  status: number | undefined;
  header: Buffer | undefined;
  bodyBytes = 0;

  constructor(
    private readonly maxBody: number,
    private readonly keep: boolean,
  ) {}

  /** Feed bytes; returns why the response is unacceptable, or undefined. */
  push(chunk: Buffer): string | undefined {
    if (this.status !== undefined) return this.body(chunk);
    this.head = Buffer.concat([this.head, chunk]);
    const end = this.head.indexOf("\r\n\r\n");
    if (end < 0)
      return this.head.length > MAX_CHECK_HEADER_BYTES ? "response headers too large" : undefined;
    const text = this.head.subarray(0, end).toString("latin1");
    const m = /^HTTP\/\d\.\d\s+(\d{3})/.exec(text);
    if (!m) return "not an HTTP response";
    this.status = Number(m[1]);
    const len = /\r\ncontent-length:[ \t]*(\d+)/i.exec(text);
    if (len) this.digestLeft = Number(len[1]);
    this.header = this.head.subarray(0, end + 4);
    this.hash = createHash("md5");
    return this.body(this.head.subarray(end + 4));
  }

  private body(chunk: Buffer): string | undefined {
    this.bodyBytes += chunk.length;
    if (this.bodyBytes > this.maxBody) return `body larger than ${this.maxBody} bytes`;
    const part = this.digestLeft < chunk.length ? chunk.subarray(0, this.digestLeft) : chunk;
    this.digestLeft -= part.length;
    this.hash?.update(part);
    if (this.keep) this.kept.push(part);
    return undefined;
  }

  /** The stream ended: the result, or why there is none. */
  finish(): Received | string {
    if (this.status === undefined || this.hash === undefined)
      return this.head.length === 0 ? "no data received" : "incomplete response headers";
    const got = {
      status: this.status,
      digestHex: this.hash.digest("hex"),
      bodyBytes: this.bodyBytes,
    };
    return this.keep && this.header !== undefined
      ? { ...got, header: this.header, body: Buffer.concat(this.kept) }
      : got;
  }
}

/** Connect, send, read to EOF: the status code and the body's MD5, or a ProbeFailure. */
export function fetchOnce(spec: HttpCheckSpec, keep = false): Promise<HttpReceived> {
  const totalMs = spec.totalTimeoutMs ?? spec.connectTimeoutMs * 10;
  const reader = new ResponseReader(spec.maxBodyBytes ?? MAX_CHECK_BODY_BYTES, keep);
  return new Promise<Received>((resolve, reject) => {
    let sock: Socket | undefined;
    let settled = false;
    let phase = "connect";
    const settle = (result: Received | string) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      clearTimeout(total);
      sock?.destroy();
      if (typeof result === "string") reject(new ProbeFailure(result));
      else resolve(result);
    };
    const onIdle = () => settle(`timeout during ${phase}`);
    let idle = setTimeout(onIdle, spec.connectTimeoutMs);
    const total = setTimeout(() => settle(`probe exceeded ${totalMs} ms`), totalMs);
    // Like keepalived, every wait for the peer is bounded by connect_timeout.
    const rearm = () => {
      clearTimeout(idle);
      idle = setTimeout(onIdle, spec.connectTimeoutMs);
    };
    try {
      sock = openSocket(spec);
      sock.once(spec.tls === undefined ? "connect" : "secureConnect", () => {
        phase = "response";
        rearm();
        sock?.write(buildRequest(spec));
      });
      sock.on("data", (chunk: Buffer) => {
        rearm();
        const bad = reader.push(chunk);
        if (bad !== undefined) settle(bad);
        else if (reader.status !== undefined) phase = "body";
      });
      // "end" then "close" both come: the reader is consulted only while unsettled.
      sock.once("end", () => settled || settle(reader.finish()));
      sock.once("error", (e) => settle(`${phase}: ${errorReason(e)}`));
      sock.once(
        "close",
        () =>
          settled ||
          settle(reader.status !== undefined ? reader.finish() : `closed during ${phase}`),
      );
    } catch (e) {
      settle(errorReason(e));
    }
  });
}
