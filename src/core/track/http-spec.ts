/**
 * track_http (an edge-agent extension): from the model's block to what one probe needs.
 * Pure; src/io/http-probe.ts performs the request. The statuses are HTTP_GET's
 * `status_code` words (keepalived check_http.c: a code, or an inclusive range `A-B`).
 */

/** One GET, as src/io/http-probe.ts performs it. */
export interface HttpProbeSpec {
  readonly url: string;
  /** Whether a response status counts as success. */
  readonly expect: (status: number) => boolean;
  /** The whole exchange: connect, TLS, headers and the (bounded) body. */
  readonly timeoutMs: number;
  /** Sent as the Host header instead of the URL's authority (a virtual host). */
  readonly host?: string;
  /** Check the server's certificate chain and name (https only). */
  readonly tlsVerify: boolean;
}

/** The track_http block as the model holds it (config/model.ts HttpTrackModel), seconds. */
export interface HttpTrackBlock {
  readonly url?: string;
  readonly status: readonly string[];
  readonly host?: string;
  readonly tls_verify: boolean;
  readonly timeout: number;
}

/** An inclusive range of statuses. */
export type StatusRange = readonly [low: number, high: number];

/** `"200"` → [200, 200], `"200-299"` → [200, 299]; words that are neither are skipped. */
export function statusRanges(words: readonly string[]): StatusRange[] {
  const out: StatusRange[] = [];
  for (const w of words) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(w);
    if (!m) continue;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    if (low <= high) out.push([low, high]);
  }
  return out;
}

/** A status is a success when any range holds it; no range at all holds nothing. */
export function statusMatcher(words: readonly string[]): (status: number) => boolean {
  const ranges = statusRanges(words);
  return (status) => ranges.some(([low, high]) => status >= low && status <= high);
}

/** The probe for a block, or undefined when it has no url (the config ignores it then). */
export function httpProbeSpec(t: HttpTrackBlock): HttpProbeSpec | undefined {
  if (t.url === undefined) return undefined;
  const base = {
    url: t.url,
    expect: statusMatcher(t.status),
    // At least 1 ms: the config allows 0.001 s, and a zero timeout would fail every probe.
    timeoutMs: Math.max(1, Math.round(t.timeout * 1000)),
    tlsVerify: t.tls_verify,
  };
  return t.host === undefined ? base : { ...base, host: t.host };
}
