/**
 * The control socket (design §4, docs/control.md): a Unix stream socket speaking JSON lines.
 * This file is transport only — framing, bounds, errors (the socket file's life cycle is in
 * control-file.ts); what each command does belongs to the handlers the agent's owner passes in. keepalived has no
 * equivalent (it answers signals with dump files, vrrp_print.c), so the shape is ours.
 *
 * Bounds, so that no client can stall or exhaust the agent: a request line is at most
 * MAX_REQUEST_LINE_BYTES; one request per connection is in flight at a time and reading is
 * paused meanwhile (pipelined requests wait in the kernel, not in our memory); an answer the
 * client does not read is held once, never queued behind more; a handler gets
 * `handlerTimeoutMs`; an idle connection is closed; connections are capped.
 */
import { statSync } from "node:fs";
import type { Socket, SocketHandler } from "bun";
import {
  clearStale,
  ensureDir,
  errCode,
  errText,
  listenPrivately,
  removeIfOurs,
} from "./control-file.ts";
import {
  type ControlRequest,
  type ControlResponse,
  errorReply,
  MAX_REQUEST_LINE_BYTES,
  parseRequest,
  type RequestId,
} from "./control-protocol.ts";

export { DEFAULT_CONTROL_PATH } from "./control-protocol.ts";

export interface ControlHandlers {
  status(): unknown;
  reload(): Promise<{ ok: true } | { ok: false; diagnostics: readonly unknown[] }>;
  failover(instance?: string): Promise<unknown>;
  maintenance(on: boolean): Promise<unknown>;
}

/** What the server logs through; a consola instance (log/index.ts `logger("control")`) fits. */
export interface ControlLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface ControlServerOptions {
  /** A handler that has not settled by then is answered E_TIMEOUT (it may still finish). */
  readonly handlerTimeoutMs?: number;
  readonly maxLineBytes?: number;
  readonly maxConnections?: number;
  /** A connection with nothing in flight and no traffic for this long is closed. */
  readonly idleTimeoutMs?: number;
}

export interface ControlServer {
  readonly path: string;
  stop(): Promise<void>;
}

const DEFAULTS = {
  handlerTimeoutMs: 10_000,
  maxLineBytes: MAX_REQUEST_LINE_BYTES,
  maxConnections: 64,
  idleTimeoutMs: 60_000,
} as const;

/** Per-connection state (Bun keeps it in `socket.data`). */
interface Conn {
  readonly n: number;
  /** Received bytes not yet consumed as lines. */
  input: Buffer;
  /** A request of this connection is being answered. */
  busy: boolean;
  /** The unsent tail of the last answer: the client has not read it yet. */
  out: Uint8Array | null;
  /** No further requests are read; the socket ends once `out` is flushed. */
  closing: boolean;
  closed: boolean;
  paused: boolean;
}

type Sock = Socket<Conn>;

export async function startControlServer(
  path: string,
  handlers: ControlHandlers,
  log: ControlLog,
  opts: ControlServerOptions = {},
): Promise<ControlServer> {
  const o = { ...DEFAULTS, ...opts };
  ensureDir(path);
  await clearStale(path, log);
  const conns = new Set<Sock>();
  const transport = new Transport(handlers, log, o, conns);
  const listener = listenPrivately(path, transport.socketHandler);
  const { ino } = statSync(path);
  log.info(`control socket listening on ${path}`);
  let stopped = false;
  return {
    path,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      listener.stop(true);
      for (const s of conns) s.terminate();
      conns.clear();
      removeIfOurs(path, ino);
      log.info(`control socket ${path} closed`);
    },
  };
}

/** The per-connection protocol machine; one instance serves every connection of a server. */
class Transport {
  private count = 0;
  private readonly idleS: number;
  /** Bound on unconsumed input: pausing stops reads, but chunks already received still land. */
  private readonly maxInputBytes: number;

  constructor(
    private readonly handlers: ControlHandlers,
    private readonly log: ControlLog,
    private readonly o: Required<ControlServerOptions>,
    readonly conns: Set<Sock>,
  ) {
    this.idleS = Math.max(1, Math.ceil(o.idleTimeoutMs / 1000));
    this.maxInputBytes = Math.max(1024 * 1024, 2 * o.maxLineBytes);
  }

  readonly socketHandler: SocketHandler<Conn> = {
    open: (s) => this.open(s),
    data: (s, chunk) => this.data(s, chunk),
    drain: (s) => this.drain(s),
    close: (s) => {
      s.data.closed = true;
      this.conns.delete(s);
    },
    error: (s, e) => this.log.debug(`control #${s.data?.n ?? "?"}: ${e.message}`),
    timeout: (s) => this.log.debug(`control #${s.data.n}: idle for ${this.idleS} s, closed`),
  };

  private open(s: Sock): void {
    const n = ++this.count;
    s.data = {
      n,
      input: Buffer.alloc(0),
      busy: false,
      out: null,
      closing: false,
      closed: false,
      paused: false,
    };
    s.timeout(this.idleS);
    // Refused before being counted: end() may run close() synchronously, inside open().
    const max = this.o.maxConnections;
    if (this.conns.size >= max) {
      this.log.warn(`control: more than ${max} connections, refusing #${n}`);
      this.closeAfter(s, errorReply(null, "E_BUSY", `too many control connections (max ${max})`));
      return;
    }
    this.conns.add(s);
  }

  private data(s: Sock, chunk: Buffer): void {
    const c = s.data;
    if (c.closing || c.closed) return;
    s.timeout(this.idleS);
    c.input = Buffer.concat([c.input, chunk]);
    if (c.input.length > this.maxInputBytes) {
      this.closeAfter(
        s,
        errorReply(null, "E_BUSY", "too many requests without reading the answers"),
      );
      return;
    }
    this.pump(s);
  }

  private drain(s: Sock): void {
    const c = s.data;
    if (c.out) this.write(s, c.out);
    if (c.out || c.closed) return;
    if (c.closing) s.end();
    else this.pump(s);
  }

  /** Consume complete lines, one request at a time, each after the last answer is delivered. */
  private pump(s: Sock): void {
    const c = s.data;
    const max = this.o.maxLineBytes;
    while (!c.busy && !c.out && !c.closing) {
      const nl = c.input.indexOf(0x0a);
      if (nl < 0 ? c.input.length > max : nl > max) {
        this.log.debug(`control #${c.n}: request line over ${max} bytes, closing`);
        this.closeAfter(
          s,
          errorReply(null, "E_LINE_TOO_LONG", `request line over ${max} bytes; closing`),
        );
        break;
      }
      if (nl < 0) break;
      const line = c.input.subarray(0, nl).toString("utf8").replace(/\r$/, "");
      c.input = c.input.subarray(nl + 1);
      if (line.trim() === "") continue;
      c.busy = true;
      void answer(line, this.handlers, this.log, this.o.handlerTimeoutMs).then((reply) => {
        c.busy = false;
        if (c.closed || c.closing) return;
        this.write(s, encode(reply));
        s.timeout(this.idleS);
        this.pump(s);
      });
    }
    // Back-pressure: while busy or undelivered, further requests wait in the kernel.
    if (!c.closed) this.setPaused(s, c.busy || c.out !== null);
  }

  private setPaused(s: Sock, want: boolean): void {
    if (want === s.data.paused) return;
    s.data.paused = want;
    if (want) s.pause();
    else s.resume();
  }

  private write(s: Sock, bytes: Uint8Array): void {
    const c = s.data;
    if (c.closed) return;
    const n = s.write(bytes);
    if (n < 0) return;
    c.out = n < bytes.length ? bytes.subarray(n) : null;
  }

  private closeAfter(s: Sock, reply: ControlResponse): void {
    const c = s.data;
    c.closing = true;
    c.input = Buffer.alloc(0);
    this.write(s, encode(reply));
    if (!c.out) s.end();
  }
}

function encode(reply: ControlResponse): Uint8Array {
  let text: string;
  try {
    text = JSON.stringify(reply);
  } catch (e) {
    // A handler returned something JSON cannot carry (a cycle, a BigInt).
    text = JSON.stringify(
      errorReply(reply.id, "E_INTERNAL", `the answer could not be encoded: ${errText(e)}`),
    );
  }
  return Buffer.from(`${text}\n`, "utf8");
}

/** Parse one line and run its handler under the time bound; never rejects. */
async function answer(
  line: string,
  handlers: ControlHandlers,
  log: ControlLog,
  timeoutMs: number,
): Promise<ControlResponse> {
  const p = parseRequest(line);
  if (!p.ok) return p.reply;
  const req = p.req;
  log.debug(`control: ${req.cmd} (id ${JSON.stringify(req.id)})`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<ControlResponse>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(
          errorReply(
            req.id,
            "E_TIMEOUT",
            `${req.cmd} did not finish within ${timeoutMs} ms; it may still complete`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([dispatch(handlers, req), late]);
  } catch (e) {
    return fromError(req.id, req.cmd, e, log);
  } finally {
    clearTimeout(timer);
  }
}

async function dispatch(h: ControlHandlers, req: ControlRequest): Promise<ControlResponse> {
  const ok = (result: unknown): ControlResponse => ({
    id: req.id,
    ok: true,
    result: result ?? null,
  });
  switch (req.cmd) {
    case "status":
      return ok(await h.status());
    case "reload": {
      const r = await h.reload();
      if (!r.ok)
        return errorReply(
          req.id,
          "E_RELOAD_REJECTED",
          "the new configuration was refused; the agent keeps running the previous one",
          r.diagnostics,
        );
      // A handler may report warnings of an accepted configuration; pass them on.
      const warnings = "diagnostics" in r && Array.isArray(r.diagnostics) ? r.diagnostics : [];
      return ok(warnings.length ? { reloaded: true, diagnostics: warnings } : { reloaded: true });
    }
    case "failover":
      return ok(await h.failover(req.instance));
    case "maintenance":
      return ok(await h.maintenance(req.on));
  }
}

/** A handler's typed error keeps its code (AgentError and the like); anything else is internal. */
function fromError(id: RequestId, cmd: string, e: unknown, log: ControlLog): ControlResponse {
  const code = errCode(e);
  const message = e instanceof Error ? e.message : String(e);
  if (code !== undefined && /^E_[A-Z0-9_]+$/.test(code)) return errorReply(id, code, message);
  log.warn(`control: ${cmd} failed: ${message}`);
  return errorReply(id, "E_INTERNAL", `${cmd} failed: ${message}`);
}
