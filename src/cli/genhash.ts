/**
 * `agent genhash --url URL [--verbose]`: print the MD5 digest of a URL's body, the value an
 * HTTP_GET/SSL_GET `url { digest … }` expects (keepalived's genhash / `keepalived -T`).
 * The body is fetched exactly as the checker fetches it (same request, Content-Length
 * honoured), so the digest matches what the checker computes. Unlike keepalived's genhash,
 * a failure exits 1 (genhash prints its error and exits 0).
 */
import { defineCommand } from "citty";
import { genhashVerbose, parseGenhashUrl } from "../core/check/digest.ts";
import { fetchOnce, type HttpProtocol } from "../io/check-http.ts";
import { errorReason } from "../io/check-tcp.ts";
import { EXIT, writeErr, writeOut } from "./common.ts";

const PROTOCOLS: Record<string, HttpProtocol> = { "1.0": "1.0", "1.0c": "1.0C", "1.1": "1.1" };

export default defineCommand({
  meta: {
    name: "genhash",
    description: "Print the MD5 digest of a URL's body (for url { digest })",
  },
  args: {
    url: {
      type: "string",
      required: true,
      description: "http:// or https:// URL",
      valueHint: "URL",
    },
    verbose: { type: "boolean", alias: "v", description: "Dump header, body and digest" },
    virtualhost: { type: "string", alias: "V", description: "Host: header (default: host:port)" },
    sni: {
      type: "boolean",
      alias: "I",
      description: "Send SNI (the virtualhost, else the URL host)",
    },
    protocol: {
      type: "string",
      alias: "P",
      description: "HTTP protocol: 1.0, 1.0c or 1.1",
      valueHint: "1.0",
    },
    timeout: {
      type: "string",
      alias: "t",
      description: "Timeout in seconds (default 5)",
      valueHint: "S",
    },
  },
  async run({ args }): Promise<number> {
    const target = parseGenhashUrl(args.url);
    if (typeof target === "string") return usage(target);
    const protocol = PROTOCOLS[(args.protocol ?? "1.0").toLowerCase()];
    if (protocol === undefined) return usage(`invalid HTTP protocol version '${args.protocol}'`);
    const timeoutS = args.timeout === undefined ? 5 : Number(args.timeout);
    if (!(timeoutS > 0 && timeoutS <= 86400)) return usage(`invalid timeout '${args.timeout}'`);
    const vhost = args.virtualhost;
    const startMs = performance.now();
    try {
      const got = await fetchOnce(
        {
          host: target.host,
          port: target.port,
          connectTimeoutMs: timeoutS * 1000,
          httpProtocol: protocol,
          ...(vhost !== undefined ? { virtualhost: vhost } : {}),
          url: { path: target.path },
          ...(target.tls
            ? { tls: args.sni ? { enableSni: true, sniName: vhost ?? target.host } : {} }
            : {}),
        },
        args.verbose === true,
      );
      const responseUs = (performance.now() - startMs) * 1000;
      if (args.verbose && got.header !== undefined && got.body !== undefined)
        writeOut(
          genhashVerbose({
            ...got,
            header: got.header,
            body: got.body,
            path: target.path,
            responseUs,
          }),
        );
      else writeOut(`${got.digestHex}\n`);
      return EXIT.OK;
    } catch (e) {
      writeErr(`${errorReason(e)}\n`);
      return EXIT.INVALID;
    }
  },
});

function usage(message: string): number {
  writeErr(`agent genhash: ${message}\n`);
  return EXIT.USAGE;
}
