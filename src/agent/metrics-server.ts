/**
 * The opt-in Prometheus endpoint (`metrics_listen` in global_defs, `agent run --metrics`):
 * GET /metrics answers the exposition text, anything else is 404. The handler only calls
 * `render` — synchronous, in memory, no disk or network — so a scrape never holds up the
 * event loop that times VRRP adverts.
 */
import { isIP } from "node:net";
import { AgentError } from "../errors.ts";

/** The exposition format Metrics.render produces (what the Go client sends for 0.0.4). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Why the endpoint could not start; `invalid` is the operator's address, the rest the OS. */
export type MetricsListenReason = "invalid" | "in-use" | "unavailable" | "denied" | "failed";

export class MetricsListenError extends AgentError {
  constructor(
    readonly reason: MetricsListenReason,
    /** The address as given. */
    listen: string,
    message: string,
    cause?: unknown,
  ) {
    super(reason === "invalid" ? "E_USAGE" : "E_SOCKET", message, listen, { cause });
  }
}

/** The subset of a consola logger this uses. */
export interface MetricsLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface MetricsServer {
  /** The bound port (the kernel's choice when asked for 0). */
  readonly port: number;
  stop(): Promise<void>;
}

const invalid = (listen: string, why: string) =>
  new MetricsListenError(
    "invalid",
    listen,
    `metrics listen address "${listen}": ${why} (expected IPv4:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9165)`,
  );

/**
 * `HOST:PORT` with an IPv4 literal, or `[IPv6]:PORT`. Only literals: resolving a name
 * would be a network lookup, and an empty host (Go's ":9165", all interfaces) is refused
 * because exposing the endpoint everywhere should be written out (0.0.0.0 or [::]).
 */
export function parseListen(listen: string): { readonly host: string; readonly port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(listen);
  if (!m) return throwing(invalid(listen, "not HOST:PORT"));
  const port = Number(m[3]);
  if (port > 65535) return throwing(invalid(listen, `port ${port} is out of range 0-65535`));
  const v6 = m[1];
  if (v6 !== undefined) {
    // A zone (fe80::1%eth0) is refused too: the endpoint is for loopback or a routed address.
    if (v6.includes("%") || isIP(v6) !== 6)
      return throwing(invalid(listen, `"${v6}" is not an IPv6 address`));
    return { host: v6, port };
  }
  const v4 = m[2] ?? "";
  if (v4 === "") return throwing(invalid(listen, "no address"));
  if (isIP(v4) !== 4) return throwing(invalid(listen, `"${v4}" is not an IPv4 address`));
  return { host: v4, port };
}

function throwing(e: Error): never {
  throw e;
}

/** errno names Bun puts on a failed listen → our reason. */
const LISTEN_ERRNO: Readonly<Record<string, MetricsListenReason>> = {
  EADDRINUSE: "in-use",
  EADDRNOTAVAIL: "unavailable",
  EACCES: "denied",
  EPERM: "denied",
};

const REASON_TEXT: Readonly<Record<MetricsListenReason, string>> = {
  invalid: "invalid address",
  "in-use": "the address is already in use",
  unavailable: "no interface of this host has that address",
  denied: "permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)",
  failed: "could not listen",
};

function listenFailure(listen: string, e: unknown): MetricsListenError {
  const code = (e as { code?: unknown } | null)?.code;
  const reason = (typeof code === "string" ? LISTEN_ERRNO[code] : undefined) ?? "failed";
  const detail = e instanceof Error ? e.message : String(e);
  return new MetricsListenError(
    reason,
    listen,
    `metrics endpoint ${listen}: ${REASON_TEXT[reason]} (${detail})`,
    e,
  );
}

function respond(req: Request, render: () => string, log: MetricsLog): Response {
  const { pathname } = new URL(req.url);
  if (pathname !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD"))
    return new Response("not found\n", {
      status: 404,
      headers: { "content-type": "text/plain" },
    });
  try {
    return new Response(render(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
  } catch (e) {
    // A bug in rendering must not take the agent down; the scraper sees the failure.
    log.warn(`metrics: render failed: ${e instanceof Error ? e.message : String(e)}`);
    return new Response("render failed\n", { status: 500 });
  }
}

/** Start the endpoint; throws MetricsListenError when the address is invalid or taken. */
export async function startMetricsServer(
  listen: string,
  render: () => string,
  log: MetricsLog,
): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: host,
      port,
      development: false,
      // Bun turns SO_REUSEPORT on in production mode: a second agent (or a leftover
      // keepalived-exporter run the same way) would then share the port and answer half the
      // scrapes with its own numbers. One owner per address, or a clear "in use" error.
      reusePort: false,
      // Scrapes carry no body; refuse large ones instead of buffering them.
      maxRequestBodySize: 4096,
      fetch: (req) => respond(req, render, log),
    });
  } catch (e) {
    throw listenFailure(listen, e);
  }
  const bound = server.port ?? port;
  const shown = host.includes(":") ? `[${host}]` : host;
  log.info(`metrics: serving http://${shown}:${bound}/metrics`);
  return {
    port: bound,
    stop: async () => {
      await server.stop(true);
    },
  };
}
