/**
 * libnl-3 and libnl-route-3 over bun:ffi: the symbols the address manager and the link
 * monitor use, loaded on first use. libnl builds and parses the rtnetlink messages (the same
 * library keepalived's ipvs code and NetworkManager use), so we never hand-pack RTM_* requests.
 *
 * Lifetimes: every string or byte argument is a Uint8Array the caller holds in a local for the
 * duration of the call; libnl copies what it keeps (labels, names, nl_addr bytes). Every object
 * libnl returns is owned by the caller and released with its *_put / nl_addr_put.
 *
 * Also here: the four libc calls the monitor worker needs to wait on its socket (poll, recv,
 * eventfd, write) — kept local so this file does not depend on native/libc.ts.
 */
import {
  type ConvertFns,
  CString,
  dlopen,
  type Symbols as FfiSymbols,
  JSCallback,
  type Pointer,
  read,
  toArrayBuffer,
} from "bun:ffi";
import { AgentError } from "../src/errors.ts";

/** An opaque libnl object pointer (struct nl_sock *, struct rtnl_addr *, ...). */
export type NlPtr = Pointer;

const CORE_SYMBOLS = {
  nl_socket_alloc: { args: [], returns: "ptr" },
  nl_socket_free: { args: ["ptr"], returns: "void" },
  nl_connect: { args: ["ptr", "i32"], returns: "i32" },
  nl_socket_get_fd: { args: ["ptr"], returns: "i32" },
  nl_socket_set_nonblocking: { args: ["ptr"], returns: "i32" },
  nl_socket_disable_seq_check: { args: ["ptr"], returns: "void" },
  nl_socket_add_membership: { args: ["ptr", "i32"], returns: "i32" },
  nl_socket_set_buffer_size: { args: ["ptr", "i32", "i32"], returns: "i32" },
  nl_socket_modify_err_cb: { args: ["ptr", "i32", "ptr", "ptr"], returns: "i32" },
  nl_geterror: { args: ["i32"], returns: "ptr" },
  nl_addr_build: { args: ["i32", "ptr", "u64"], returns: "ptr" },
  nl_addr_put: { args: ["ptr"], returns: "void" },
  nl_addr_get_family: { args: ["ptr"], returns: "i32" },
  nl_addr_get_len: { args: ["ptr"], returns: "u32" },
  nl_addr_get_prefixlen: { args: ["ptr"], returns: "u32" },
  nl_addr_set_prefixlen: { args: ["ptr", "i32"], returns: "void" },
  nl_addr_get_binary_addr: { args: ["ptr"], returns: "ptr" },
  nl_cache_free: { args: ["ptr"], returns: "void" },
  nl_cache_get_first: { args: ["ptr"], returns: "ptr" },
  nl_cache_get_next: { args: ["ptr"], returns: "ptr" },
} as const;

const ROUTE_SYMBOLS = {
  rtnl_addr_alloc: { args: [], returns: "ptr" },
  rtnl_addr_put: { args: ["ptr"], returns: "void" },
  rtnl_addr_alloc_cache: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_addr_add: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  rtnl_addr_delete: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  rtnl_addr_set_label: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_addr_get_label: { args: ["ptr"], returns: "ptr" },
  rtnl_addr_set_ifindex: { args: ["ptr", "i32"], returns: "void" },
  rtnl_addr_get_ifindex: { args: ["ptr"], returns: "i32" },
  rtnl_addr_set_family: { args: ["ptr", "i32"], returns: "void" },
  rtnl_addr_get_family: { args: ["ptr"], returns: "i32" },
  rtnl_addr_set_prefixlen: { args: ["ptr", "i32"], returns: "void" },
  rtnl_addr_get_prefixlen: { args: ["ptr"], returns: "i32" },
  rtnl_addr_set_scope: { args: ["ptr", "i32"], returns: "void" },
  rtnl_addr_get_scope: { args: ["ptr"], returns: "i32" },
  rtnl_addr_set_flags: { args: ["ptr", "u32"], returns: "void" },
  rtnl_addr_get_flags: { args: ["ptr"], returns: "u32" },
  rtnl_addr_set_local: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_addr_get_local: { args: ["ptr"], returns: "ptr" },
  rtnl_addr_set_peer: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_addr_get_peer: { args: ["ptr"], returns: "ptr" },
  rtnl_addr_set_broadcast: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_addr_get_broadcast: { args: ["ptr"], returns: "ptr" },
  rtnl_addr_set_valid_lifetime: { args: ["ptr", "u32"], returns: "void" },
  rtnl_addr_get_valid_lifetime: { args: ["ptr"], returns: "u32" },
  rtnl_addr_set_preferred_lifetime: { args: ["ptr", "u32"], returns: "void" },
  rtnl_addr_get_preferred_lifetime: { args: ["ptr"], returns: "u32" },

  rtnl_link_alloc: { args: [], returns: "ptr" },
  rtnl_link_put: { args: ["ptr"], returns: "void" },
  rtnl_link_get_kernel: { args: ["ptr", "i32", "ptr", "ptr"], returns: "i32" },
  rtnl_link_add: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  rtnl_link_delete: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_link_change: { args: ["ptr", "ptr", "ptr", "i32"], returns: "i32" },
  rtnl_link_get_ifindex: { args: ["ptr"], returns: "i32" },
  rtnl_link_set_name: { args: ["ptr", "ptr"], returns: "void" },
  rtnl_link_get_name: { args: ["ptr"], returns: "ptr" },
  rtnl_link_set_link: { args: ["ptr", "i32"], returns: "void" },
  rtnl_link_get_link: { args: ["ptr"], returns: "i32" },
  rtnl_link_set_addr: { args: ["ptr", "ptr"], returns: "void" },
  rtnl_link_get_addr: { args: ["ptr"], returns: "ptr" },
  rtnl_link_set_flags: { args: ["ptr", "u32"], returns: "void" },
  rtnl_link_unset_flags: { args: ["ptr", "u32"], returns: "void" },
  rtnl_link_get_flags: { args: ["ptr"], returns: "u32" },
  rtnl_link_get_mtu: { args: ["ptr"], returns: "u32" },
  rtnl_link_get_operstate: { args: ["ptr"], returns: "u8" },
  rtnl_link_get_type: { args: ["ptr"], returns: "ptr" },
  rtnl_link_set_group: { args: ["ptr", "u32"], returns: "void" },
  rtnl_link_get_group: { args: ["ptr"], returns: "u32" },
  rtnl_link_macvlan_alloc: { args: [], returns: "ptr" },
  rtnl_link_is_macvlan: { args: ["ptr"], returns: "i32" },
  rtnl_link_macvlan_set_mode: { args: ["ptr", "u32"], returns: "i32" },
  rtnl_link_macvlan_get_mode: { args: ["ptr"], returns: "u32" },
  rtnl_link_inet6_set_addr_gen_mode: { args: ["ptr", "u8"], returns: "i32" },

  rtnl_route_alloc: { args: [], returns: "ptr" },
  rtnl_route_put: { args: ["ptr"], returns: "void" },
  rtnl_route_add: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  rtnl_route_delete: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  rtnl_route_set_family: { args: ["ptr", "u8"], returns: "i32" },
  rtnl_route_set_dst: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_route_set_src: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_route_set_pref_src: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_route_set_table: { args: ["ptr", "u32"], returns: "void" },
  rtnl_route_set_priority: { args: ["ptr", "u32"], returns: "void" },
  rtnl_route_set_scope: { args: ["ptr", "u8"], returns: "void" },
  rtnl_route_set_protocol: { args: ["ptr", "u8"], returns: "void" },
  rtnl_route_set_type: { args: ["ptr", "u8"], returns: "i32" },
  rtnl_route_set_tos: { args: ["ptr", "u8"], returns: "void" },
  rtnl_route_set_metric: { args: ["ptr", "i32", "u32"], returns: "i32" },
  rtnl_route_add_nexthop: { args: ["ptr", "ptr"], returns: "void" },
  rtnl_route_nh_alloc: { args: [], returns: "ptr" },
  rtnl_route_nh_free: { args: ["ptr"], returns: "void" },
  rtnl_route_nh_set_ifindex: { args: ["ptr", "i32"], returns: "void" },
  rtnl_route_nh_set_gateway: { args: ["ptr", "ptr"], returns: "void" },
  rtnl_route_nh_set_weight: { args: ["ptr", "u8"], returns: "void" },
  rtnl_route_nh_set_flags: { args: ["ptr", "u32"], returns: "void" },

  rtnl_rule_alloc: { args: [], returns: "ptr" },
  rtnl_rule_put: { args: ["ptr"], returns: "void" },
  rtnl_rule_add: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  rtnl_rule_delete: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  rtnl_rule_set_family: { args: ["ptr", "i32"], returns: "void" },
  rtnl_rule_set_prio: { args: ["ptr", "u32"], returns: "void" },
  rtnl_rule_set_mark: { args: ["ptr", "u32"], returns: "void" },
  rtnl_rule_set_mask: { args: ["ptr", "u32"], returns: "void" },
  rtnl_rule_set_table: { args: ["ptr", "u32"], returns: "void" },
  rtnl_rule_set_dsfield: { args: ["ptr", "u8"], returns: "void" },
  rtnl_rule_set_src: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_rule_set_dst: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_rule_set_action: { args: ["ptr", "u8"], returns: "void" },
  rtnl_rule_set_iif: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_rule_set_oif: { args: ["ptr", "ptr"], returns: "i32" },
  rtnl_rule_set_goto: { args: ["ptr", "u32"], returns: "void" },
  rtnl_rule_set_l3mdev: { args: ["ptr", "i32"], returns: "void" },
  rtnl_rule_set_protocol: { args: ["ptr", "u8"], returns: "i32" },
  rtnl_rule_set_ipproto: { args: ["ptr", "u8"], returns: "i32" },
  rtnl_rule_set_sport_range: { args: ["ptr", "u16", "u16"], returns: "i32" },
  rtnl_rule_set_dport_range: { args: ["ptr", "u16", "u16"], returns: "i32" },
} as const;

const LIBC_SYMBOLS = {
  poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
  recv: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
  eventfd: { args: ["u32", "i32"], returns: "i32" },
  write: { args: ["i32", "ptr", "u64"], returns: "i64" },
  close: { args: ["i32"], returns: "i32" },
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  strerror: { args: ["i32"], returns: "ptr" },
  __errno_location: { args: [], returns: "ptr" },
} as const;

type Symbols<T extends FfiSymbols> = ConvertFns<T>;
/**
 * bun-types declares pointer returns as `Pointer | bigint | null`; Bun returns a number (or
 * null for NULL), so the bigint branch is dropped once here instead of at every call.
 */
type NoBigint<S> = {
  [K in keyof S]: S[K] extends (...a: infer A) => infer R ? (...a: A) => Exclude<R, bigint> : never;
};
export type Libnl = NoBigint<Symbols<typeof CORE_SYMBOLS> & Symbols<typeof ROUTE_SYMBOLS>>;

/** Sonames as Debian and RHEL ship them (the unversioned .so is only in the -dev packages). */
const DEFAULT_NAMES = { core: "libnl-3.so.200", route: "libnl-route-3.so.200" };
let names = { ...DEFAULT_NAMES };
let loaded: Libnl | undefined;

/**
 * Tests point the loader at other library names (a bogus one to see E_NO_LIBNL); undefined
 * restores the defaults. Drops the cached handle so the next libnl() loads again.
 */
export function setLibnlNames(override?: { core?: string; route?: string }): void {
  names = { ...DEFAULT_NAMES, ...override };
  loaded = undefined;
}

function open<T extends FfiSymbols>(name: string, symbols: T): Symbols<T> {
  try {
    return dlopen(name, symbols).symbols;
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    if (symbols === (LIBC_SYMBOLS as FfiSymbols))
      throw new Error(`cannot load the C library ${name}: ${msg}`, { cause });
    const missingSymbol = /symbol/i.test(msg) && !/No such file|cannot open/i.test(msg);
    throw new AgentError(
      "E_NO_LIBNL",
      missingSymbol
        ? `${name} is too old for edge-agent (${msg}); libnl 3.5 or newer is needed`
        : `cannot load ${name} (${msg}): install libnl-3-200 and libnl-route-3-200 ` +
            "(Debian/Ubuntu) or libnl3 (RHEL/Fedora)",
      name,
      { cause },
    );
  }
}

/** The libnl symbols; throws AgentError E_NO_LIBNL naming the packages if not installed. */
export function libnl(): Libnl {
  if (!loaded) {
    const core = open(names.core, CORE_SYMBOLS);
    const route = open(names.route, ROUTE_SYMBOLS);
    loaded = { ...core, ...route } as unknown as Libnl;
  }
  return loaded;
}

/** libnl's text for a (negative or positive) NLE_* code, e.g. "Object exists". */
export function nlErrorText(code: number): string {
  const p = libnl().nl_geterror(code);
  return p ? new CString(p).toString() : `libnl error ${code}`;
}

/** A NUL-terminated copy of `s` to pass as `const char *`; keep it in a local across the call. */
export function cstr(s: string): Uint8Array {
  return new TextEncoder().encode(`${s}\0`);
}

/** The C string at `p` (NULL → undefined); copied, so libnl may free it afterwards. */
export function readCString(p: NlPtr | null): string | undefined {
  return p ? new CString(p).toString() : undefined;
}

/** A copy of `len` bytes at `p`. */
export function readBytes(p: NlPtr | null, len: number): Uint8Array {
  if (!p || len === 0) return new Uint8Array(0);
  return new Uint8Array(toArrayBuffer(p, 0, len)).slice();
}

/**
 * Calls `f` with a zeroed `T **` out-parameter and returns what it stored (or null). The
 * BigUint64Array is the storage the C side writes through; it stays referenced in this frame.
 */
export function withOutPtr(f: (out: BigUint64Array) => number): { rc: number; ptr: NlPtr | null } {
  const out = new BigUint64Array(1);
  const rc = f(out);
  const v = Number(out[0]);
  return { rc, ptr: v === 0 ? null : (v as NlPtr) };
}

// ---- the libc calls the monitor worker waits with ---------------------------------------

let libc: Symbols<typeof LIBC_SYMBOLS> | undefined;
function sys(): Symbols<typeof LIBC_SYMBOLS> {
  libc ??= open("libc.so.6", LIBC_SYMBOLS);
  return libc;
}

function errno(): number {
  const p = sys().__errno_location() as NlPtr | null;
  return p ? read.i32(p, 0) : 0;
}

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const POLLIN = 0x1;
const MSG_DONTWAIT = 0x40;
export const EINTR = 4;
export const EAGAIN = 11;
export const ENOBUFS = 105;

/** A non-blocking eventfd: writing to it wakes a poll() on it (stops the monitor worker). */
export function eventfdOpen(): number {
  const fd = sys().eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw new Error(`eventfd: errno ${errno()}`);
  return fd;
}

export function eventfdSignal(fd: number): void {
  const one = new BigUint64Array([1n]);
  sys().write(fd, one, 8);
}

export function closeFd(fd: number): void {
  sys().close(fd);
}

/**
 * Blocks until one of `fds` is readable (or `timeoutMs` passes; -1 waits forever). Returns the
 * readable fds, or a negative errno (EINTR is returned, not retried, so the caller decides).
 */
export function pollReadable(fds: readonly number[], timeoutMs: number): number[] | number {
  // struct pollfd { int fd; short events; short revents; } = 8 bytes, no padding.
  const buf = new Uint8Array(8 * fds.length);
  const view = new DataView(buf.buffer);
  fds.forEach((fd, i) => {
    view.setInt32(8 * i, fd, true);
    view.setInt16(8 * i + 4, POLLIN, true);
  });
  const rc = sys().poll(buf, fds.length, timeoutMs);
  if (rc < 0) return -errno();
  return fds.filter((_, i) => view.getInt16(8 * i + 6, true) !== 0);
}

/** One datagram into `buf` without blocking: its length, or a negative errno (-EAGAIN: none). */
export function recvDatagram(fd: number, buf: Uint8Array): number {
  const n = Number(sys().recv(fd, buf, buf.length, MSG_DONTWAIT));
  return n < 0 ? -errno() : n;
}

// ---- the kernel's own error behind a libnl code ---------------------------------------------

/**
 * libnl folds errno into ~30 NLE_* codes (nl_syserr2nlerr), so ENETUNREACH and friends all
 * read "Unspecific failure". A custom error callback sees the kernel's nlmsgerr first: it
 * records errno and the extended-ack text ("Invalid prefsrc address"), then returns NL_STOP so
 * libnl returns the same code as without it.
 */
export interface KernelError {
  readonly errno: number;
  readonly text: string;
  readonly extack?: string;
}

const NL_CB_CUSTOM = 3;
const NL_STOP = 2;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;

/** nl_syserr2nlerr (lib/error.c), to check a recorded errno belongs to the code returned. */
const ERRNO_TO_NLE: Readonly<Record<number, number>> = {
  9: 3,
  98: 6,
  17: 6,
  99: 19,
  3: 12,
  2: 12,
  4: 2,
  11: 4,
  88: 3,
  92: 7,
  14: 7,
  13: 27,
  22: 7,
  105: 5,
  12: 5,
  97: 11,
  93: 26,
  95: 10,
  1: 28,
  16: 25,
  34: 8,
  19: 31,
};
const NLE_FAILURE = 1;

let lastKernelError: KernelError | undefined;
const callbacks = new Map<NlPtr, JSCallback>();

/** The extended-ack message after a capped nlmsgerr, if the kernel sent one. */
function extackOf(err: NlPtr): string | undefined {
  const hdr = (err - 16) as NlPtr; // nlmsgerr is the payload of an nlmsghdr (16 bytes)
  const len = read.u32(hdr, 0);
  const flags = read.u16(hdr, 6);
  if (!(flags & NLM_F_ACK_TLVS)) return undefined;
  const inner = flags & NLM_F_CAPPED ? 16 : read.u32(err, 4);
  let off = 16 + 4 + ((inner + 3) & ~3);
  while (off + 4 <= len) {
    const alen = read.u16(hdr, off);
    if (alen < 4) break;
    if ((read.u16(hdr, off + 2) & 0x3fff) === NLMSGERR_ATTR_MSG && alen > 5)
      return new CString((hdr + off + 4) as NlPtr, 0, alen - 5).toString();
    off += (alen + 3) & ~3;
  }
  return undefined;
}

/** Installs the error callback on `sk` and asks the kernel for extended acks (best effort). */
export function captureKernelErrors(sk: NlPtr): void {
  const nl = libnl();
  const cb = new JSCallback(
    (_nla: NlPtr, err: NlPtr, _arg: NlPtr): number => {
      const errno = -read.i32(err, 0);
      const p = sys().strerror(errno) as NlPtr | null;
      const extack = extackOf(err);
      lastKernelError = {
        errno,
        text: p ? new CString(p).toString() : `errno ${errno}`,
        ...(extack ? { extack } : {}),
      };
      return NL_STOP;
    },
    { args: ["ptr", "ptr", "ptr"], returns: "i32" },
  );
  if (!cb.ptr || nl.nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, cb.ptr, null) < 0) {
    cb.close();
    return;
  }
  callbacks.set(sk, cb);
  const one = new Int32Array([1]);
  const fd = nl.nl_socket_get_fd(sk);
  sys().setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
  sys().setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
}

/** Frees the callback of a socket that captureKernelErrors set up (after nl_socket_free). */
export function releaseKernelErrors(sk: NlPtr): void {
  callbacks.get(sk)?.close();
  callbacks.delete(sk);
}

/** Forgets a recorded error (one a caller handled, like EEXIST on an idempotent add). */
export function clearKernelError(): void {
  lastKernelError = undefined;
}

/** The kernel error behind libnl code `rc`, if the last one recorded matches it; consumed. */
export function takeKernelError(rc: number): KernelError | undefined {
  const k = lastKernelError;
  lastKernelError = undefined;
  if (!k) return undefined;
  return (ERRNO_TO_NLE[k.errno] ?? NLE_FAILURE) === -rc ? k : undefined;
}
