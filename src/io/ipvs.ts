/**
 * The kernel's IPVS table over generic netlink: one socket, synchronous request/ACK
 * exchanges. The bytes are built and decoded by src/core/ipvs/genl-msg.ts; the socket is
 * native/libnl-genl.ts. Semantics follow keepalived/check/libipvs.c: family "IPVS" version 1,
 * every request asks for an ACK, dumps end at NLMSG_DONE, and a missing family is retried
 * once after `modprobe ip_vs` (keepalived/check/ipvswrapper.c loads the module the same way).
 */
import { GenlError, GenlSocket, kernelError } from "../../native/libnl-genl.ts";
import {
  type DecodedDest,
  type DecodedService,
  decodeConfig,
  decodeDest,
  decodeDestWithStats,
  decodeInfo,
  decodeService,
  decodeServiceWithStats,
  encodeRequest,
  IPVS_GENL_NAME,
  type IpvsRequest,
  NlDecodeError,
  req,
} from "../core/ipvs/genl-msg.ts";
import { splitMessages } from "../core/ipvs/nlattr.ts";
import type {
  IpvsDaemon,
  IpvsDest,
  IpvsInfo,
  IpvsService,
  IpvsTimeouts,
  ServiceKey,
} from "../core/ipvs/types.ts";

export type IpvsErrorCode =
  /** The kernel has no IPVS (CONFIG_IP_VS unset, or the module cannot be loaded). */
  | "E_NO_IPVS"
  /** The kernel refused a request; `errnoName` says why ("EEXIST", "ESRCH", ...). */
  | "E_IPVS_KERNEL"
  /** A reply did not decode; `where` in the cause names the attribute. */
  | "E_IPVS_DECODE"
  | "E_IPVS_TIMEOUT"
  | "E_IPVS_SOCKET";

export class IpvsError extends Error {
  override readonly name = "IpvsError";
  constructor(
    readonly code: IpvsErrorCode,
    message: string,
    readonly errno?: number,
    readonly errnoName?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const NO_IPVS_MESSAGE =
  "this kernel has no IPVS (CONFIG_IP_VS): load ip_vs or use a kernel with it";

export interface IpvsOptions {
  /** Bound on each exchange (request to ACK or DONE). */
  readonly timeoutMs?: number;
  /** Run `modprobe ip_vs` once when the family is missing (default true). */
  readonly modprobe?: boolean;
}

function fromGenl(e: unknown, what: string): IpvsError {
  if (e instanceof IpvsError) return e;
  if (e instanceof NlDecodeError)
    return new IpvsError(
      "E_IPVS_DECODE",
      `${what}: malformed reply: ${e.message}`,
      undefined,
      undefined,
      {
        cause: e,
      },
    );
  if (e instanceof GenlError) {
    const code =
      e.code === "E_GENL_KERNEL"
        ? "E_IPVS_KERNEL"
        : e.code === "E_GENL_TIMEOUT"
          ? "E_IPVS_TIMEOUT"
          : "E_IPVS_SOCKET";
    return new IpvsError(code, `${what}: ${e.message}`, e.errno, e.errnoName, { cause: e });
  }
  throw e;
}

function resolveFamily(sock: GenlSocket, modprobe: boolean): number {
  try {
    return sock.resolve(IPVS_GENL_NAME);
  } catch (e) {
    if (!(e instanceof GenlError) || e.code !== "E_NO_GENL_FAMILY")
      throw fromGenl(e, "resolve IPVS");
  }
  const mp = modprobe ? Bun.which("modprobe") : null;
  if (mp) {
    Bun.spawnSync([mp, "-q", "ip_vs"], { stdout: "ignore", stderr: "ignore" });
    try {
      return sock.resolve(IPVS_GENL_NAME);
    } catch (e) {
      if (!(e instanceof GenlError) || e.code !== "E_NO_GENL_FAMILY")
        throw fromGenl(e, "resolve IPVS");
    }
  }
  throw new IpvsError("E_NO_IPVS", NO_IPVS_MESSAGE);
}

/** One table command, as batch() takes them. */
export type IpvsCommand =
  | {
      readonly op: "addService" | "editService" | "delService";
      readonly service: IpvsService;
    }
  | {
      readonly op: "addDest" | "editDest" | "delDest";
      readonly service: IpvsService;
      readonly dest: IpvsDest;
    };

function commandRequest(c: IpvsCommand): { req: IpvsRequest; what: string } {
  switch (c.op) {
    case "addService":
      return { req: req.newService(c.service), what: "NEW_SERVICE" };
    case "editService":
      return { req: req.setService(c.service), what: "SET_SERVICE" };
    case "delService":
      return { req: req.delService(c.service), what: "DEL_SERVICE" };
    case "addDest":
      return { req: req.newDest(c.service, c.dest), what: "NEW_DEST" };
    case "editDest":
      return { req: req.setDest(c.service, c.dest), what: "SET_DEST" };
    case "delDest":
      return { req: req.delDest(c.service, c.dest), what: "DEL_DEST" };
  }
}

/** Commands per datagram in batch(): a datagram of small requests, and as many acks queued. */
export const BATCH_MESSAGES = 64;

export class Ipvs {
  readonly #sock: GenlSocket;
  readonly #family: number;
  readonly #timeoutMs: number;
  readonly #buf = new Uint8Array(256 * 1024);
  #seq: number;

  private constructor(sock: GenlSocket, family: number, timeoutMs: number) {
    this.#sock = sock;
    this.#family = family;
    this.#timeoutMs = timeoutMs;
    this.#seq = sock.localPort & 0xffff;
  }

  /** Opens the socket and resolves the family; IpvsError E_NO_IPVS when the kernel lacks it. */
  static open(opts: IpvsOptions = {}): Ipvs {
    let sock: GenlSocket;
    try {
      sock = GenlSocket.open();
    } catch (e) {
      throw fromGenl(e, "open generic netlink socket");
    }
    try {
      return new Ipvs(sock, resolveFamily(sock, opts.modprobe ?? true), opts.timeoutMs ?? 5000);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  get familyId(): number {
    return this.#family;
  }

  /** Sends `r` and collects the genl payloads up to its ACK (or DONE for a dump). */
  #exchange(r: IpvsRequest, what: string): Uint8Array[] {
    try {
      this.#seq = (this.#seq + 1) >>> 0;
      const seq = this.#seq;
      this.#sock.send(encodeRequest(r, this.#family, seq));
      const deadline = performance.now() + this.#timeoutMs;
      const out: Uint8Array[] = [];
      for (;;) {
        for (const m of splitMessages(this.#sock.receive(this.#buf, deadline))) {
          if (m.seq !== seq) continue; // a late reply to an earlier, timed-out request
          if (m.kind === "error") throw kernelError(what, m.errno, m.extack);
          if (m.kind === "done" || (m.kind === "ack" && !r.dump)) return out;
          if (m.kind === "genl") out.push(m.attrs.slice());
        }
      }
    } catch (e) {
      throw fromGenl(e, what);
    }
  }

  #decode<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw fromGenl(e, what);
    }
  }

  info(): IpvsInfo {
    const [p] = this.#exchange(req.getInfo(), "GET_INFO");
    if (!p) throw new IpvsError("E_IPVS_DECODE", "GET_INFO: no reply message");
    return this.#decode("GET_INFO", () => decodeInfo(p));
  }

  services(): IpvsService[] {
    const ps = this.#exchange(req.dumpServices(), "GET_SERVICE");
    return this.#decode("GET_SERVICE", () => ps.map(decodeService));
  }

  dests(svc: ServiceKey): DecodedDest[] {
    const ps = this.#exchange(req.dumpDests(svc), "GET_DEST");
    return this.#decode("GET_DEST", () => ps.map((p) => decodeDest(p, svc.af)));
  }

  /** services() with each service's traffic counters (`stats`); see src/io/ipvs-counters.ts. */
  servicesWithStats(): DecodedService[] {
    const ps = this.#exchange(req.dumpServices(), "GET_SERVICE");
    return this.#decode("GET_SERVICE", () => ps.map((p) => decodeServiceWithStats(p)));
  }

  /** dests() with each destination's traffic counters (`stats`). */
  destsWithStats(svc: ServiceKey): DecodedDest[] {
    const ps = this.#exchange(req.dumpDests(svc), "GET_DEST");
    return this.#decode("GET_DEST", () => ps.map((p) => decodeDestWithStats(p, svc.af)));
  }

  /**
   * Several commands, sent BATCH_MESSAGES to a datagram (the kernel runs each message of a
   * datagram in turn and acks each; netlink_rcv_skb goes on after an error), so 10,000
   * destinations cost a few hundred sends instead of 10,000. Returns how many commands, in
   * order, succeeded before the first refusal, and that refusal; commands after a refusal in
   * the same datagram may have been applied too, so the caller must re-read the table then.
   */
  batch(cmds: readonly IpvsCommand[]): { readonly done: number; readonly error?: IpvsError } {
    const items = cmds.map(commandRequest);
    for (let at = 0; at < items.length; at += BATCH_MESSAGES) {
      const chunk = items.slice(at, at + BATCH_MESSAGES);
      const failed = this.#exchangeMany(chunk);
      if (failed) return { done: at + failed.index, error: failed.error };
    }
    return { done: items.length };
  }

  #exchangeMany(
    chunk: readonly { readonly req: IpvsRequest; readonly what: string }[],
  ): { index: number; error: IpvsError } | undefined {
    const first = (this.#seq + 1) >>> 0;
    const parts = chunk.map((c) => {
      this.#seq = (this.#seq + 1) >>> 0;
      return encodeRequest(c.req, this.#family, this.#seq);
    });
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      bytes.set(p, off);
      off += p.length;
    }
    let failed: { index: number; error: IpvsError } | undefined;
    try {
      this.#sock.send(bytes);
      const deadline = performance.now() + this.#timeoutMs;
      let pending = chunk.length;
      while (pending > 0) {
        for (const m of splitMessages(this.#sock.receive(this.#buf, deadline))) {
          const index = (m.seq - first) >>> 0;
          if (index >= chunk.length || (m.kind !== "ack" && m.kind !== "error")) continue;
          pending--;
          if (m.kind === "error" && (failed === undefined || index < failed.index)) {
            const what = chunk[index]?.what ?? "IPVS";
            failed = { index, error: fromGenl(kernelError(what, m.errno, m.extack), what) };
          }
        }
      }
    } catch (e) {
      return { index: 0, error: fromGenl(e, chunk[0]?.what ?? "IPVS") };
    }
    return failed;
  }

  addService(s: IpvsService): void {
    this.#exchange(req.newService(s), "NEW_SERVICE");
  }
  editService(s: IpvsService): void {
    this.#exchange(req.setService(s), "SET_SERVICE");
  }
  delService(s: IpvsService): void {
    this.#exchange(req.delService(s), "DEL_SERVICE");
  }
  addDest(s: IpvsService, d: IpvsDest): void {
    this.#exchange(req.newDest(s, d), "NEW_DEST");
  }
  editDest(s: IpvsService, d: IpvsDest): void {
    this.#exchange(req.setDest(s, d), "SET_DEST");
  }
  delDest(s: IpvsService, d: IpvsDest): void {
    this.#exchange(req.delDest(s, d), "DEL_DEST");
  }
  flush(): void {
    this.#exchange(req.flush(), "FLUSH");
  }
  getTimeouts(): IpvsTimeouts {
    const [p] = this.#exchange(req.getConfig(), "GET_CONFIG");
    if (!p) throw new IpvsError("E_IPVS_DECODE", "GET_CONFIG: no reply message");
    return this.#decode("GET_CONFIG", () => decodeConfig(p));
  }
  /** 0 in a field leaves that timeout unchanged. */
  setTimeouts(t: IpvsTimeouts): void {
    this.#exchange(req.setConfig(t), "SET_CONFIG");
  }
  startDaemon(d: IpvsDaemon): void {
    this.#exchange(req.newDaemon(d), "NEW_DAEMON");
  }
  stopDaemon(state: "master" | "backup", syncId: number): void {
    this.#exchange(req.delDaemon(state, syncId), "DEL_DAEMON");
  }

  close(): void {
    this.#sock.close();
  }
}
