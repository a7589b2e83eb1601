/**
 * AF_UNIX SOCK_DGRAM sockets through bun:ffi: what sd_notify(3) needs to talk to systemd's
 * notification socket, and the receiving end the tests bind in its place.
 *
 * Addresses are written as $NOTIFY_SOCKET writes them (sd_notify(3), "ENVIRONMENT"): an
 * absolute file-system path, or "@name" for a Linux abstract-namespace socket, whose first
 * sun_path byte is NUL instead of '@' (man 7 unix, "Abstract sockets"). The address length
 * passed to the kernel follows libsystemd's sockaddr_un_set_path(): a path counts its
 * terminating NUL, an abstract name does not (for an abstract socket every byte up to the
 * length is part of the name, so one stray NUL would name another socket).
 *
 * Failures throw AgentError("E_SOCKET") with the call, the address and strerror(3) text, and
 * the symbolic errno in a SyscallFailure cause, as native/libc.ts does.
 */
import { dlopen, FFIType } from "bun:ffi";
import { AgentError } from "../src/errors.ts";
import * as L from "./layout.ts";
import {
  addressOf,
  bind,
  close,
  errno,
  errnoName,
  SyscallFailure,
  socket,
  strerror,
} from "./libc.ts";

// libc.ts has these three too, but behind a table of IP options (no SO_PASSCRED), a reader
// that keeps only IP ancillary data, and a sendto that names few AF_UNIX errnos: declared
// again here so this file reports ECONNREFUSED and ENOENT by name.
const C = dlopen("libc.so.6", {
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  recvmsg: { args: ["i32", "ptr", "i32"], returns: FFIType.i64_fast },
  sendto: { args: ["i32", "ptr", "u64", "i32", "ptr", "u32"], returns: FFIType.i64_fast },
}).symbols;

export const AF_UNIX = 1;
/** man 7 socket: pass the sender's credentials as SCM_CREDENTIALS (systemd sets it). */
export const SO_PASSCRED = 16;
export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;
/** send(2): never raise SIGPIPE; never block (a full queue is an error, EAGAIN). */
export const MSG_NOSIGNAL = 0x4000;

/** struct sockaddr_un (<sys/un.h>): sa_family_t, then char sun_path[108]. */
export const SOCKADDR_UN = { size: 110, family: 0, path: 2 } as const;
export const SUN_PATH_BYTES = 108;
/** struct ucred (<sys/socket.h>, _GNU_SOURCE): pid_t pid; uid_t uid; gid_t gid. */
export const UCRED = { size: 12, pid: 0, uid: 4, gid: 8 } as const;

// Checked at load like layout.ts's structs: sun_path fills the struct after the family, and
// the three ucred ints fit it.
if (SOCKADDR_UN.path !== 2 || SOCKADDR_UN.path + SUN_PATH_BYTES !== SOCKADDR_UN.size)
  throw new Error("native/unix-dgram: sockaddr_un.sun_path must span bytes 2..110");
if (UCRED.gid + 4 !== UCRED.size || UCRED.uid !== UCRED.pid + 4)
  throw new Error("native/unix-dgram: struct ucred is three 4-byte ints");

// biome-ignore format: a table
const UNIX_ERRNOS: Record<number, string> = {
  2: "ENOENT", 20: "ENOTDIR", 32: "EPIPE", 36: "ENAMETOOLONG", 91: "EPROTOTYPE",
  107: "ENOTCONN", 111: "ECONNREFUSED",
};

function failUnix(call: string, detail: string, address: string, e: number): never {
  const name = UNIX_ERRNOS[e] ?? errnoName(e);
  throw new AgentError(
    "E_SOCKET",
    `${call}(${detail}) to ${address}: ${strerror(e)} [${name}]`,
    address,
    { cause: new SyscallFailure(call, name, e) },
  );
}

/**
 * The struct sockaddr_un for `address` ("/path" or "@abstract"), exactly as long as the
 * address length to pass (so `bind` and `sendto`, which pass `.length`, get it right).
 * Throws for anything else, as sd_notify refuses a relative path or an over-long one.
 */
export function sockaddrUn(address: string): Uint8Array {
  const abstract = address.startsWith("@");
  if (!abstract && !address.startsWith("/"))
    throw new AgentError(
      "E_SOCKET",
      `AF_UNIX address "${address}" is neither an absolute path nor an @abstract name`,
      address,
    );
  const name = new TextEncoder().encode(address);
  if (name.includes(0))
    throw new AgentError("E_SOCKET", "AF_UNIX address contains a NUL byte", address);
  // A path needs room for its NUL; an abstract name's '@' becomes the leading NUL.
  const pathBytes = abstract ? name.length : name.length + 1;
  if (pathBytes > SUN_PATH_BYTES)
    throw new AgentError(
      "E_SOCKET",
      `AF_UNIX address "${address}" does not fit sun_path (${SUN_PATH_BYTES} bytes${abstract ? "" : " with its NUL"})`,
      address,
    );
  if (abstract && name.length < 2)
    throw new AgentError("E_SOCKET", 'AF_UNIX abstract address "@" has no name', address);
  const b = new Uint8Array(SOCKADDR_UN.path + pathBytes);
  new DataView(b.buffer).setUint16(SOCKADDR_UN.family, AF_UNIX, true);
  b.set(name, SOCKADDR_UN.path);
  if (abstract) b[SOCKADDR_UN.path] = 0;
  return b;
}

/** A close-on-exec AF_UNIX datagram socket. */
export function unixDgramSocket(subject = ""): number {
  return socket(AF_UNIX, L.SOCK_DGRAM, 0, subject);
}

/** bind(2) to a sockaddrUn() address. */
export function bindUnix(fd: number, sockaddr: Uint8Array, address: string): void {
  bind(fd, sockaddr, address);
}

/**
 * Sends one datagram to `sockaddr` without blocking and without SIGPIPE; returns the bytes
 * sent. A receiver whose queue is full gives EAGAIN, which throws like any other failure:
 * the caller decides whether a lost datagram matters.
 */
export function sendDgram(
  fd: number,
  data: Uint8Array,
  sockaddr: Uint8Array,
  address: string,
): number {
  const flags = L.MSG_DONTWAIT | MSG_NOSIGNAL;
  const n = Number(C.sendto(fd, data, data.length, flags, sockaddr, sockaddr.length));
  if (n < 0) {
    const e = errno(); // before anything else can run
    failUnix("sendto", `fd ${fd}, ${data.length} bytes`, address, e);
  }
  return n;
}

/** SO_PASSCRED: each datagram read with UnixDgramReader then carries its sender's pid/uid/gid. */
export function passCredentials(fd: number, address = ""): void {
  if (C.setsockopt(fd, L.SOL_SOCKET, SO_PASSCRED, L.int32(1), 4) < 0) {
    const e = errno();
    failUnix("setsockopt", `fd ${fd}, SO_PASSCRED`, address, e);
  }
}

/** One datagram read from an AF_UNIX socket. */
export interface UnixDatagram {
  readonly bytes: Uint8Array;
  /** The sender's credentials, when SO_PASSCRED is on (the kernel fills them in). */
  readonly pid: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  /** Descriptors passed along (SCM_RIGHTS), already closed: nothing here keeps them. */
  readonly fdsClosed: number;
  /** Longer than the buffer (MSG_TRUNC) or the ancillary data did not fit (MSG_CTRUNC). */
  readonly truncated: boolean;
}

/** Reusable recvmsg buffers for one receiving socket. */
export class UnixDgramReader {
  private readonly buf: Uint8Array;
  // Credentials plus room for a few passed descriptors (systemd-notify sends one for its
  // barrier); descriptors that do not fit are closed by the kernel (MSG_CTRUNC).
  private readonly control = new Uint8Array(L.cmsgSpace(UCRED.size) + L.cmsgSpace(4 * 8));
  private readonly iov = new Uint8Array(L.IOVEC.size);
  private readonly hdr = new Uint8Array(L.MSGHDR.size);
  private readonly hv = new DataView(this.hdr.buffer);

  constructor(bufferBytes = 4096) {
    this.buf = new Uint8Array(bufferBytes);
    L.writePointer(this.iov, L.IOVEC.base, addressOf(this.buf));
    L.writeSize(this.iov, L.IOVEC.len, bufferBytes);
    L.writePointer(this.hdr, L.MSGHDR.iov, addressOf(this.iov));
    L.writeSize(this.hdr, L.MSGHDR.iovlen, 1);
    L.writePointer(this.hdr, L.MSGHDR.control, addressOf(this.control));
  }

  /** One queued datagram, or undefined when none is (EAGAIN); never blocks. */
  recv(fd: number, address = ""): UnixDatagram | undefined {
    // The kernel rewrites controllen on every call: reset it each time (no name wanted).
    L.writeSize(this.hdr, L.MSGHDR.controllen, this.control.length);
    const n = Number(C.recvmsg(fd, this.hdr, L.MSG_DONTWAIT | L.MSG_TRUNC));
    if (n < 0) {
      const e = errno();
      if (e === L.EAGAIN || e === L.EINTR) return undefined;
      failUnix("recvmsg", `fd ${fd}`, address, e);
    }
    const flags = this.hv.getInt32(L.MSGHDR.flags, true);
    const controlLen = Number(this.hv.getBigUint64(L.MSGHDR.controllen, true));
    let cred: { pid: number; uid: number; gid: number } | undefined;
    let fdsClosed = 0;
    for (const c of L.decodeCmsgs(this.control, controlLen)) {
      if (c.level !== L.SOL_SOCKET) continue;
      const v = new DataView(c.data.buffer, c.data.byteOffset, c.data.byteLength);
      if (c.type === SCM_CREDENTIALS && c.data.length >= UCRED.size)
        cred = {
          pid: v.getInt32(UCRED.pid, true),
          uid: v.getUint32(UCRED.uid, true),
          gid: v.getUint32(UCRED.gid, true),
        };
      else if (c.type === SCM_RIGHTS)
        for (let off = 0; off + 4 <= c.data.length; off += 4, fdsClosed++)
          close(v.getInt32(off, true));
    }
    return {
      bytes: this.buf.slice(0, Math.min(n, this.buf.length)),
      pid: cred?.pid,
      uid: cred?.uid,
      gid: cred?.gid,
      fdsClosed,
      truncated: n > this.buf.length || (flags & (L.MSG_TRUNC | L.MSG_CTRUNC)) !== 0,
    };
  }
}
