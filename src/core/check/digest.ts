/**
 * What `agent genhash` prints (keepalived genhash, check/check_genhash.c): the MD5 digest
 * of a URL's body as lower-case hex, and in verbose mode keepalived's dumps of the header,
 * body and digest (lib/utils.c dump_buffer layout) and the response time.
 * Pure: the bytes come from the shell.
 */

export interface GenhashTarget {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  /** Path and query, as sent in the request line. */
  readonly path: string;
}

/** `http://host[:port]/path` or `https://…` → where to connect; a string says why not. */
export function parseGenhashUrl(text: string): GenhashTarget | string {
  const m = /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[^/:?#[\]]+)(?::(\d{1,5}))?([/?][^#]*)?$/.exec(text);
  if (!m) return `'${text}' is not an http:// or https:// URL`;
  const tls = m[1] === "https";
  const rawHost = m[2] ?? "";
  const port = m[3] === undefined ? (tls ? 443 : 80) : Number(m[3]);
  if (port < 1 || port > 65535) return `port ${port} is out of range (1-65535)`;
  const host = rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost;
  let path = m[4] ?? "/";
  if (path.startsWith("?")) path = `/${path}`;
  return { tls, host, port, path };
}

/** lib/utils.c dump_buffer's layout: decimal offset, 16 hex bytes in two groups, ASCII. */
export function hexDump(bytes: Uint8Array): string {
  let out = "";
  for (let line = 0; line < bytes.length; line += 16) {
    let hex = "";
    let ascii = "";
    for (let i = line; i < line + 16; i++) {
      const b = bytes[i];
      hex += b === undefined ? "   " : ` ${b.toString(16).padStart(2, "0")}`;
      if (i - line === 7) hex += " -";
      ascii += b === undefined ? " " : b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : ".";
    }
    out += `${String(line & 0xffff).padStart(4, "0")} ${hex}   ${ascii}\n`;
  }
  return out;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(Math.floor(hex.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** check_http.c's DELIM_BEGIN title DELIM_END banners; titles carry their own padding. */
const rule = (title: string) => `-----------------------[${title}]-----------------------\n`;

export interface GenhashCapture {
  readonly header: Uint8Array;
  readonly body: Uint8Array;
  readonly digestHex: string;
  readonly path: string;
  readonly responseUs: number;
}

/** Latin-1 text of bytes (header lines are octets, not UTF-8). */
function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** The verbose report, in the order and with the titles keepalived's genhash -v uses. */
export function genhashVerbose(c: GenhashCapture): string {
  let out = rule("    HTTP Header Buffer    ");
  out += hexDump(c.header);
  out += rule(" HTTP Header Ascii Buffer ");
  out += `${latin1(c.header)}\n`;
  if (c.body.length > 0) {
    out += rule("        HTML Buffer        ");
    out += hexDump(c.body);
  }
  out += "\n";
  out += rule("    HTML hash resulting    ");
  out += hexDump(hexToBytes(c.digestHex));
  out += rule(" HTML hash final resulting ");
  out += `${c.digestHex}\n`;
  out += `\nGlobal response time for [${c.path}] = ${Math.round(c.responseUs)} usecs\n`;
  return out;
}
