/**
 * The kernel's process-event connector (drivers/connector/cn_proc.c; uapi linux/connector.h,
 * linux/cn_proc.h): a NETLINK_CONNECTOR datagram socket bound to the CN_IDX_PROC group, a
 * PROC_CN_MCAST_LISTEN request, then one proc_event per fork, exec, comm change and exit
 * anywhere on the machine. keepalived's track_process uses the same socket
 * (keepalived/core/track_process.c nl_connect, set_proc_ev_listen, handle_proc_ev).
 *
 * Where it is not available, and how each case shows up (checked on Linux 6.18):
 * - not the initial network namespace (`ip netns exec`): the connector's kernel socket only
 *   exists in init_net, so socket() and bind() succeed but sending the request fails with
 *   ECONNREFUSED;
 * - kernel without CONFIG_CONNECTOR: socket() fails with EPROTONOSUPPORT;
 * - without CAP_NET_ADMIN: the kernel acknowledges the request with err EPERM;
 * - kernel without CONFIG_PROC_EVENTS, or a process outside the initial PID or user
 *   namespace: the request is silently dropped, so no acknowledgement comes (ETIMEDOUT here,
 *   keepalived's proc_events_ack_timer_thread warns after 100 ms the same way).
 * Every failure is an AgentError E_SOCKET whose cause is a SyscallFailure naming the errno.
 *
 * Struct layouts and decoding are in native/cn-proc.ts (re-exported here). Opening waits for
 * the acknowledgement in poll(): call it from a Worker, never from the event loop.
 */
import { dlopen, FFIType } from "bun:ffi";
import { AgentError } from "../src/errors.ts";
import {
  AF_NETLINK,
  CN_IDX_PROC,
  decodeEvent,
  encodeMcastOp,
  forEachProcEvent,
  MMSGHDR,
  NETLINK_CONNECTOR,
  PROC_CN_MCAST_IGNORE,
  PROC_CN_MCAST_LISTEN,
  type ProcEvent,
  SOCKADDR_NL,
  sockaddrNl,
} from "./cn-proc.ts";
import { IOVEC, MSGHDR, writePointer, writeSize } from "./layout.ts";
import {
  addressOf,
  close,
  errno,
  errnoName,
  PollSet,
  SyscallFailure,
  socket,
  strerror,
} from "./libc.ts";

export * from "./cn-proc.ts";

const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const MSG_DONTWAIT = 0x40;

/** errno values branched on here (asm-generic/errno.h). */
export const EINTR = 4;
export const EAGAIN = 11;
export const ENOBUFS = 105;
export const ECONNREFUSED = 111;
export const ETIMEDOUT = 110;
export const EPROTONOSUPPORT = 93;
export const EPERM = 1;
const NAMES: Record<number, string> = { 110: "ETIMEDOUT", 111: "ECONNREFUSED" };
const nameOf = (e: number): string => NAMES[e] ?? errnoName(e);

// Own symbols: SO_RCVBUFFORCE is not among libc.ts's named options, and recvmmsg (a batch
// of datagrams per call, each with its sender: only the kernel, nl_pid 0, may send).
const sys = dlopen("libc.so.6", {
  bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  getsockopt: { args: ["i32", "i32", "i32", "ptr", "ptr"], returns: "i32" },
  sendto: { args: ["i32", "ptr", "u64", "i32", "ptr", "u32"], returns: FFIType.i64_fast },
  recvmmsg: { args: ["i32", "ptr", "u32", "i32", "ptr"], returns: "i32" },
}).symbols;

/** AgentError E_SOCKET for a failed call (or a refused request), errno named in the cause. */
export function connectorError(call: string, e: number, hint = ""): AgentError {
  const name = nameOf(e);
  return new AgentError(
    "E_SOCKET",
    `proc connector: ${call}: ${strerror(e)} [${name}]${hint ? ` (${hint})` : ""}`,
    "proc connector",
    { cause: new SyscallFailure(call, name, e) },
  );
}

/** Why the connector is unavailable, for the log line that announces the fallback. */
export function connectorHint(errnoName: string | undefined): string {
  switch (errnoName) {
    case "ECONNREFUSED":
      return "not in the initial network namespace";
    case "EPROTONOSUPPORT":
      return "kernel built without CONFIG_CONNECTOR";
    case "EPERM":
      return "needs CAP_NET_ADMIN";
    case "ETIMEDOUT":
      return "no acknowledgement: CONFIG_PROC_EVENTS off, or not in the initial PID/user namespace";
    default:
      return "";
  }
}

export interface ProcConnectorOptions {
  /** global_defs process_monitor_rcv_bufs: SO_RCVBUF in bytes (kernel default if unset). */
  readonly rcvbufBytes?: number;
  /** process_monitor_rcv_bufs_force: SO_RCVBUFFORCE, past net.core.rmem_max (root). */
  readonly rcvbufForce?: boolean;
  /** How long to wait for the kernel to acknowledge the listen request. */
  readonly ackTimeoutMs?: number;
}

/** What one drain of the socket gave. */
export interface Drained {
  readonly events: ProcEvent[];
  /** The socket overflowed (ENOBUFS): events were lost, the process table must be re-read. */
  readonly overrun: boolean;
}

/** keepalived waits 100 ms before warning; a loaded machine may take longer to answer. */
const ACK_TIMEOUT_MS = 1000;
/** One proc_event datagram is 76 bytes; room for anything a future kernel appends. */
const SLOT_BYTES = 256;
/** Datagrams per recvmmsg call: the syscall, not the decoding, is the cost per event. */
const BATCH = 64;

/** recvmmsg's vectors: BATCH slots, each with its iovec, sender address and a view. */
class Mmsg {
  readonly data = new Uint8Array(BATCH * SLOT_BYTES);
  readonly names = new Uint8Array(BATCH * SOCKADDR_NL.size);
  readonly iovs = new Uint8Array(BATCH * IOVEC.size);
  readonly hdrs = new Uint8Array(BATCH * MMSGHDR.size);
  readonly hv = new DataView(this.hdrs.buffer);
  readonly nv = new DataView(this.names.buffer);
  readonly slots: DataView[] = [];

  constructor() {
    const data = addressOf(this.data);
    const names = addressOf(this.names);
    const iovs = addressOf(this.iovs);
    for (let i = 0; i < BATCH; i++) {
      writePointer(this.iovs, i * IOVEC.size + IOVEC.base, data + i * SLOT_BYTES);
      writeSize(this.iovs, i * IOVEC.size + IOVEC.len, SLOT_BYTES);
      const h = i * MMSGHDR.size + MMSGHDR.hdr;
      writePointer(this.hdrs, h + MSGHDR.name, names + i * SOCKADDR_NL.size);
      writePointer(this.hdrs, h + MSGHDR.iov, iovs + i * IOVEC.size);
      writeSize(this.hdrs, h + MSGHDR.iovlen, 1);
      this.slots.push(new DataView(this.data.buffer, i * SLOT_BYTES, SLOT_BYTES));
    }
  }

  /** The kernel rewrites each namelen: reset them before every call. */
  reset(): void {
    for (let i = 0; i < BATCH; i++)
      this.hv.setUint32(i * MMSGHDR.size + MMSGHDR.hdr + MSGHDR.namelen, SOCKADDR_NL.size, true);
  }

  length(i: number): number {
    return Math.min(this.hv.getUint32(i * MMSGHDR.size + MMSGHDR.len, true), SLOT_BYTES);
  }

  senderPid(i: number): number {
    return this.nv.getUint32(i * SOCKADDR_NL.size + SOCKADDR_NL.pid, true);
  }
}
let nonce = 0;

/** A listening proc connector socket (non-blocking). */
export class ProcConnector {
  private readonly mm = new Mmsg();
  private closed = false;

  private constructor(readonly fd: number) {}

  /** socket, bind, SO_RCVBUF, LISTEN, then blocks up to ackTimeoutMs for the kernel's ack. */
  static open(opts: ProcConnectorOptions = {}): ProcConnector {
    let fd: number;
    try {
      fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK, NETLINK_CONNECTOR, "proc connector");
    } catch (e) {
      const cause = e instanceof AgentError ? e.cause : undefined;
      if (cause instanceof SyscallFailure) throw connectorError("socket", cause.errnoValue);
      throw e;
    }
    const pc = new ProcConnector(fd);
    try {
      const addr = sockaddrNl(CN_IDX_PROC);
      if (sys.bind(fd, addr, addr.length) < 0) throw connectorError("bind", errno());
      if (opts.rcvbufBytes) pc.setRcvbuf(opts.rcvbufBytes, opts.rcvbufForce ?? false);
      pc.awaitAck(opts.ackTimeoutMs ?? ACK_TIMEOUT_MS);
    } catch (e) {
      close(fd);
      throw e;
    }
    return pc;
  }

  private send(op: number, seq: number, ack: number): void {
    const msg = encodeMcastOp(op, seq, ack);
    const to = sockaddrNl(0);
    const n = Number(sys.sendto(this.fd, msg, msg.length, 0, to, to.length));
    if (n < 0) {
      const e = errno();
      throw connectorError(
        op === PROC_CN_MCAST_LISTEN ? "send PROC_CN_MCAST_LISTEN" : "send PROC_CN_MCAST_IGNORE",
        e,
        connectorHint(nameOf(e)),
      );
    }
  }

  /**
   * Sends LISTEN and waits for its ack: the kernel answers every listener's request on the
   * multicast group, with cn_msg.ack = the request's ack + 1 (cn_proc.c cn_proc_ack), so a
   * per-request nonce there tells ours from another process's.
   */
  private awaitAck(timeoutMs: number): void {
    nonce = (nonce + 1) >>> 0;
    const seq = nonce;
    const ack = ((Math.trunc(performance.now() * 1000) ^ (process.pid << 8)) + seq) & 0x3fffffff;
    this.send(PROC_CN_MCAST_LISTEN, seq, ack);
    const poll = new PollSet();
    poll.set([this.fd]);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0 || poll.wait(Math.ceil(left)) === 0) {
        if (performance.now() < deadline) continue; // EINTR
        throw connectorError("PROC_CN_MCAST_LISTEN", ETIMEDOUT, connectorHint("ETIMEDOUT"));
      }
      const { events } = this.drain();
      const mine = events.find((e) => e.kind === "ack" && e.ack === ack + 1);
      if (mine?.kind === "ack") {
        if (mine.err !== 0)
          throw connectorError("PROC_CN_MCAST_LISTEN", mine.err, connectorHint(nameOf(mine.err)));
        return;
      }
    }
  }

  /** SO_RCVBUF (or SO_RCVBUFFORCE); the kernel doubles the value for bookkeeping. */
  setRcvbuf(bytes: number, force: boolean): void {
    const v = new Int32Array([Math.min(bytes, 0x7fffffff)]);
    if (sys.setsockopt(this.fd, SOL_SOCKET, force ? SO_RCVBUFFORCE : SO_RCVBUF, v, 4) < 0)
      throw connectorError(force ? "setsockopt SO_RCVBUFFORCE" : "setsockopt SO_RCVBUF", errno());
  }

  /** SO_RCVBUF as the kernel reports it (twice what was asked). */
  rcvbuf(): number {
    const v = new Int32Array(1);
    const len = new Uint32Array([4]);
    if (sys.getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, v, len) < 0)
      throw connectorError("getsockopt SO_RCVBUF", errno());
    return v[0] ?? 0;
  }

  /** Reads every queued datagram without blocking, as records. */
  drain(): Drained {
    const events: ProcEvent[] = [];
    const overrun = this.receive((v, n) => {
      forEachProcEvent(v, n, (what, cn, data) => {
        events.push(decodeEvent(v, what, cn, data));
      });
    });
    return { events, overrun };
  }

  /**
   * Reads every queued datagram without blocking and hands each to `onDatagram` (a view of
   * this connector's buffer, valid only during the call). Returns true when the socket
   * overflowed (ENOBUFS) meanwhile: events were lost.
   */
  receive(onDatagram: (v: DataView, n: number) => void): boolean {
    const mm = this.mm;
    let overrun = false;
    for (;;) {
      mm.reset();
      const got = sys.recvmmsg(this.fd, mm.hdrs, BATCH, MSG_DONTWAIT, null);
      if (got < 0) {
        const e = errno();
        if (e === EAGAIN) return overrun;
        if (e === EINTR) continue;
        if (e === ENOBUFS) {
          overrun = true;
          continue;
        }
        throw connectorError("recvmmsg", e);
      }
      for (let i = 0; i < got; i++) {
        // Only the kernel (port id 0) speaks for the proc connector.
        if (mm.senderPid(i) === 0) onDatagram(mm.slots[i] as DataView, mm.length(i));
      }
      // A short batch emptied the queue; anything newer wakes poll() again.
      if (got < BATCH) return overrun;
    }
  }

  /** PROC_CN_MCAST_IGNORE (so the kernel stops counting us as a listener), then close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.send(PROC_CN_MCAST_IGNORE, 0, 0);
    } catch {
      // closing anyway: best effort, as keepalived's end_process_monitor
    }
    close(this.fd);
  }
}
