/**
 * native/layout.ts against the C headers (known LP64 Linux values, and gcc's own answer
 * when gcc is installed), plus the libc wrappers' error reporting, which needs no root.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as L from "../../native/layout.ts";
import * as libc from "../../native/libc.ts";
import * as netif from "../../native/netif.ts";
import { isAgentError } from "../../src/errors.ts";
import { isRoot, missing, run } from "../helpers/env.ts";

/** name → [our value, the C expression that must equal it]. */
const FACTS: Record<string, [number, string]> = {
  "sizeof sockaddr_in": [L.SOCKADDR_IN.size, "sizeof(struct sockaddr_in)"],
  "sizeof sockaddr_in6": [L.SOCKADDR_IN6.size, "sizeof(struct sockaddr_in6)"],
  "sockaddr_in6.addr": [L.SOCKADDR_IN6.addr, "offsetof(struct sockaddr_in6, sin6_addr)"],
  "sockaddr_in6.scopeId": [L.SOCKADDR_IN6.scopeId, "offsetof(struct sockaddr_in6, sin6_scope_id)"],
  "sizeof sockaddr_ll": [L.SOCKADDR_LL.size, "sizeof(struct sockaddr_ll)"],
  "sockaddr_ll.ifindex": [L.SOCKADDR_LL.ifindex, "offsetof(struct sockaddr_ll, sll_ifindex)"],
  "sockaddr_ll.halen": [L.SOCKADDR_LL.halen, "offsetof(struct sockaddr_ll, sll_halen)"],
  "sockaddr_ll.addr": [L.SOCKADDR_LL.addr, "offsetof(struct sockaddr_ll, sll_addr)"],
  "sizeof sockaddr_storage": [L.SOCKADDR_STORAGE.size, "sizeof(struct sockaddr_storage)"],
  "sizeof iovec": [L.IOVEC.size, "sizeof(struct iovec)"],
  "sizeof msghdr": [L.MSGHDR.size, "sizeof(struct msghdr)"],
  "msghdr.namelen": [L.MSGHDR.namelen, "offsetof(struct msghdr, msg_namelen)"],
  "msghdr.iov": [L.MSGHDR.iov, "offsetof(struct msghdr, msg_iov)"],
  "msghdr.iovlen": [L.MSGHDR.iovlen, "offsetof(struct msghdr, msg_iovlen)"],
  "msghdr.control": [L.MSGHDR.control, "offsetof(struct msghdr, msg_control)"],
  "msghdr.controllen": [L.MSGHDR.controllen, "offsetof(struct msghdr, msg_controllen)"],
  "msghdr.flags": [L.MSGHDR.flags, "offsetof(struct msghdr, msg_flags)"],
  "sizeof cmsghdr": [L.CMSGHDR.size, "sizeof(struct cmsghdr)"],
  "CMSG_SPACE(4)": [L.cmsgSpace(4), "CMSG_SPACE(4)"],
  "CMSG_LEN(4)": [L.cmsgLen(4), "CMSG_LEN(4)"],
  "CMSG_SPACE(in6_pktinfo)": [L.cmsgSpace(20), "CMSG_SPACE(sizeof(struct in6_pktinfo))"],
  "CMSG_SPACE(in_pktinfo)": [L.cmsgSpace(12), "CMSG_SPACE(sizeof(struct in_pktinfo))"],
  "sizeof ip_mreqn": [L.IP_MREQN.size, "sizeof(struct ip_mreqn)"],
  "ip_mreqn.ifindex": [L.IP_MREQN.ifindex, "offsetof(struct ip_mreqn, imr_ifindex)"],
  "sizeof ipv6_mreq": [L.IPV6_MREQ.size, "sizeof(struct ipv6_mreq)"],
  "ipv6_mreq.ifindex": [L.IPV6_MREQ.ifindex, "offsetof(struct ipv6_mreq, ipv6mr_interface)"],
  "sizeof pollfd": [L.POLLFD.size, "sizeof(struct pollfd)"],
  "pollfd.revents": [L.POLLFD.revents, "offsetof(struct pollfd, revents)"],
  "sizeof in_pktinfo": [L.IN_PKTINFO.size, "sizeof(struct in_pktinfo)"],
  "in_pktinfo.addr": [L.IN_PKTINFO.addr, "offsetof(struct in_pktinfo, ipi_addr)"],
  "sizeof in6_pktinfo": [L.IN6_PKTINFO.size, "sizeof(struct in6_pktinfo)"],
  "in6_pktinfo.ifindex": [L.IN6_PKTINFO.ifindex, "offsetof(struct in6_pktinfo, ipi6_ifindex)"],
  "sizeof ifreq": [L.IFREQ.size, "sizeof(struct ifreq)"],
  "ifreq.hwaddr": [L.IFREQ.sockaddr, "offsetof(struct ifreq, ifr_hwaddr)"],
  "sizeof sock_fprog": [L.SOCK_FPROG.size, "sizeof(struct sock_fprog)"],
  "sock_fprog.filter": [L.SOCK_FPROG.filter, "offsetof(struct sock_fprog, filter)"],
  IP_MULTICAST_ALL: [L.IP_MULTICAST_ALL, "IP_MULTICAST_ALL"],
  IPV6_MULTICAST_ALL: [L.IPV6_MULTICAST_ALL, "IPV6_MULTICAST_ALL"],
  IPV6_RECVPKTINFO: [L.IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO"],
  IPV6_RECVHOPLIMIT: [L.IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT"],
  IPV6_JOIN_GROUP: [L.IPV6_JOIN_GROUP, "IPV6_JOIN_GROUP"],
  IPV6_FREEBIND: [L.IPV6_FREEBIND, "IPV6_FREEBIND"],
  IP_RECVTTL: [L.IP_RECVTTL, "IP_RECVTTL"],
  SO_ATTACH_FILTER: [L.SO_ATTACH_FILTER, "SO_ATTACH_FILTER"],
  SOCK_CLOEXEC: [L.SOCK_CLOEXEC, "SOCK_CLOEXEC"],
  O_NONBLOCK: [L.O_NONBLOCK, "O_NONBLOCK"],
  SIOCGIFHWADDR: [L.SIOCGIFHWADDR, "SIOCGIFHWADDR"],
};

// Known values on x86-64 and aarch64 Linux (glibc 2.36, Linux uapi), checked with gcc.
const KNOWN: Record<string, number> = {
  "sizeof sockaddr_in": 16, "sizeof sockaddr_in6": 28, "sockaddr_in6.addr": 8,
  "sockaddr_in6.scopeId": 24, "sizeof sockaddr_ll": 20, "sockaddr_ll.ifindex": 4,
  "sockaddr_ll.halen": 11, "sockaddr_ll.addr": 12, "sizeof sockaddr_storage": 128,
  "sizeof iovec": 16, "sizeof msghdr": 56, "msghdr.namelen": 8, "msghdr.iov": 16,
  "msghdr.iovlen": 24, "msghdr.control": 32, "msghdr.controllen": 40, "msghdr.flags": 48,
  "sizeof cmsghdr": 16, "CMSG_SPACE(4)": 24, "CMSG_LEN(4)": 20, "CMSG_SPACE(in6_pktinfo)": 40,
  "CMSG_SPACE(in_pktinfo)": 32, "sizeof ip_mreqn": 12, "ip_mreqn.ifindex": 8,
  "sizeof ipv6_mreq": 20, "ipv6_mreq.ifindex": 16, "sizeof pollfd": 8, "pollfd.revents": 6,
  "sizeof in_pktinfo": 12, "in_pktinfo.addr": 8, "sizeof in6_pktinfo": 20,
  "in6_pktinfo.ifindex": 16, "sizeof ifreq": 40, "ifreq.hwaddr": 16, "sizeof sock_fprog": 16,
  "sock_fprog.filter": 8, IP_MULTICAST_ALL: 49, IPV6_MULTICAST_ALL: 29, IPV6_RECVPKTINFO: 49,
  IPV6_RECVHOPLIMIT: 51, IPV6_JOIN_GROUP: 20, IPV6_FREEBIND: 78, IP_RECVTTL: 12,
  SO_ATTACH_FILTER: 26, SOCK_CLOEXEC: 0o2000000, O_NONBLOCK: 0o4000, SIOCGIFHWADDR: 0x8927,
}; // biome-ignore format: a table

describe("layout", () => {
  test.each(Object.entries(FACTS))("%s", (name, [ours]) => {
    expect(ours).toBe(KNOWN[name]!);
  });

  const noGcc = missing({ commands: ["gcc"], paths: ["/usr/include/linux/if_packet.h"] });
  test.skipIf(noGcc !== undefined)(`agrees with gcc on this machine ${noGcc ?? ""}`, () => {
    const dir = mkdtempSync(join(tmpdir(), "ea-layout-"));
    try {
      const lines = Object.entries(FACTS).map(
        ([n, [, expr]]) => `  printf("%s %ld\\n", ${JSON.stringify(n)}, (long)(${expr}));`,
      );
      const src = [
        "#define _GNU_SOURCE",
        ...["stdio.h", "stddef.h", "fcntl.h", "poll.h", "sys/socket.h", "sys/ioctl.h"].map(
          (h) => `#include <${h}>`,
        ),
        ...["netinet/in.h", "net/if.h", "linux/if_packet.h", "linux/filter.h"].map(
          (h) => `#include <${h}>`,
        ),
        "int main(void) {",
        ...lines,
        "  return 0;\n}",
      ].join("\n");
      writeFileSync(join(dir, "l.c"), src);
      const cc = run(["gcc", "-o", join(dir, "l"), join(dir, "l.c")]);
      expect(cc.stderr).toBe("");
      const got = Object.fromEntries(
        run([join(dir, "l")])
          .stdout.trim()
          .split("\n")
          .map((l) => [l.slice(0, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))]),
      );
      expect(got).toEqual(Object.fromEntries(Object.entries(FACTS).map(([n, [v]]) => [n, v])));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("sockaddr encoders put family, port, address and scope where the kernel reads them", () => {
    expect([...L.sockaddrIn(new Uint8Array([192, 0, 2, 1]), 0x1234)]).toEqual([
      2, 0, 0x12, 0x34, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    const a6 = new Uint8Array(16).fill(0xab);
    const s6 = L.sockaddrIn6(a6, 7);
    expect(s6.length).toBe(28);
    expect(L.decodeSockaddr(s6, 28)).toEqual({ family: 6, addr: a6, scopeId: 7 });
    expect(L.decodeSockaddr(s6, 27)).toBeUndefined();
    const ll = L.sockaddrLl(3, L.ETH_P_ARP, new Uint8Array([2, 0, 0, 0, 0, 1]));
    expect([...ll.subarray(0, 12)]).toEqual([17, 0, 0x08, 0x06, 3, 0, 0, 0, 0, 0, 0, 6]);
    expect([...L.ipMreqn(new Uint8Array([224, 0, 0, 18]), 5)]).toEqual([
      224, 0, 0, 18, 0, 0, 0, 0, 5, 0, 0, 0,
    ]);
  });

  test("control messages round-trip with CMSG_SPACE spacing", () => {
    const msgs = [
      { level: L.IPPROTO_IPV6, type: L.IPV6_PKTINFO, data: L.in6Pktinfo(new Uint8Array(16), 9) },
      { level: L.IPPROTO_IPV6, type: L.IPV6_HOPLIMIT, data: L.int32(255) },
    ];
    const b = L.encodeCmsgs(msgs);
    expect(b.length).toBe(40 + 24);
    expect(L.decodeCmsgs(b, b.length)).toEqual(msgs);
    // A truncated buffer yields the complete messages only.
    expect(L.decodeCmsgs(b, 50)).toEqual(msgs.slice(0, 1));
  });

  test("ifreq refuses names the kernel would truncate", () => {
    expect(() => L.ifreq("a-very-long-name")).toThrow(/1–15 bytes/);
    expect(L.ifreq("eth0").subarray(0, 5)).toEqual(new Uint8Array([101, 116, 104, 48, 0]));
  });
});

describe("libc", () => {
  test("a failing call throws AgentError with the call, strerror text and errno name", () => {
    let err: unknown;
    try {
      libc.socket(12345, L.SOCK_RAW, 0, "eth9");
    } catch (e) {
      err = e;
    }
    expect(isAgentError(err) && err.code).toBe("E_SOCKET");
    expect(String((err as Error).message)).toBe(
      "socket(12345, 3, 0) on eth9: Address family not supported by protocol [EAFNOSUPPORT]",
    );
    expect(libc.errnoOf(err)).toBe("EAFNOSUPPORT");
  });

  test("errno is read right after the failing call, also under GC pressure", () => {
    const wrong: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const want = i % 2 ? "EBADF" : "EAFNOSUPPORT";
      try {
        if (i % 2) libc.setsockoptInt(-1, "SO_RCVBUF", 0);
        else libc.socket(12345, L.SOCK_RAW, 0);
        wrong.push(`call ${i} did not fail`);
      } catch (e) {
        if (libc.errnoOf(e) !== want) wrong.push(`call ${i}: ${libc.errnoOf(e)}, want ${want}`);
      }
      if (i % 500 === 0) Bun.gc(true);
    }
    expect(wrong).toEqual([]);
  });

  test("an unknown interface is E_INTERFACE", () => {
    expect(() => netif.ifNameToIndex("ea-no-such0")).toThrow(/ea-no-such0/);
    expect(netif.ifIndexToName(0x7ffffff0)).toBeUndefined();
    expect(netif.ifIndexToName(netif.ifNameToIndex("lo"))).toBe("lo");
  });

  test("addressOf is stable once taken (JSC moves small typed arrays on .buffer)", () => {
    const b = new Uint8Array(16);
    const p = libc.addressOf(b);
    new DataView(b.buffer).setUint8(0, 1);
    expect(libc.addressOf(b)).toBe(p);
  });

  test("eventfd counts writes and reads back to zero", () => {
    const fd = libc.eventfd();
    try {
      expect(libc.eventfdRead(fd)).toBe(0);
      libc.eventfdWrite(fd, 1);
      libc.eventfdWrite(fd, 2);
      const set = new libc.PollSet();
      set.set([fd]);
      expect(set.wait(1000)).toBe(1);
      expect(set.revents(0) & L.POLLIN).toBe(L.POLLIN);
      expect(libc.eventfdRead(fd)).toBe(3);
      expect(set.wait(0)).toBe(0);
    } finally {
      libc.close(fd);
    }
  });

  test("parseIfInet6 reads /proc/net/if_inet6 lines", () => {
    const text = [
      "fe80000000000000001ab0fffe000001 03 40 20 80     eth0",
      "20010db8000000000000000000000100 03 40 00 02     eth0",
      "garbage",
    ].join("\n");
    const got = netif.parseIfInet6(text);
    expect(got.map((e) => [e.ifindex, e.prefixLen, e.scope, e.flags, e.ifname])).toEqual([
      [3, 64, 0x20, 0x80, "eth0"],
      [3, 64, 0, 0x02, "eth0"],
    ]);
    expect(got[0]!.addr[0]).toBe(0xfe);
    expect(got[1]!.addr[15]).toBe(0x00);
    expect(got[1]!.addr[14]).toBe(0x01);
  });

  const noSetpriv = !isRoot ? "needs root to drop to nobody" : missing({ commands: ["setpriv"] });
  test.skipIf(noSetpriv !== undefined)(
    `EPERM on a raw socket is E_NOT_ROOT ${noSetpriv ?? ""}`,
    () => {
      const script = `import("${join(import.meta.dir, "../../native/libc.ts")}").then((m) => {
        try { m.socket(2, 3, 112, "eth0"); } catch (e) { console.log(e.code, m.errnoOf(e)); }
      })`;
      const r = run([
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
        process.execPath, "-e", script,
      ], { env: { HOME: tmpdir() } }); // biome-ignore format: argv
      expect(r.stdout.trim()).toBe("E_NOT_ROOT EPERM");
    },
  );
});
