/**
 * What every rtnetlink operation shares: the one NETLINK_ROUTE socket (requests are synchronous
 * round trips of a few microseconds, like keepalived's netlink_talk), ownership of libnl objects,
 * nl_addr conversion, interface lookup and the mapping of NLE_* codes to AgentError.
 */

import {
  captureKernelErrors,
  clearKernelError,
  cstr,
  type Libnl,
  libnl,
  type NlPtr,
  nlErrorText,
  readBytes,
  readCString,
  releaseKernelErrors,
  takeKernelError,
  withOutPtr,
} from "../../native/libnl.ts";
import { formatIp, type IpAddr, type IpFamily, maxPrefixLen, parsePrefix } from "../core/net/ip.ts";
import { AgentError, type ErrorCode } from "../errors.ts";
import { cached } from "./ifcache.ts";

/** libnl's error numbers (netlink/errno.h) that callers act on. */
export const NLE = {
  FAILURE: 1,
  EXIST: 6,
  INVAL: 7,
  OPNOTSUPP: 10,
  OBJ_NOTFOUND: 12,
  NOADDR: 19,
  PERM: 28,
  NODEV: 31,
} as const;

export const AF_INET = 2;
export const AF_INET6 = 10;
/** libnl's family for link-layer (MAC) nl_addrs. */
export const AF_LLC = 26;
const NETLINK_ROUTE = 0;

export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;

/** What an idempotent operation did: keepalived treats "already so" as success, and so do we. */
/**
 * Why nothing changed: "present" (add: already there), "absent" (delete: not there),
 * "no-interface" (delete: its interface is gone), "already" (link already in that state).
 */
export type UnchangedReason = "present" | "absent" | "no-interface" | "already";
export type NetChange =
  | { readonly changed: true }
  | { readonly changed: false; readonly reason: UnchangedReason };

export const CHANGED: NetChange = Object.freeze({ changed: true });
export const unchanged = (reason: UnchangedReason): NetChange =>
  Object.freeze({ changed: false, reason });

let sock: NlPtr | undefined;

/**
 * The shared request socket, connected on first use. Every operation starts here, so this is
 * also where a kernel error recorded (and handled) by an earlier operation is forgotten.
 */
export function nlSocket(): { nl: Libnl; sk: NlPtr } {
  const nl = libnl();
  clearKernelError();
  if (sock === undefined) {
    const sk = nl.nl_socket_alloc();
    if (!sk) throw new AgentError("E_INTERFACE", "netlink: cannot allocate a socket");
    const rc = nl.nl_connect(sk, NETLINK_ROUTE);
    if (rc < 0) {
      nl.nl_socket_free(sk);
      throw nlFail(rc, "connect to rtnetlink");
    }
    captureKernelErrors(sk);
    sock = sk;
  }
  return { nl, sk: sock };
}

/** Closes the shared socket (at shutdown; the next call opens a new one). */
export function closeNetlink(): void {
  if (sock !== undefined) {
    libnl().nl_socket_free(sock);
    releaseKernelErrors(sock);
  }
  sock = undefined;
}

/**
 * The AgentError for libnl code `rc` while doing `what` (e.g. "add address X on eth0"):
 * libnl's text, or the kernel's errno text where libnl only says "Unspecific failure", plus
 * the kernel's extended-ack message when it gave one.
 */
export function nlFail(rc: number, what: string, subject?: string): AgentError {
  const code: ErrorCode = -rc === NLE.PERM ? "E_NOT_ROOT" : "E_INTERFACE";
  const k = takeKernelError(rc);
  let text = k && -rc === NLE.FAILURE ? k.text : nlErrorText(rc);
  if (k?.extack) text += ` (${k.extack})`;
  if (code === "E_NOT_ROOT") text += " (needs CAP_NET_ADMIN)";
  return new AgentError(code, `${what}: ${text}`, subject, {
    cause: { nlCode: -rc, ...(k ? { errno: k.errno } : {}) },
  });
}

/** The NLE_* number an error from nlFail carries, if any. */
export function nlCodeOf(e: unknown): number | undefined {
  if (!(e instanceof AgentError)) return undefined;
  const c = e.cause as { nlCode?: unknown } | undefined;
  return typeof c?.nlCode === "number" ? c.nlCode : undefined;
}

export function nlCheck(rc: number, what: string, subject?: string): void {
  if (rc < 0) throw nlFail(rc, what, subject);
}

export function unsupported(option: string, what: string): AgentError {
  return new AgentError("E_CONFIG_INVALID", `${what}: not supported yet: ${option}`, option);
}

/**
 * Owns libnl objects for one operation: everything `own`ed is released when the `using`
 * block ends, on success and on throw alike.
 */
export class NlScope implements Disposable {
  private readonly puts: (() => void)[] = [];
  own<P extends NlPtr | null>(p: P, put: (p: NlPtr) => void): P {
    if (p) this.puts.push(() => put(p));
    return p;
  }
  [Symbol.dispose](): void {
    for (const put of this.puts.reverse()) put();
    this.puts.length = 0;
  }
}

export function familyOf(a: IpAddr): number {
  return a.family === 4 ? AF_INET : AF_INET6;
}

/** A new nl_addr for `a` with prefix length `len` (full length if omitted); the scope owns it. */
export function nlAddr(s: NlScope, a: IpAddr, len?: number): NlPtr {
  const { nl } = nlSocket();
  const bytes = a.bytes;
  const p = s.own(nl.nl_addr_build(familyOf(a), bytes, bytes.length), nl.nl_addr_put);
  if (!p) throw new AgentError("E_INTERFACE", `netlink: cannot build address ${formatIp(a)}`);
  nl.nl_addr_set_prefixlen(p, len ?? maxPrefixLen(a.family));
  return p;
}

/** Parses "ADDR[/LEN]" text from the config model (already validated there). */
export function prefixOf(text: string, what: string): { addr: IpAddr; len: number } {
  const p = parsePrefix(text);
  if (!p.ok) throw new AgentError("E_CONFIG_INVALID", `${what}: ${p.message}`, text);
  return { addr: { family: p.prefix.family, bytes: p.prefix.bytes }, len: p.prefix.len };
}

/** The bytes of a borrowed nl_addr (not put here), or undefined for NULL / other families. */
export function readIp(p: NlPtr | null): { addr: IpAddr; len: number } | undefined {
  if (!p) return undefined;
  const { nl } = nlSocket();
  const af = nl.nl_addr_get_family(p);
  const family: IpFamily | undefined = af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
  const n = nl.nl_addr_get_len(p);
  if (family === undefined || n !== (family === 4 ? 4 : 16)) return undefined;
  const bytes = readBytes(nl.nl_addr_get_binary_addr(p), n);
  return { addr: { family, bytes }, len: nl.nl_addr_get_prefixlen(p) };
}

/** Link-layer address text (aa:bb:...) of a borrowed nl_addr. */
export function readMac(p: NlPtr | null): string | undefined {
  if (!p) return undefined;
  const { nl } = nlSocket();
  const bytes = readBytes(nl.nl_addr_get_binary_addr(p), nl.nl_addr_get_len(p));
  if (bytes.length === 0) return undefined;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * The kernel's current link object for `name` (owned by `s`), or null if there is no such
 * interface. One RTM_GETLINK round trip: no cache to go stale.
 */
export function getLink(s: NlScope, name: string): NlPtr | null {
  const { nl, sk } = nlSocket();
  const n = cstr(name);
  const r = withOutPtr((out) => nl.rtnl_link_get_kernel(sk, 0, n, out));
  if (r.rc === -NLE.NODEV) return null;
  nlCheck(r.rc, `look up interface ${name}`, name);
  return s.own(r.ptr, nl.rtnl_link_put);
}

/** The ifindex of `name`, or undefined if it does not exist. */
export function ifindexOf(name: string): number | undefined {
  return cached("ifindex", name, () => {
    using s = new NlScope();
    const link = getLink(s, name);
    return link ? nlSocket().nl.rtnl_link_get_ifindex(link) : undefined;
  });
}

/** The ifindex of `name`; throws E_INTERFACE naming the operation if it does not exist. */
export function requireIfindex(name: string, what: string): number {
  const i = ifindexOf(name);
  if (i === undefined) throw new AgentError("E_INTERFACE", `${what}: no such interface`, name);
  return i;
}

export { readCString, withOutPtr };
