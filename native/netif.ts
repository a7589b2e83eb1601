/**
 * Interface facts the VRRP sockets and the announcer need, without getifaddrs(3): index and
 * name (if_nametoindex), hardware and primary IPv4 address (SIOCGIF* ioctls), and the IPv6
 * link-local address (/proc/self/net/if_inet6). All of them answer for the calling thread's
 * network namespace, unlike /sys/class/net, which shows the namespace sysfs was mounted in.
 */
import { dlopen } from "bun:ffi";
import { readFileSync } from "node:fs";
import { AgentError } from "../src/errors.ts";
import * as L from "./layout.ts";
import { close, errno, errnoName, fail, SyscallFailure, socket, strerror } from "./libc.ts";

const C = dlopen("libc.so.6", {
  // ioctl is variadic; its pointer third argument is passed exactly like a fixed argument by
  // the x86-64 and AAPCS64 Linux ABIs.
  ioctl: { args: ["i32", "u64", "ptr"], returns: "i32" },
  if_nametoindex: { args: ["ptr"], returns: "u32" },
  if_indextoname: { args: ["u32", "ptr"], returns: "ptr" },
}).symbols;

/** if_nametoindex(3); throws E_INTERFACE when the interface does not exist. */
export function ifNameToIndex(ifname: string): number {
  const i = C.if_nametoindex(L.cString(ifname));
  if (i === 0) {
    const e = errno();
    throw new AgentError("E_INTERFACE", `interface ${ifname}: ${strerror(e)}`, ifname, {
      cause: new SyscallFailure("if_nametoindex", errnoName(e), e),
    });
  }
  return i;
}

/** if_indextoname(3); undefined when no interface has that index. */
export function ifIndexToName(ifindex: number): string | undefined {
  const b = new Uint8Array(L.IFNAMSIZ);
  if (C.if_indextoname(ifindex, b) === null) return undefined;
  return new TextDecoder().decode(b.subarray(0, b.indexOf(0)));
}

// SIOCGIF* ioctls work on any AF_INET datagram socket (netdevice(7)).
function ifIoctl(ifname: string, request: number, what: string): Uint8Array | undefined {
  const req = L.ifreq(ifname);
  const fd = socket(L.AF_INET, L.SOCK_DGRAM, 0, ifname);
  try {
    if (C.ioctl(fd, request, req) < 0) {
      const e = errno();
      if (e === L.EADDRNOTAVAIL) return undefined;
      if (e === L.ENODEV)
        throw new AgentError("E_INTERFACE", `interface ${ifname} does not exist`, ifname);
      fail(`ioctl ${what}`, ifname, ifname, e);
    }
  } finally {
    close(fd);
  }
  return req;
}

/** The interface's hardware address (SIOCGIFHWADDR): 6 bytes for Ethernet. */
export function interfaceMac(ifname: string): Uint8Array {
  const req = ifIoctl(ifname, L.SIOCGIFHWADDR, "SIOCGIFHWADDR");
  if (!req)
    throw new AgentError("E_INTERFACE", `interface ${ifname} has no hardware address`, ifname);
  return req.slice(L.IFREQ.saData, L.IFREQ.saData + 6);
}

/** The interface's primary IPv4 address (SIOCGIFADDR), or undefined if it has none. */
export function interfaceIpv4(ifname: string): Uint8Array | undefined {
  const req = ifIoctl(ifname, L.SIOCGIFADDR, "SIOCGIFADDR");
  return req?.slice(
    L.IFREQ.sockaddr + L.SOCKADDR_IN.addr,
    L.IFREQ.sockaddr + L.SOCKADDR_IN.addr + 4,
  );
}

/** One line of /proc/net/if_inet6. */
export interface Inet6Entry {
  readonly addr: Uint8Array;
  readonly ifindex: number;
  readonly prefixLen: number;
  /** 0x20 link-local, 0x00 global (RT_SCOPE_* in if_inet6's encoding). */
  readonly scope: number;
  /** IFA_F_* flags: 0x40 tentative, 0x08 DAD failed, 0x20 deprecated. */
  readonly flags: number;
  readonly ifname: string;
}

export function parseIfInet6(text: string): Inet6Entry[] {
  const out: Inet6Entry[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const [hex, idx, plen, scope, flags, name] = f;
    if (f.length !== 6 || !hex || !/^[0-9a-f]{32}$/.test(hex) || !name) continue;
    const addr = new Uint8Array(16);
    for (let i = 0; i < 16; i++) addr[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    const n = (s: string | undefined) => Number.parseInt(s ?? "", 16);
    out.push({
      addr,
      ifindex: n(idx),
      prefixLen: n(plen),
      scope: n(scope),
      flags: n(flags),
      ifname: name,
    });
  }
  return out;
}

/**
 * The interface's usable IPv6 link-local address: the first that is not tentative, failed
 * DAD or deprecated. /proc/self/net shows this process's network namespace.
 */
export function interfaceLinkLocal(ifname: string): Uint8Array | undefined {
  const text = readFileSync("/proc/self/net/if_inet6", "utf8");
  const usable = parseIfInet6(text).filter(
    (e) => e.ifname === ifname && e.scope === 0x20 && (e.flags & (0x40 | 0x08 | 0x20)) === 0,
  );
  return usable[0]?.addr;
}
