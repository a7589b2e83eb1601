/**
 * VRRP sockets and the receive Worker on real raw sockets between two network namespaces
 * (test/io/drivers/client.ts twoHosts: A a0 ↔ B a0p, A a1 ↔ B a1p). Each namespace runs a
 * node.ts driver; adverts are keepalived's own bytes (reference pcaps) with the VRID byte
 * used as a marker. Negative checks are made deterministic by ordering: the packet that
 * must not arrive is sent first, then a control packet on the same path; once the control
 * arrives, anything the first would have produced has arrived too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseIp } from "../../src/core/net/ip.ts";
import { missing } from "../helpers/env.ts";
import type { Netns } from "../helpers/netns.ts";
import { Node, type Packet, twoHosts } from "./drivers/client.ts";

const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

// VRRP messages from the reference pcaps (keepalived 2.2.7), VRID at byte 1.
const V2 = unhex("21 33 96 01 01 01 e2 1f c0 00 02 64 6c 61 62 70 61 73 73 00");
const V3_4 = unhex("31 33 96 01 00 0a d3 c1 c0 00 02 64");
const V3_6 = unhex("31 33 96 01 00 64 00 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 01 00");

function advert(template: Uint8Array, vrid: number): Uint8Array {
  const m = template.slice();
  m[1] = vrid;
  return m;
}

/** IPv4 header (TOS 0xC0, id 0, checksum left to the kernel: man 7 raw) + VRRP message. */
function ipv4(src: string, dst: string, ttl: number, vrrp: Uint8Array): string {
  const p = new Uint8Array(20 + vrrp.length);
  p.set([0x45, 0xc0, p.length >> 8, p.length & 0xff, 0, 0, 0, 0, ttl, 112]);
  p.set(parseIp(src)!.bytes, 12);
  p.set(parseIp(dst)!.bytes, 16);
  p.set(vrrp, 20);
  return hex(p);
}

/** RFC 5798 §5.2.8 checksum over the IPv6 pseudo-header; 0 when the stored one is right. */
function v6Checksum(src: string, dst: string, msg: Uint8Array): number {
  const words = [
    ...parseIp(src)!.bytes,
    ...parseIp(dst)!.bytes,
    0,
    0,
    0,
    msg.length,
    0,
    0,
    0,
    112,
    ...msg,
  ];
  let sum = 0;
  for (let i = 0; i < words.length; i += 2) sum += (words[i]! << 8) | (words[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const vridOf = (p: Packet): number => unhex(p.hex)[p.family === 4 ? 21 : 1]!;
const named = (name: string, vrid?: number) => (p: Packet) =>
  p.name === name && (vrid === undefined || vridOf(p) === vrid);

const skip = missing({ root: true, commands: ["ip", "sysctl"] });
describe.skipIf(skip !== undefined)(`VRRP sockets between namespaces ${skip ?? ""}`, () => {
  let a: Netns | undefined;
  let b: Netns | undefined;
  let A: Node;
  let B: Node;
  let bIndex: Record<string, number> = {};
  let aLinkLocal = "";
  const sources: Record<string, unknown> = {};
  const open = (n: Node, name: string, opts: Record<string, unknown>) =>
    n.ok("open", { name, opts });

  // The sockets most tests share: multicast and unicast, both families, both hosts.
  beforeAll(async () => {
    ({ a, b } = await twoHosts("vs", true));
    A = new Node(a);
    B = new Node(b);
    aLinkLocal = String((await A.ok("info", { ifname: "a0" })).linkLocal);
    for (const ifname of ["a0p", "a1p"])
      bIndex[ifname] = Number((await B.ok("info", { ifname })).ifindex);
    // name → [options, A's source, B's source] (unicast binds to the configured source).
    const socks: [string, Record<string, unknown>, string?, string?][] = [
      ["m4", { family: 4, unicast: false }],
      ["m6", { family: 6, unicast: false }],
      ["u4", { family: 4, unicast: true }, "192.0.2.1", "192.0.2.2"],
      ["u6", { family: 6, unicast: true, ttl: 7 }, "2001:db8::1", "2001:db8::2"],
    ];
    for (const [name, opts, srcA, srcB] of socks) {
      await open(B, name, { ifname: "a0p", ...opts, ...(srcB ? { sourceAddress: srcB } : {}) });
      await B.ok("listen", { name });
      const sent = await open(A, name, {
        ifname: "a0",
        ...opts,
        ...(srcA ? { sourceAddress: srcA } : {}),
      });
      sources[name] = sent.source;
    }
  }, 20_000);

  afterAll(async () => {
    await A?.quit();
    await B?.quit();
    a?.remove();
    b?.remove();
    bIndex = {};
  });

  test("IPv4 multicast v2 and v3 adverts arrive with TTL 255, src, group and ifindex", async () => {
    expect(sources.m4).toBe("192.0.2.1"); // the interface's primary address
    for (const [vrid, tmpl] of [
      [41, V2],
      [42, V3_4],
    ] as const) {
      const bytes = ipv4("192.0.2.1", "224.0.0.18", 255, advert(tmpl, vrid));
      await A.ok("send", { name: "m4", hex: bytes, dst: "224.0.0.18" });
      const p = await B.packet(named("m4", vrid));
      expect(p).toMatchObject({ family: 4, src: "192.0.2.1", dst: "224.0.0.18", ttl: 255 });
      expect(p.ifindex).toBe(bIndex.a0p!);
      expect(p.truncated).toBe(false);
      // The kernel keeps our header but fills in the checksum (man 7 raw, IP_HDRINCL).
      expect(p.hex.slice(40)).toBe(bytes.slice(40));
      expect(p.hex.slice(2, 4)).toBe("c0");
    }
  });

  test("IPv6 multicast: hop limit 255 from the link-local source, kernel checksum verifies", async () => {
    expect(sources.m6).toBe(aLinkLocal);
    await A.ok("send", { name: "m6", hex: hex(advert(V3_6, 43)), dst: "ff02::12" });
    const p = await B.packet(named("m6", 43));
    expect(p).toMatchObject({ family: 6, src: aLinkLocal, dst: "ff02::12", ttl: 255 });
    expect(p.ifindex).toBe(bIndex.a0p!);
    const got = unhex(p.hex);
    expect(v6Checksum(p.src, "ff02::12", got)).toBe(0);
    got.set([0, 0], 6);
    expect(hex(got)).toBe(hex(advert(V3_6, 43)));
  });

  test("one receiver keeps each packet's own addresses across families", async () => {
    // Sent interleaved; recvmsg reuses one name/control buffer for all sockets.
    for (let i = 0; i < 3; i++) {
      await A.ok("send", {
        name: "m4",
        hex: ipv4("192.0.2.1", "224.0.0.18", 255, advert(V2, 50 + i)),
        dst: "224.0.0.18",
      });
      await A.ok("send", { name: "m6", hex: hex(advert(V3_6, 60 + i)), dst: "ff02::12" });
    }
    for (let i = 0; i < 3; i++) {
      expect(await B.packet(named("m4", 50 + i))).toMatchObject({
        src: "192.0.2.1",
        dst: "224.0.0.18",
      });
      expect(await B.packet(named("m6", 60 + i))).toMatchObject({
        src: aLinkLocal,
        dst: "ff02::12",
      });
    }
  });

  test("unicast IPv4 and IPv6 (hop limit from config) reach the bound address", async () => {
    await A.ok("send", {
      name: "u4",
      hex: ipv4("192.0.2.1", "192.0.2.2", 200, advert(V3_4, 71)),
      dst: "192.0.2.2",
    });
    await A.ok("send", { name: "u6", hex: hex(advert(V3_6, 72)), dst: "2001:db8::2" });
    expect(await B.packet(named("u4", 71))).toMatchObject({
      src: "192.0.2.1",
      dst: "192.0.2.2",
      ttl: 200,
    });
    expect(await B.packet(named("u6", 72))).toMatchObject({
      src: "2001:db8::1",
      dst: "2001:db8::2",
      ttl: 7,
    });
    // Bound to the unicast address: the multicast sockets never see unicast, and vice versa.
    expect(B.packets.some((p) => p.name === "m4" && vridOf(p) === 71)).toBe(false);
    expect(B.packets.some((p) => p.name === "u4" && p.dst !== "192.0.2.2")).toBe(false);
  });

  test("SO_BINDTODEVICE keeps out a packet for our address arriving on another interface", async () => {
    a!.ip("route", "add", "192.0.2.2/32", "dev", "a1");
    await open(B, "bd0", { ifname: "a0p", family: 4, unicast: true, sourceAddress: "192.0.2.2" });
    await open(B, "bd1", { ifname: "a1p", family: 4, unicast: true, sourceAddress: "192.0.2.2" });
    await B.ok("listen", { name: "bd0" });
    await B.ok("listen", { name: "bd1" });
    await open(A, "via1", {
      ifname: "a1",
      family: 4,
      unicast: true,
      sourceAddress: "198.51.100.1",
    });
    await A.ok("send", {
      name: "via1",
      hex: ipv4("198.51.100.1", "192.0.2.2", 255, advert(V2, 81)),
      dst: "192.0.2.2",
    });
    // It did arrive at B, on a1p: the socket bound to a1p has it.
    expect((await B.packet(named("bd1", 81))).ifindex).toBe(bIndex.a1p!);
    await A.ok("send", {
      name: "u4",
      hex: ipv4("192.0.2.1", "192.0.2.2", 255, advert(V2, 82)),
      dst: "192.0.2.2",
    });
    await B.packet(named("bd0", 82));
    expect(B.packets.filter(named("bd0")).map(vridOf)).toEqual([82]);
  });

  test("multicast loop is off: the sender does not hear its own advert", async () => {
    await open(A, "lp", { ifname: "a0", family: 4, unicast: false });
    await A.ok("listen", { name: "lp" });
    await A.ok("send", {
      name: "lp",
      hex: ipv4("192.0.2.1", "224.0.0.18", 255, advert(V2, 91)),
      dst: "224.0.0.18",
    });
    await B.packet(named("m4", 91)); // it was sent
    await B.ok("send", {
      name: "m4",
      hex: ipv4("192.0.2.2", "224.0.0.18", 255, advert(V2, 92)),
      dst: "224.0.0.18",
    });
    await A.packet(named("lp", 92));
    expect(A.packets.filter(named("lp")).map(vridOf)).toEqual([92]);
  });

  test("a removed socket is no longer read", async () => {
    await open(B, "rm", { ifname: "a0p", family: 6, unicast: false });
    await B.ok("listen", { name: "rm" });
    await A.ok("send", { name: "m6", hex: hex(advert(V3_6, 101)), dst: "ff02::12" });
    await B.packet(named("rm", 101));
    await B.ok("unlisten", { name: "rm" });
    await A.ok("send", { name: "m6", hex: hex(advert(V3_6, 102)), dst: "ff02::12" });
    await B.packet(named("m6", 102));
    expect(B.packets.filter(named("rm")).map(vridOf)).toEqual([101]);
  });

  test("errors name the interface or address", async () => {
    const r1 = await A.call("open", {
      name: "x",
      opts: { ifname: "nosuch0", family: 4, unicast: false },
    });
    expect(r1).toMatchObject({ ok: false, code: "E_INTERFACE" });
    expect(r1.message).toContain("nosuch0");
    const r2 = await A.call("open", {
      name: "x",
      opts: { ifname: "a0", family: 6, unicast: false, group: "2001:db8::5" },
    });
    expect(r2).toMatchObject({ ok: false, code: "E_SOCKET" });
    expect(r2.message).toContain("not multicast");
    const r3 = await A.call("send", { name: "m4", hex: "00", dst: "2001:db8::2" });
    expect(r3.message).toContain("not an IPv4 address");
  });
});
