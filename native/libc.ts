/**
 * Thin typed wrappers over glibc's socket calls through bun:ffi (design §6.11).
 *
 * Buffers are Uint8Arrays owned by the caller or by a long-lived object here (MsgReader,
 * MsgWriter, PollSet), so nothing a pointer inside a struct refers to can be collected
 * while a call runs, and such pointers are taken with addressOf (see there: JSC may move
 * a small typed array's bytes, which broke recvmsg's source address until fixed). errno is read from this thread's `__errno_location()` (resolved once
 * per thread: every Worker loads its own copy of this module) immediately after the
 * failing call, before any allocation; 200 000 alternating failures under forced GC,
 * on the main thread and in a Worker, never read a stale value, so no C shim is needed.
 * Every failure throws AgentError naming the call, its subject and strerror(3) text.
 */
import { dlopen, FFIType, type Pointer, ptr, read } from "bun:ffi";
import { AgentError } from "../src/errors.ts";
import * as L from "./layout.ts";

const libc = dlopen("libc.so.6", {
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  getsockopt: { args: ["i32", "i32", "i32", "ptr", "ptr"], returns: "i32" },
  sendto: { args: ["i32", "ptr", "u64", "i32", "ptr", "u32"], returns: FFIType.i64_fast },
  sendmsg: { args: ["i32", "ptr", "i32"], returns: FFIType.i64_fast },
  recvmsg: { args: ["i32", "ptr", "i32"], returns: FFIType.i64_fast },
  poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
  timerfd_create: { args: ["i32", "i32"], returns: "i32" },
  timerfd_settime: { args: ["i32", "i32", "ptr", "ptr"], returns: "i32" },
  clock_gettime: { args: ["i32", "ptr"], returns: "i32" },
  eventfd: { args: ["u32", "i32"], returns: "i32" },
  read: { args: ["i32", "ptr", "u64"], returns: FFIType.i64_fast },
  write: { args: ["i32", "ptr", "u64"], returns: FFIType.i64_fast },
  // fcntl is variadic; its int third argument is passed exactly like a fixed argument by
  // the x86-64 and AAPCS64 Linux ABIs.
  fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
  strerror: { args: ["i32"], returns: "cstring" },
  __errno_location: { args: [], returns: "ptr" },
});
const C = libc.symbols;
const ERRNO_AT = C.__errno_location() as Pointer;

/**
 * The address of `b`'s bytes, for storing inside another struct (msghdr, iovec, sock_fprog).
 * JSC keeps a small typed array's bytes inline and moves them to a separate ArrayBuffer the
 * first time anything reads `.buffer` (a DataView, say): a pointer taken before that would
 * then point at the old, dead storage. Reading `.buffer` first makes the address final.
 * (Arrays passed directly as FFI arguments are resolved at the call and need none of this.)
 */
export function addressOf(b: Uint8Array): number {
  void b.buffer;
  return ptr(b);
}

/** This thread's errno. Only meaningful right after a call that returned -1. */
export function errno(): number {
  return read.i32(ERRNO_AT, 0);
}

// biome-ignore format: a table
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 4: "EINTR", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
  14: "EFAULT", 19: "ENODEV", 22: "EINVAL", 24: "EMFILE", 90: "EMSGSIZE", 92: "ENOPROTOOPT",
  93: "EPROTONOSUPPORT", 97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL",
  100: "ENETDOWN", 101: "ENETUNREACH", 105: "ENOBUFS", 113: "EHOSTUNREACH",
};

/** The failed call as data, in AgentError.cause: callers branch on `errno`, never on text. */
export class SyscallFailure extends Error {
  override readonly name = "SyscallFailure";
  constructor(
    readonly syscall: string,
    /** Symbolic errno ("EPERM"), or "errno <n>" for one this file does not name. */
    readonly errno: string,
    readonly errnoValue: number,
  ) {
    super(`${syscall}: ${errno}`);
  }
}

/** "EPERM" for 1; "errno <n>" for a value this file does not name. */
export function errnoName(e: number): string {
  return ERRNO_NAMES[e] ?? `errno ${e}`;
}

/** strerror(3) text for an errno value. */
export function strerror(e: number): string {
  return C.strerror(e) ?? errnoName(e);
}

/** The symbolic errno behind an AgentError thrown here, if any. */
export function errnoOf(e: unknown): string | undefined {
  return e instanceof AgentError && e.cause instanceof SyscallFailure ? e.cause.errno : undefined;
}

/**
 * Throws for a failed `call`. EPERM/EACCES from creating or configuring a raw or packet
 * socket means missing CAP_NET_RAW (man 7 raw), reported as E_NOT_ROOT.
 */
export function fail(call: string, detail: string, subject: string, e: number): never {
  const name = errnoName(e);
  const privileged = (e === L.EPERM || e === L.EACCES) && /^(socket|setsockopt)/.test(call);
  const hint = privileged ? " (needs root or CAP_NET_RAW)" : "";
  throw new AgentError(
    privileged ? "E_NOT_ROOT" : "E_SOCKET",
    `${call}(${detail})${subject ? ` on ${subject}` : ""}: ${strerror(e)} [${name}]${hint}`,
    subject,
    { cause: new SyscallFailure(call, name, e) },
  );
}

export function socket(domain: number, type: number, protocol: number, subject = ""): number {
  const fd = C.socket(domain, type | L.SOCK_CLOEXEC, protocol);
  if (fd < 0) fail("socket", `${domain}, ${type}, ${protocol}`, subject, errno());
  return fd;
}

/** close(2); errors are ignored on purpose: Linux releases the fd even when close fails. */
export function close(fd: number): void {
  if (fd >= 0) C.close(fd);
}

export function bind(fd: number, sockaddr: Uint8Array, subject: string): void {
  if (C.bind(fd, sockaddr, sockaddr.length) < 0) fail("bind", `fd ${fd}`, subject, errno());
}

export function setsockoptBuf(
  fd: number,
  opt: L.SockOptName,
  value: Uint8Array,
  subject = "",
): void {
  const [level, name] = L.SOCKOPTS[opt];
  if (C.setsockopt(fd, level, name, value, value.length) < 0)
    fail(`setsockopt ${opt}`, `fd ${fd}`, subject, errno());
}

export function setsockoptInt(fd: number, opt: L.SockOptName, value: number, subject = ""): void {
  setsockoptBuf(fd, opt, L.int32(value), subject);
}

export function getsockoptInt(fd: number, opt: L.SockOptName, subject = ""): number {
  const [level, name] = L.SOCKOPTS[opt];
  const value = new Uint8Array(4);
  const len = L.int32(4);
  if (C.getsockopt(fd, level, name, value, len) < 0)
    fail(`getsockopt ${opt}`, `fd ${fd}`, subject, errno());
  return L.readInt32(value);
}

/** Buffers referenced only from inside another struct during a call. */
const held: Uint8Array[] = [];

/**
 * SO_ATTACH_FILTER with the one-instruction classic BPF program "ret #0": the socket then
 * queues nothing, which is how keepalived makes its send-only VRRP sockets deaf.
 */
export function attachDropAllFilter(fd: number, subject = ""): void {
  const insn = new Uint8Array(L.SOCK_FILTER.size); // BPF_RET|BPF_K (0x06), k = 0
  insn[L.SOCK_FILTER.code] = 0x06;
  const prog = new Uint8Array(L.SOCK_FPROG.size);
  prog[L.SOCK_FPROG.len] = 1;
  L.writePointer(prog, L.SOCK_FPROG.filter, addressOf(insn));
  held.push(insn); // referenced only through `prog`: keep it reachable across the call
  try {
    setsockoptBuf(fd, "SO_ATTACH_FILTER", prog, subject);
  } finally {
    held.pop();
  }
}

/** sendto(2); returns the bytes sent. */
export function sendto(
  fd: number,
  data: Uint8Array,
  flags: number,
  sockaddr: Uint8Array,
  subject: string,
): number {
  const n = Number(C.sendto(fd, data, data.length, flags, sockaddr, sockaddr.length));
  if (n < 0) fail("sendto", `fd ${fd}, ${data.length} bytes`, subject, errno());
  return n;
}

/** Reusable msghdr/iovec for sendmsg with a destination and control messages. */
export class MsgWriter {
  private readonly hdr = new Uint8Array(L.MSGHDR.size);
  private readonly iov = new Uint8Array(L.IOVEC.size);

  send(
    fd: number,
    data: Uint8Array,
    name: Uint8Array,
    control: Uint8Array,
    flags: number,
    subject: string,
  ): number {
    L.writePointer(this.iov, L.IOVEC.base, addressOf(data));
    L.writeSize(this.iov, L.IOVEC.len, data.length);
    L.writePointer(this.hdr, L.MSGHDR.name, addressOf(name));
    new DataView(this.hdr.buffer).setUint32(L.MSGHDR.namelen, name.length, true);
    L.writePointer(this.hdr, L.MSGHDR.iov, addressOf(this.iov));
    L.writeSize(this.hdr, L.MSGHDR.iovlen, 1);
    L.writePointer(this.hdr, L.MSGHDR.control, control.length ? addressOf(control) : 0);
    L.writeSize(this.hdr, L.MSGHDR.controllen, control.length);
    // data/name/control are the caller's arguments, so they stay reachable during the call.
    const n = Number(C.sendmsg(fd, this.hdr, flags));
    if (n < 0) fail("sendmsg", `fd ${fd}, ${data.length} bytes`, subject, errno());
    return n;
  }
}

/** One datagram from recvmsg with the ancillary data VRRP needs. */
export interface Datagram {
  /** A copy of the datagram: for IPv4 raw sockets it starts with the IP header (man 7 raw). */
  readonly bytes: Uint8Array;
  readonly src: L.SockAddr | undefined;
  /** Receiving interface, from IP_PKTINFO / IPV6_PKTINFO. */
  readonly ifindex: number | undefined;
  /** Destination address of the packet, from IP_PKTINFO / IPV6_PKTINFO. */
  readonly dst: Uint8Array | undefined;
  /** IP_TTL / IPV6_HOPLIMIT. */
  readonly ttl: number | undefined;
  /** The datagram was longer than the buffer (MSG_TRUNC) or the cmsgs did not fit. */
  readonly truncated: boolean;
}

/** Reusable buffers for recvmsg: one per receiving thread. */
export class MsgReader {
  private readonly buf: Uint8Array;
  private readonly name = new Uint8Array(L.SOCKADDR_STORAGE.size);
  private readonly control: Uint8Array;
  private readonly iov = new Uint8Array(L.IOVEC.size);
  private readonly hdr = new Uint8Array(L.MSGHDR.size);
  private readonly hv = new DataView(this.hdr.buffer);

  constructor(bufferBytes = 65536, controlBytes = 256) {
    this.buf = new Uint8Array(bufferBytes);
    this.control = new Uint8Array(controlBytes);
    L.writePointer(this.iov, L.IOVEC.base, addressOf(this.buf));
    L.writeSize(this.iov, L.IOVEC.len, bufferBytes);
    L.writePointer(this.hdr, L.MSGHDR.name, addressOf(this.name));
    L.writePointer(this.hdr, L.MSGHDR.iov, addressOf(this.iov));
    L.writeSize(this.hdr, L.MSGHDR.iovlen, 1);
    L.writePointer(this.hdr, L.MSGHDR.control, addressOf(this.control));
  }

  /** Reads one datagram without blocking; undefined when none is queued (EAGAIN). */
  recv(fd: number, subject = ""): Datagram | undefined {
    // The kernel rewrites namelen and controllen on every call: reset them each time.
    this.hv.setUint32(L.MSGHDR.namelen, this.name.length, true);
    L.writeSize(this.hdr, L.MSGHDR.controllen, this.control.length);
    const n = Number(C.recvmsg(fd, this.hdr, L.MSG_DONTWAIT | L.MSG_TRUNC));
    if (n < 0) {
      const e = errno();
      if (e === L.EAGAIN || e === L.EINTR) return undefined;
      fail("recvmsg", `fd ${fd}`, subject, e);
    }
    const flags = this.hv.getInt32(L.MSGHDR.flags, true);
    const controlLen = Number(this.hv.getBigUint64(L.MSGHDR.controllen, true));
    let ifindex: number | undefined;
    let dst: Uint8Array | undefined;
    let ttl: number | undefined;
    for (const c of L.decodeCmsgs(this.control, controlLen)) {
      if (c.level === L.IPPROTO_IP && c.type === L.IP_PKTINFO) {
        ifindex = L.readInt32(c.data, L.IN_PKTINFO.ifindex);
        dst = c.data.slice(L.IN_PKTINFO.addr, L.IN_PKTINFO.addr + 4);
      } else if (c.level === L.IPPROTO_IPV6 && c.type === L.IPV6_PKTINFO) {
        ifindex = L.readInt32(c.data, L.IN6_PKTINFO.ifindex);
        dst = c.data.slice(L.IN6_PKTINFO.addr, L.IN6_PKTINFO.addr + 16);
      } else if (
        (c.level === L.IPPROTO_IP && c.type === L.IP_TTL) ||
        (c.level === L.IPPROTO_IPV6 && c.type === L.IPV6_HOPLIMIT)
      ) {
        ttl = L.readInt32(c.data);
      }
    }
    return {
      bytes: this.buf.slice(0, Math.min(n, this.buf.length)),
      src: L.decodeSockaddr(this.name, this.hv.getUint32(L.MSGHDR.namelen, true)),
      ifindex,
      dst,
      ttl,
      truncated: n > this.buf.length || (flags & (L.MSG_TRUNC | L.MSG_CTRUNC)) !== 0,
    };
  }
}

/** A pollfd array kept alive between calls; `set` replaces the descriptors watched. */
export class PollSet {
  private buf = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  fds: readonly number[] = [];

  set(fds: readonly number[]): void {
    this.fds = [...fds];
    this.buf = new Uint8Array(fds.length * L.POLLFD.size);
    this.view = new DataView(this.buf.buffer);
    fds.forEach((fd, i) => {
      this.view.setInt32(i * L.POLLFD.size + L.POLLFD.fd, fd, true);
      this.view.setInt16(i * L.POLLFD.size + L.POLLFD.events, L.POLLIN, true);
    });
  }

  /** poll(2) for POLLIN; -1 waits forever. Returns the ready count (0 on timeout or EINTR). */
  wait(timeoutMs: number): number {
    const n = C.poll(this.buf, this.fds.length, timeoutMs);
    if (n < 0) {
      const e = errno();
      if (e === L.EINTR) return 0;
      fail("poll", `${this.fds.length} fds`, "", e);
    }
    return n;
  }

  revents(i: number): number {
    return this.view.getInt16(i * L.POLLFD.size + L.POLLFD.revents, true);
  }
}

const CLOCK_MONOTONIC = 1;
const clockBuf = new BigInt64Array(2);
const TFD_NONBLOCK = 0o4000;
const TFD_CLOEXEC = 0o2000000;
const TFD_TIMER_ABSTIME = 1;

/**
 * A CLOCK_MONOTONIC timerfd (timerfd_create(2)): the agent's timer. Unlike a poll() timeout,
 * whose slack Linux sets to 0.1 % of the timeout (3.6 ms on a 3.6 s Master_Down), a timerfd
 * only gets the thread's timer slack (50 µs) — keepalived times its events this way too.
 */
export function timerfd(): number {
  const fd = C.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) fail("timerfd_create", "CLOCK_MONOTONIC", "", errno());
  return fd;
}

/** Arm `fd` to expire once at the absolute CLOCK_MONOTONIC time `atMs`; undefined disarms. */
export function timerfdSet(fd: number, atMs: number | undefined): void {
  const spec = new BigInt64Array(4); // it_interval {0, 0}, it_value {sec, nsec}
  if (atMs !== undefined) {
    // 0 would disarm: an already-past deadline becomes 1 ns, which expires at once.
    const ns = Math.max(1, Math.round(atMs * 1e6));
    spec[2] = BigInt(Math.floor(ns / 1e9));
    spec[3] = BigInt(ns % 1e9);
  }
  if (C.timerfd_settime(fd, atMs === undefined ? 0 : TFD_TIMER_ABSTIME, spec, null) < 0)
    fail("timerfd_settime", `fd ${fd}`, "", errno());
}

/**
 * CLOCK_MONOTONIC in milliseconds (fractional): one clock for every thread, so a receive
 * timestamp taken in the Worker and a deadline on the main thread compare directly.
 */
export function monotonicMs(): number {
  C.clock_gettime(CLOCK_MONOTONIC, clockBuf);
  return Number(clockBuf[0]) * 1000 + Number(clockBuf[1]) / 1e6;
}

/** An eventfd for waking a thread blocked in poll (eventfd(2)); non-blocking, close-on-exec. */
export function eventfd(): number {
  const fd = C.eventfd(0, L.EFD_NONBLOCK | L.EFD_CLOEXEC);
  if (fd < 0) fail("eventfd", "0, EFD_NONBLOCK|EFD_CLOEXEC", "", errno());
  return fd;
}

/** Adds `n` to an eventfd counter. */
export function eventfdWrite(fd: number, n = 1): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  if (Number(C.write(fd, b, 8)) !== 8) fail("write", `eventfd ${fd}`, "", errno());
}

/** Reads and resets an eventfd counter; 0 when it was already zero (EAGAIN). */
export function eventfdRead(fd: number): number {
  const b = new Uint8Array(8);
  const n = Number(C.read(fd, b, 8));
  if (n < 0) {
    const e = errno();
    if (e === L.EAGAIN || e === L.EINTR) return 0;
    fail("read", `eventfd ${fd}`, "", e);
  }
  return Number(new DataView(b.buffer).getBigUint64(0, true));
}

/** read(2) into `buf`; undefined on EAGAIN. */
export function readFd(fd: number, buf: Uint8Array): number | undefined {
  const n = Number(C.read(fd, buf, buf.length));
  if (n < 0) {
    const e = errno();
    if (e === L.EAGAIN) return undefined;
    fail("read", `fd ${fd}`, "", e);
  }
  return n;
}

export function writeFd(fd: number, buf: Uint8Array): number {
  const n = Number(C.write(fd, buf, buf.length));
  if (n < 0) fail("write", `fd ${fd}`, "", errno());
  return n;
}

/** fcntl(F_SETFL, flags | O_NONBLOCK). */
export function setNonBlocking(fd: number): void {
  const flags = C.fcntl(fd, L.F_GETFL, 0);
  if (flags < 0) fail("fcntl", `fd ${fd}, F_GETFL`, "", errno());
  if (C.fcntl(fd, L.F_SETFL, flags | L.O_NONBLOCK) < 0)
    fail("fcntl", `fd ${fd}, F_SETFL O_NONBLOCK`, "", errno());
}
