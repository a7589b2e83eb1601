/**
 * Atoms of the `track_http` block (an edge-agent extension): the URL it GETs and the Host
 * header it may send. Both are kept as written; reading only proves that the probe
 * (src/io/http-probe.ts) can use them exactly as the operator meant.
 */
import { parseIp } from "../../core/net/ip.ts";
import { type Atom, describe, Fail, quoteIfNeeded } from "./atoms.ts";

/**
 * A DNS name (RFC 1123 §2.1 labels). A last label that is a number (decimal or 0x hex) would
 * make the URL parser read the whole host as an IPv4 address (WHATWG URL "ends in a number").
 */
function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.replace(/\.$/, "").split(".");
  if (/^(\d+|0x[0-9a-f]*)$/i.test(labels[labels.length - 1] ?? "")) return false;
  return labels.every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

/** Why `host[:port]` (an authority without user info) is unusable, or undefined. */
function authorityProblem(authority: string): string | undefined {
  let host: string;
  let port: string | undefined;
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    if (end < 0) return "an IPv6 address needs its closing ']'";
    host = authority.slice(1, end);
    const rest = authority.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return `unexpected '${rest}' after the address`;
    port = rest === "" ? undefined : rest.slice(1);
    if (parseIp(host)?.family !== 6) return `'${host}' is not an IPv6 address`;
  } else {
    const colon = authority.lastIndexOf(":");
    host = colon < 0 ? authority : authority.slice(0, colon);
    port = colon < 0 ? undefined : authority.slice(colon + 1);
    if (host.includes(":")) return "an IPv6 address must be written in brackets: [2001:db8::1]";
    if (host === "") return "there is no host";
    // The URL parser would read 127.1 as 127.0.0.1; only a dotted quad counts as an address.
    if (/^[\d.]+$/.test(host) ? parseIp(host)?.family !== 4 : !isHostName(host))
      return `'${host}' is neither an IP address nor a host name`;
  }
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    return `port '${port}' is not in 1..65535`;
  return undefined;
}

/** Why `text` is not a URL the probe can GET, or undefined. */
export function urlProblem(text: string): string | undefined {
  // The URL parser silently drops tabs and line breaks and trims spaces; the file would
  // then say one thing and the probe do another.
  if (/[\u0000-\u0020\u007f]/.test(text)) return "it contains a space or control character";
  const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(text);
  if (!m) return "it must start with http:// or https://";
  const authority = m[2] as string;
  // Credentials would show in status, logs and metrics (design §4: no secret there).
  if (authority.includes("@")) return "user:password@ is not supported";
  if ((m[3] as string).includes("#")) return "a #fragment is never sent to the server";
  const bad = authorityProblem(authority);
  if (bad) return bad;
  return URL.canParse(text) ? undefined : "it is not a valid URL";
}

export const httpUrl: Atom<string> = {
  what: "an http:// or https:// URL (IPv4, [IPv6] or host name, optional port)",
  example: "http://127.0.0.1/healthz",
  parse(text) {
    const why = urlProblem(text);
    return why ? new Fail("bad-url", `'${text}' is not a usable URL: ${why}`) : text;
  },
  check(v) {
    return typeof v === "string"
      ? this.parse(v)
      : new Fail("bad-type", `expected a URL string, got ${describe(v)}`);
  },
  show: quoteIfNeeded,
};

/** The Host header (a virtual host): `NAME`, `IPv4` or `[IPv6]`, each with an optional `:PORT`. */
export const hostHeader: Atom<string> = {
  what: "a host name or address, optionally with :PORT",
  example: "www.example.org",
  parse(text) {
    const why = /[\u0000-\u0020\u007f@/?#]/.test(text)
      ? "it contains a character a Host header cannot carry"
      : authorityProblem(text);
    return why ? new Fail("bad-value", `'${text}' is not a Host header value: ${why}`) : text;
  },
  check(v) {
    return typeof v === "string"
      ? this.parse(v)
      : new Fail("bad-type", `expected a host name, got ${describe(v)}`);
  },
  show: quoteIfNeeded,
};
