/**
 * A generic-netlink socket through libnl-3 / libnl-genl-3 over bun:ffi.
 *
 * Division of work (why not libnl's nl_msg API): the request bytes — nlmsghdr, genlmsghdr,
 * attributes — are built by the pure codec in src/core/ipvs/genl-msg.ts, where golden tests
 * compare them with ipvsadm's captured traffic; replies are split and decoded there too. libnl
 * is used for what it does better than hand code: allocating the socket and its port id
 * (nl_socket_alloc, genl_connect) and resolving a family name to its id through the
 * controller (genl_ctrl_resolve). Bytes go out with nl_sendto and come back with recv(2) on
 * the socket's fd, waited for with poll(2) and a bound, so a lost reply is a typed timeout,
 * never a hang, and no libnl-owned buffer has to be freed from JS.
 */
import { dlopen, type Pointer } from "bun:ffi";
import { AgentError } from "../src/errors.ts";
import { errnoName as libcErrnoName, strerror } from "./libc.ts";
import { cstr, pollReadable, recvDatagram } from "./libnl.ts";

const CORE = {
  nl_socket_alloc: { args: [], returns: "ptr" },
  nl_socket_free: { args: ["ptr"], returns: "void" },
  nl_socket_get_fd: { args: ["ptr"], returns: "i32" },
  nl_socket_set_buffer_size: { args: ["ptr", "i32", "i32"], returns: "i32" },
  nl_socket_get_local_port: { args: ["ptr"], returns: "u32" },
  nl_sendto: { args: ["ptr", "ptr", "u64"], returns: "i32" },
  nl_geterror: { args: ["i32"], returns: "cstring" },
} as const;
const GENL = {
  genl_connect: { args: ["ptr"], returns: "i32" },
  genl_ctrl_resolve: { args: ["ptr", "ptr"], returns: "i32" },
} as const;

const NAMES = { core: "libnl-3.so.200", genl: "libnl-genl-3.so.200" };
/** libnl's -NLE_OBJ_NOTFOUND: the controller does not know the family. */
const NLE_OBJ_NOTFOUND = 12;
const EAGAIN = 11;
const EINTR = 4;

// biome-ignore format: a table
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 3: "ESRCH", 7: "E2BIG", 12: "ENOMEM", 16: "EBUSY", 17: "EEXIST",
  19: "ENODEV", 22: "EINVAL", 34: "ERANGE", 90: "EMSGSIZE", 95: "EOPNOTSUPP", 105: "ENOBUFS",
};

/** "EEXIST" for 17; falls back to native/libc.ts's table, then "errno <n>". */
export function errnoName(e: number): string {
  return ERRNO_NAMES[e] ?? libcErrnoName(e);
}

export type GenlErrorCode =
  | "E_NO_GENL_FAMILY"
  | "E_GENL_KERNEL"
  | "E_GENL_TIMEOUT"
  | "E_GENL_SOCKET";

/** A generic-netlink failure; `errno` and `errnoName` are set for kernel and socket errors. */
export class GenlError extends Error {
  override readonly name = "GenlError";
  constructor(
    readonly code: GenlErrorCode,
    message: string,
    readonly errno?: number,
    readonly errnoName?: string,
  ) {
    super(message);
  }
}

type Syms = ReturnType<typeof load>;
let loaded: Syms | undefined;

function load() {
  try {
    const core = dlopen(NAMES.core, CORE).symbols;
    const genl = dlopen(NAMES.genl, GENL).symbols;
    return { ...core, ...genl };
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new AgentError(
      "E_NO_LIBNL",
      `cannot load libnl-genl (${msg}): install libnl-genl-3-200 (Debian/Ubuntu) or libnl3 (RHEL/Fedora)`,
      NAMES.genl,
      { cause },
    );
  }
}

function syms(): Syms {
  loaded ??= load();
  return loaded;
}

function nlText(rc: number): string {
  return syms().nl_geterror(rc) ?? `libnl error ${rc}`;
}

/** One connected NETLINK_GENERIC socket. Not thread-safe; one request in flight at a time. */
export class GenlSocket {
  readonly #sk: Pointer;
  readonly #fd: number;
  #closed = false;

  private constructor(sk: Pointer) {
    this.#sk = sk;
    this.#fd = syms().nl_socket_get_fd(sk);
  }

  static open(rcvbufBytes = 1 << 20): GenlSocket {
    const nl = syms();
    const sk = nl.nl_socket_alloc() as Pointer | null;
    if (!sk) throw new GenlError("E_GENL_SOCKET", "nl_socket_alloc failed (out of memory)");
    const rc = nl.genl_connect(sk);
    if (rc < 0) {
      nl.nl_socket_free(sk);
      throw new GenlError("E_GENL_SOCKET", `genl_connect: ${nlText(rc)}`);
    }
    // Dumps of thousands of destinations arrive faster than JS reads them.
    nl.nl_socket_set_buffer_size(sk, rcvbufBytes, 0);
    return new GenlSocket(sk);
  }

  /** The family id of `name`, or a GenlError E_NO_GENL_FAMILY when the kernel has none. */
  resolve(name: string): number {
    const n = cstr(name);
    const rc = syms().genl_ctrl_resolve(this.#sk, n);
    if (rc >= 0) return rc;
    if (-rc === NLE_OBJ_NOTFOUND)
      throw new GenlError("E_NO_GENL_FAMILY", `the kernel has no generic netlink family "${name}"`);
    throw new GenlError("E_GENL_SOCKET", `genl_ctrl_resolve(${name}): ${nlText(rc)}`);
  }

  get localPort(): number {
    return syms().nl_socket_get_local_port(this.#sk);
  }

  send(bytes: Uint8Array): void {
    const rc = syms().nl_sendto(this.#sk, bytes, bytes.length);
    if (rc < 0) throw new GenlError("E_GENL_SOCKET", `nl_sendto: ${nlText(rc)}`);
  }

  /**
   * The next datagram, waiting until `deadlineAtMs` (performance.now() time). `buf` is reused
   * across calls; the result is a view into it, valid until the next call.
   */
  receive(buf: Uint8Array, deadlineAtMs: number): Uint8Array {
    for (;;) {
      const n = recvDatagram(this.#fd, buf);
      if (n >= 0) return buf.subarray(0, n);
      if (-n !== EAGAIN && -n !== EINTR)
        throw new GenlError("E_GENL_SOCKET", `recv: ${strerror(-n)}`, -n, errnoName(-n));
      const leftMs = Math.ceil(deadlineAtMs - performance.now());
      if (leftMs <= 0)
        throw new GenlError("E_GENL_TIMEOUT", "no netlink reply before the deadline");
      const r = pollReadable([this.#fd], leftMs);
      if (typeof r === "number" && -r !== EINTR)
        throw new GenlError("E_GENL_SOCKET", `poll: ${strerror(-r)}`, -r, errnoName(-r));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    syms().nl_socket_free(this.#sk);
  }
}

/** A kernel error from an nlmsgerr, with its errno name ("EEXIST"). */
export function kernelError(what: string, errno: number, extack?: string): GenlError {
  const name = errnoName(errno);
  const detail = extack ? ` (${extack})` : "";
  return new GenlError(
    "E_GENL_KERNEL",
    `${what}: ${strerror(errno)} [${name}]${detail}`,
    errno,
    name,
  );
}
