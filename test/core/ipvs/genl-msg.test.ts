/**
 * Golden bytes for the IPVS generic-netlink codec. Two independent sources:
 *  - ipvsadm's own messages, captured in the User-mode-Linux guest (ipvsadm-capture.ts);
 *  - hex annotated by hand from the attribute table of Linux include/uapi/linux/ip_vs.h.
 * Plus decoding of the kernel's captured replies, and a seeded mutation fuzz of the decoders
 * (FUZZ_SEED replays a run, FUZZ_CASES scales it).
 */
import { describe, expect, test } from "bun:test";
import {
  CMD,
  decodeConfig,
  decodeDest,
  decodeDestWithStats,
  decodeInfo,
  decodeService,
  decodeServiceWithStats,
  encodeRequest,
  NlDecodeError,
  req,
  serviceAttr,
} from "../../../src/core/ipvs/genl-msg.ts";
import { SA_NETMASK } from "../../../src/core/ipvs/ipvs-attrs.ts";
import { encodeAttrs, parseAttrs, splitMessages } from "../../../src/core/ipvs/nlattr.ts";
import {
  AF_INET,
  AF_INET6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type IpvsDest,
  type IpvsService,
} from "../../../src/core/ipvs/types.ts";
import { mulberry32 } from "../../../src/core/prng.ts";
import { CAPTURE } from "./ipvsadm-capture.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array =>
  new Uint8Array(Buffer.from(s.replace(/[^0-9a-f]/gi, ""), "hex"));
/** Hex annotated line by line: what follows `#` on a line is a comment. */
const annotated = (s: string): Uint8Array => unhex(s.replace(/#[^\n]*/g, ""));
/** Our request's genl payload: everything after the 16-byte nlmsghdr. */
const genlOf = (r: ReturnType<(typeof req)["flush"]>): string =>
  hex(encodeRequest(r, 0x1c, 1).subarray(16));

function captured(cmd: string, dir: "sent" | "received", i = 0): string {
  const all = CAPTURE.filter((c) => c.cmd === cmd && c.dir === dir);
  const c = all[i];
  if (!c) throw new Error(`no capture #${i} ${dir} for ${cmd}`);
  return c.hex;
}

/**
 * ipvsadm always sends TUN_TYPE/TUN_PORT/TUN_FLAGS (13/14/15) in the DEST nest, zero for
 * non-tunnel methods; keepalived (ipvs_nl_fill_dest_attr) and we send them only for TUN.
 * This walker (independent of nlattr.ts) drops them from a captured genl payload.
 */
function withoutTunAttrs(genlHex: string): string {
  const b = unhex(genlHex);
  const v = new DataView(b.buffer);
  const out: number[] = [...b.subarray(0, 4)];
  let off = 4;
  while (off < b.length) {
    const len = v.getUint16(off, true);
    const type = v.getUint16(off + 2, true);
    const padded = (len + 3) & ~3;
    if ((type & 0x3fff) !== 2) out.push(...b.subarray(off, off + padded));
    else {
      const kept: number[] = [];
      for (let o = off + 4; o < off + len; ) {
        const l = v.getUint16(o, true);
        const t = v.getUint16(o + 2, true);
        if (t < 13 || t > 15) kept.push(...b.subarray(o, o + ((l + 3) & ~3)));
        o += (l + 3) & ~3;
      }
      const n = kept.length + 4;
      out.push(n & 0xff, n >> 8, type & 0xff, type >> 8, ...kept);
    }
    off += padded;
  }
  return hex(Uint8Array.from(out));
}

const v4 = (...b: number[]) => Uint8Array.from(b);
const v6 = (s: string): Uint8Array => unhex(s);
const tcp80: IpvsService = {
  key: { af: AF_INET, protocol: IPPROTO_TCP, addr: v4(192, 0, 2, 1), port: 80 },
  scheduler: "rr",
  flags: {},
  timeoutS: 0,
  netmask: 0xffffffff,
};
/** ipvsadm's service in dest commands: key with an empty scheduler name. */
const tcp80Bare: IpvsService = { ...tcp80, scheduler: "" };
const natDest = (last: number, weight: number, u = 0, l = 0): IpvsDest => ({
  af: AF_INET,
  addr: v4(198, 51, 100, last),
  port: 8080,
  fwd: "nat",
  weight,
  upperThreshold: u,
  lowerThreshold: l,
});
const udp6: IpvsService = {
  key: {
    af: AF_INET6,
    protocol: IPPROTO_UDP,
    addr: v6("20010db8000000000000000000000001"),
    port: 53,
  },
  scheduler: "rr",
  flags: { onePacket: true },
  timeoutS: 0,
  netmask: 128,
};

describe("requests equal ipvsadm's captured bytes", () => {
  test("NEW_SERVICE tcp 192.0.2.1:80 rr", () => {
    expect(genlOf(req.newService(tcp80))).toBe(
      captured("ipvsadm -A -t 192.0.2.1:80 -s rr", "sent"),
    );
  });
  test("SET_SERVICE wlc persistent 300 s", () => {
    const s: IpvsService = {
      ...tcp80,
      scheduler: "wlc",
      flags: { persistent: true },
      timeoutS: 300,
    };
    expect(genlOf(req.setService(s))).toBe(
      captured("ipvsadm -E -t 192.0.2.1:80 -s wlc -p 300", "sent"),
    );
  });
  test("NEW_SERVICE fwmark 42 sh with sh-fallback,sh-port", () => {
    const s: IpvsService = {
      key: { af: AF_INET, fwmark: 42 },
      scheduler: "sh",
      flags: { sched1: true, sched2: true },
      timeoutS: 0,
      netmask: 0xffffffff,
    };
    expect(genlOf(req.newService(s))).toBe(
      captured("ipvsadm -A -f 42 -s sh -b sh-fallback,sh-port", "sent"),
    );
  });
  test("NEW_SERVICE udp [2001:db8::1]:53 one-packet, netmask 128", () => {
    expect(genlOf(req.newService(udp6))).toBe(
      captured("ipvsadm -A -u [2001:db8::1]:53 -s rr -o", "sent"),
    );
  });
  test("DEL_SERVICE fwmark 42", () => {
    const s: IpvsService = {
      key: { af: AF_INET, fwmark: 42 },
      scheduler: "",
      flags: {},
      timeoutS: 0,
      netmask: 0xffffffff,
    };
    expect(genlOf(req.delService(s))).toBe(captured("ipvsadm -D -f 42", "sent"));
  });
  test("NEW_DEST NAT weight 3, and with thresholds 100/10", () => {
    const a = "ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.10:8080 -m -w 3";
    expect(genlOf(req.newDest(tcp80Bare, natDest(10, 3)))).toBe(
      withoutTunAttrs(captured(a, "sent")),
    );
    const b = "ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.11:8080 -m -w 1 -x 100 -y 10";
    expect(genlOf(req.newDest(tcp80Bare, natDest(11, 1, 100, 10)))).toBe(
      withoutTunAttrs(captured(b, "sent")),
    );
  });
  test("SET_DEST weight 5 and DEL_DEST", () => {
    const e = "ipvsadm -e -t 192.0.2.1:80 -r 198.51.100.10:8080 -m -w 5";
    expect(genlOf(req.setDest(tcp80Bare, natDest(10, 5)))).toBe(
      withoutTunAttrs(captured(e, "sent")),
    );
    // ipvsadm -d leaves the method at its default, DR, and the weight at 1.
    const d = "ipvsadm -d -t 192.0.2.1:80 -r 198.51.100.11:8080";
    expect(genlOf(req.delDest(tcp80Bare, { ...natDest(11, 1), fwd: "dr" }))).toBe(
      withoutTunAttrs(captured(d, "sent")),
    );
  });
  test("NEW_DEST IPv6 DR weight 2", () => {
    const dest: IpvsDest = {
      af: AF_INET6,
      addr: v6("20010db8000000000000000000000010"),
      port: 53,
      fwd: "dr",
      weight: 2,
      upperThreshold: 0,
      lowerThreshold: 0,
    };
    const svc: IpvsService = { ...udp6, scheduler: "", flags: {} };
    const c = "ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::10]:53 -g -w 2";
    expect(genlOf(req.newDest(svc, dest))).toBe(withoutTunAttrs(captured(c, "sent")));
  });
  test("GET_DEST dump by key, GET_SERVICE dump, GET_CONFIG, SET_CONFIG, FLUSH, NEW_DAEMON", () => {
    expect(genlOf(req.dumpDests(tcp80.key))).toBe(
      captured("ipvsadm -Ln -t 192.0.2.1:80", "sent", 1),
    );
    expect(genlOf(req.dumpServices())).toBe(captured("ipvsadm -Ln", "sent", 0));
    expect(genlOf(req.getConfig())).toBe(captured("ipvsadm -L --timeout", "sent"));
    expect(genlOf(req.setConfig({ tcpS: 900, tcpFinS: 120, udpS: 300 }))).toBe(
      captured("ipvsadm --set 900 120 300", "sent"),
    );
    expect(genlOf(req.flush())).toBe(captured("ipvsadm -C", "sent"));
    expect(genlOf(req.newDaemon({ state: "master", mcastIfn: "lo", syncId: 5 }))).toBe(
      captured("ipvsadm --start-daemon master --mcast-interface lo --syncid 5", "sent"),
    );
    // nlmsg flags as strace decoded them: dumps add NLM_F_DUMP (0x300).
    expect(CAPTURE.find((c) => c.hex === genlOf(req.dumpServices()))?.nlmsgFlags).toBe(
      "NLM_F_REQUEST|NLM_F_ACK|0x300",
    );
    expect(encodeRequest(req.dumpServices(), 0x1c, 1)[6]).toBe(0x05);
    expect(encodeRequest(req.dumpServices(), 0x1c, 1)[7]).toBe(0x03);
  });
});

describe("requests equal hex annotated from uapi ip_vs.h", () => {
  test("whole FLUSH datagram: nlmsghdr + genlmsghdr", () => {
    const want = annotated(`
      14000000  # nlmsg_len 20
      1c00     # nlmsg_type = family id 0x1c
      0500     # NLM_F_REQUEST|NLM_F_ACK
      07000000  # seq 7
      00000000  # port id 0: the kernel fills it in
      11 01 0000  # cmd IPVS_CMD_FLUSH (17), version 1, reserved`);
    expect(hex(encodeRequest(req.flush(), 0x1c, 7))).toBe(hex(want));
  });
  test("GET_SERVICE (single) sends only the key", () => {
    const want = `
      04 01 0000                # IPVS_CMD_GET_SERVICE v1
      3000 0180                 # IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, len 48
      0600 0100 0200 0000       # SVC_ATTR_AF u16 2 + pad
      0600 0200 0600 0000       # SVC_ATTR_PROTOCOL u16 6 (TCP)
      1400 0300 c0000201 000000000000000000000000  # SVC_ATTR_ADDR nf_inet_addr
      0600 0400 0050 0000       # SVC_ATTR_PORT be16 80`;
    expect(genlOf(req.getService(tcp80.key))).toBe(hex(annotated(want)));
  });
  test("DEL_DAEMON backup, sync id 9", () => {
    const want = `
      0a 01 0000                # IPVS_CMD_DEL_DAEMON v1
      1400 0380                 # IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED, len 20
      0800 0100 02000000        # DAEMON_ATTR_STATE s32 2 (IP_VS_STATE_BACKUP)
      0800 0300 09000000        # DAEMON_ATTR_SYNC_ID s32 9`;
    expect(genlOf(req.delDaemon("backup", 9))).toBe(hex(annotated(want)));
  });
  test("NEW_DEST tunnel GUE on a fwmark service", () => {
    const svc: IpvsService = {
      key: { af: AF_INET, fwmark: 7 },
      scheduler: "rr",
      flags: {},
      timeoutS: 0,
      netmask: 0xffffffff,
    };
    const dest: IpvsDest = {
      af: AF_INET,
      addr: v4(203, 0, 113, 5),
      port: 0,
      fwd: "tun",
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunType: "gue",
      tunPort: 6080,
      tunFlags: 1,
    };
    const want = `
      05 01 0000                # IPVS_CMD_NEW_DEST v1
      3800 0180                 # SERVICE nest, len 56
      0600 0100 0200 0000       # AF 2
      0800 0500 07000000        # FWMARK 7
      0700 0600 72720000        # SCHED_NAME "rr\\0" + pad
      0c00 0700 00000000 ffffffff  # FLAGS {flags 0, mask ~0}
      0800 0800 00000000        # TIMEOUT 0
      0800 0900 ffffffff        # NETMASK
      6000 0280                 # DEST nest, len 96
      0600 0b00 0200 0000       # DEST_ATTR_ADDR_FAMILY 2
      1400 0100 cb007105 000000000000000000000000  # ADDR 203.0.113.5
      0600 0200 0000 0000       # PORT be16 0
      0800 0300 02000000        # FWD_METHOD 2 (IP_VS_CONN_F_TUNNEL)
      0800 0400 01000000        # WEIGHT 1
      0500 0d00 01000000        # TUN_TYPE u8 1 (GUE) + pad
      0600 0e00 17c0 0000       # TUN_PORT be16 6080
      0600 0f00 0100 0000       # TUN_FLAGS u16 1 (CSUM)
      0800 0500 00000000        # U_THRESH
      0800 0600 00000000        # L_THRESH`;
    expect(genlOf(req.newDest(svc, dest))).toBe(hex(annotated(want)));
  });
  test("command numbers", () => {
    expect([CMD.NEW_SERVICE, CMD.GET_DEST, CMD.SET_CONFIG, CMD.GET_INFO, CMD.FLUSH]).toEqual([
      1, 8, 12, 15, 17,
    ]);
  });
});

/** The attribute bytes of a captured reply (after its 4-byte genlmsghdr). */
const replyAttrs = (cmd: string, i: number): Uint8Array =>
  unhex(captured(cmd, "received", i)).subarray(4);

describe("decoding the kernel's captured replies", () => {
  test("GET_INFO: version 1.2.1, 4096 buckets", () => {
    expect(decodeInfo(replyAttrs("ipvsadm -Ln", 0))).toEqual({
      version: 0x010201,
      connTabSize: 4096,
    });
  });
  test("GET_SERVICE dump: three services", () => {
    const [a, b, c] = [1, 2, 3].map((i) => decodeService(replyAttrs("ipvsadm -Ln", i)));
    expect(a).toEqual({
      key: { af: AF_INET, protocol: IPPROTO_TCP, addr: v4(192, 0, 2, 1), port: 80 },
      scheduler: "wlc",
      flags: { persistent: true, hashed: true },
      timeoutS: 300,
      netmask: 0xffffffff,
    });
    expect(b).toEqual({ ...udp6, flags: { onePacket: true, hashed: true } });
    expect(c).toEqual({
      key: { af: AF_INET, fwmark: 42 },
      scheduler: "sh",
      flags: { hashed: true, sched1: true, sched2: true },
      timeoutS: 0,
      netmask: 0xffffffff,
    });
  });
  test("GET_DEST dump: weights, thresholds, counters, IPv6 DR", () => {
    const d11 = decodeDest(replyAttrs("ipvsadm -Ln", 4), AF_INET);
    expect(d11).toEqual({
      ...natDest(11, 1, 100, 10),
      activeConns: 0,
      inactiveConns: 0,
      persistConns: 0,
    });
    const d10 = decodeDest(replyAttrs("ipvsadm -Ln", 5), AF_INET);
    expect(d10.weight).toBe(5);
    const d6 = decodeDest(replyAttrs("ipvsadm -Ln", 6), AF_INET6);
    expect(d6).toMatchObject({ af: AF_INET6, port: 53, fwd: "dr", weight: 2 });
    expect(hex(d6.addr)).toBe("20010db8000000000000000000000010");
  });
  test("GET_CONFIG: 900/120/300", () => {
    expect(decodeConfig(replyAttrs("ipvsadm -L --timeout", 0))).toEqual({
      tcpS: 900,
      tcpFinS: 120,
      udpS: 300,
    });
  });
  test("splitMessages: ack, errno with extack, done, multi-message datagram", () => {
    const ack = unhex(
      "24000000 0200 0001 05000000 00000000  00000000  14000000 1c00 0500 05000000 00000000",
    );
    const err = unhex(
      "2c000000 0200 0003 06000000 00000000  efffffff  14000000 1c00 0500 06000000 00000000  0800 0100 62616400",
    );
    const done = unhex("14000000 0300 0200 07000000 00000000 00000000");
    const all = new Uint8Array([...ack, ...err, ...done]);
    expect(splitMessages(all)).toEqual([
      { kind: "ack", seq: 5 },
      { kind: "error", seq: 6, errno: 17, extack: "bad" },
      { kind: "done", seq: 7 },
    ]);
    expect(() => splitMessages(ack.subarray(0, 10))).toThrow(NlDecodeError);
  });
  test("a missing attribute names itself", () => {
    // SERVICE nest holding only AF: the decoder must say PROTOCOL is missing.
    const b = unhex("0c00 0180 0600 0100 0200 0000");
    expect(() => decodeService(b)).toThrow("SERVICE.PROTOCOL: missing");
  });
});

/**
 * Dumps with traffic counters, from Linux 6.1.176 in the UML guest after five connections
 * through TCP 192.0.2.1:32939 (test/vm/ipvs-counters.ts --capture), taken in the same
 * estimator period as `ipvsadm -Ln --stats --exact` / `--rate --exact`, which printed:
 *   TCP  192.0.2.1:32939       5   30   20   25710   1400  |  1   4   2   3214   175
 *   -> 198.51.100.1:32939      5   30   20   25710   1400  |  1   4   2   3214   175
 *   -> 198.51.100.2:32939      0    0    0       0      0  |  0   0   0      0     0
 * Each carries both the 32-bit STATS nest (10) and STATS64 (12), with PAD (11) before u64s.
 */
const STATS_DUMP = {
  service: [
    "01010000540101000600010002000000060002000600000014000300c0000201000000000000000000000000",
    "0600040080ab000008000600777272000c00070002000000ffffffff080008000000000008000900ffffffff",
    "60000a000800010005000000080002001e00000008000300140000000c0004006e6400000000000004000b00",
    "0c0005007805000000000000080006000100000008000700040000000800080002000000080009008e0c0000",
    "08000a00af000000a0000c000c000100050000000000000004000b000c0002001e0000000000000004000b00",
    "0c000300140000000000000004000b000c0004006e6400000000000004000b000c0005007805000000000000",
    "04000b000c000600010000000000000004000b000c000700040000000000000004000b000c00080002000000",
    "0000000004000b000c0009008e0c00000000000004000b000c000a00af00000000000000",
  ].join(""),
  busyDest: [
    "050100007c01020014000100c63364010000000000000000000000000600020080ab00000800030000000000",
    "080004000100000005000d000000000006000e000000000006000f0000000000080005000000000008000600",
    "0000000008000700000000000800080005000000080009000000000006000b000200000064000a0008000100",
    "05000000080002001e000000080003001400000004000b000c0004006e6400000000000004000b000c000500",
    "7805000000000000080006000100000008000700040000000800080002000000080009008e0c000008000a00",
    "af000000a0000c000c000100050000000000000004000b000c0002001e0000000000000004000b000c000300",
    "140000000000000004000b000c0004006e6400000000000004000b000c000500780500000000000004000b00",
    "0c000600010000000000000004000b000c000700040000000000000004000b000c0008000200000000000000",
    "04000b000c0009008e0c00000000000004000b000c000a00af00000000000000",
  ].join(""),
  idleDest: [
    "050100007c01020014000100c63364020000000000000000000000000600020080ab00000800030000000000",
    "080004000000000005000d000000000006000e000000000006000f0000000000080005000000000008000600",
    "0000000008000700000000000800080000000000080009000000000006000b000200000064000a0008000100",
    "000000000800020000000000080003000000000004000b000c000400000000000000000004000b000c000500",
    "0000000000000000080006000000000008000700000000000800080000000000080009000000000008000a00",
    "00000000a0000c000c000100000000000000000004000b000c000200000000000000000004000b000c000300",
    "000000000000000004000b000c000400000000000000000004000b000c000500000000000000000004000b00",
    "0c000600000000000000000004000b000c000700000000000000000004000b000c0008000000000000000000",
    "04000b000c000900000000000000000004000b000c000a000000000000000000",
  ].join(""),
};
const FIVE_CONNS = {
  conns: 5,
  inPkts: 30,
  outPkts: 20,
  inBytes: 25710,
  outBytes: 1400,
  cps: 1,
  inPps: 4,
  outPps: 2,
  inBps: 3214,
  outBps: 175,
};

/** A captured reply with attribute `drop` removed from its one top-level nest. */
function withoutNested(genlHex: string, drop: number): Uint8Array {
  const top = parseAttrs(unhex(genlHex).subarray(4), "t");
  const [[type, nest]] = [...top] as [[number, Uint8Array]];
  const kept = [...parseAttrs(nest, "t")]
    .filter(([t]) => t !== drop)
    .map(([t, value]) => ({ type: t, value }));
  return encodeAttrs([{ type, nested: kept }]);
}

describe("decoding captured dumps with traffic counters", () => {
  test("STATS64 of the service and both real servers equal ipvsadm's columns", () => {
    const svc = decodeServiceWithStats(unhex(STATS_DUMP.service).subarray(4));
    expect(svc.stats).toEqual(FIVE_CONNS);
    expect(svc.key).toMatchObject({ port: 32939 });
    const busy = decodeDestWithStats(unhex(STATS_DUMP.busyDest).subarray(4), AF_INET);
    expect(busy.stats).toEqual(FIVE_CONNS);
    expect(busy).toMatchObject({ weight: 1, activeConns: 0, inactiveConns: 5 });
    const idle = decodeDestWithStats(unhex(STATS_DUMP.idleDest).subarray(4), AF_INET);
    expect(idle.weight).toBe(0);
    expect(Object.values(idle.stats ?? { missing: 1 })).toEqual(new Array(10).fill(0));
  });
  test("the kernel's 32-bit STATS nest alone gives the same numbers", () => {
    expect(decodeServiceWithStats(withoutNested(STATS_DUMP.service, 12)).stats).toEqual(FIVE_CONNS);
    expect(decodeDestWithStats(withoutNested(STATS_DUMP.busyDest, 12), AF_INET).stats).toEqual(
      FIVE_CONNS,
    );
  });
  test("without either nest there are no stats; the plain decoders never add them", () => {
    const bare = withoutNested(STATS_DUMP.service, 12);
    const none = encodeAttrs([
      {
        type: 1,
        nested: [...parseAttrs(parseAttrs(bare, "t").get(1) as Uint8Array, "t")]
          .filter(([t]) => t !== 10)
          .map(([type, value]) => ({ type, value })),
      },
    ]);
    expect("stats" in decodeServiceWithStats(none)).toBe(false);
    expect("stats" in decodeService(unhex(STATS_DUMP.service).subarray(4))).toBe(false);
  });
});

const SEED = Number(process.env.FUZZ_SEED ?? 0x1f5) >>> 0;
const CASES = Number(process.env.FUZZ_CASES ?? 20000);

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const b = Uint8Array.from(src);
  const pick = (n: number) => Math.floor(rnd() * n);
  const ops = 1 + pick(4);
  let out = b;
  for (let k = 0; k < ops; k++) {
    const op = pick(5);
    if (op === 0 && out.length) out[pick(out.length)] = pick(256);
    else if (op === 1) out = out.subarray(0, pick(out.length + 1));
    else if (op === 2 && out.length >= 2) {
      // an attribute length field: aligned offsets are where nla_len lives
      const at = pick(out.length >> 2) * 4;
      out[at] = pick(256);
      if (at + 1 < out.length) out[at + 1] = pick(4);
    } else if (op === 3)
      out = Uint8Array.from([...out, ...Array.from({ length: pick(12) }, () => pick(256))]);
    else if (op === 4 && out.length) {
      const at = pick(out.length);
      out[at] = (out[at] ?? 0) ^ (1 << pick(8));
    }
  }
  return out;
}

test(`decoders throw only NlDecodeError on ${CASES} mutated replies (FUZZ_SEED=${SEED})`, () => {
  console.log(`genl-msg fuzz: FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}`);
  const corpus = CAPTURE.filter((c) => c.dir === "received").map((c) => unhex(c.hex).subarray(4));
  // Dumps with non-zero counters (STATS and STATS64 nests, PAD attributes).
  corpus.push(...Object.values(STATS_DUMP).map((h) => unhex(h).subarray(4)));
  const rnd = mulberry32(SEED);
  const decoders = [
    (b: Uint8Array) => decodeService(b),
    (b: Uint8Array) => decodeDest(b, AF_INET),
    (b: Uint8Array) => decodeServiceWithStats(b),
    (b: Uint8Array) => decodeDestWithStats(b, AF_INET6),
    (b: Uint8Array) => decodeInfo(b),
    (b: Uint8Array) => decodeConfig(b),
    (b: Uint8Array) => {
      // whole datagram: nlmsghdr (maybe lying about the length) + genl header + attrs
      const d = new Uint8Array(20 + b.length);
      new DataView(d.buffer).setUint32(0, rnd() < 0.8 ? d.length : Math.floor(rnd() * 400), true);
      d.set(b, 20);
      return splitMessages(d);
    },
  ];
  let ok = 0;
  let rejected = 0;
  for (let i = 0; i < CASES; i++) {
    const base = corpus[Math.floor(rnd() * corpus.length)] ?? new Uint8Array();
    const m = mutate(base, rnd);
    for (const f of decoders) {
      try {
        f(m);
        ok++;
      } catch (e) {
        if (!(e instanceof NlDecodeError))
          throw new Error(
            `FUZZ_SEED=${SEED} case ${i} (${hex(m)}): ${e instanceof Error ? e.stack : String(e)}`,
          );
        rejected++;
      }
    }
  }
  console.log(`genl-msg fuzz: ${ok} decoded, ${rejected} rejected with NlDecodeError`);
  expect(ok).toBeGreaterThan(0);
  expect(rejected).toBeGreaterThan(0);
});

describe("persistence netmask byte order (ip_vs_ctl.c reads it with nla_get_be32 for IPv4)", () => {
  /** The NETMASK attribute of a SERVICE nest, as bytes on the wire, and the decoded value. */
  const netmaskOf = (s: IpvsService) => {
    const nest = encodeAttrs([serviceAttr(s)]);
    const inner = parseAttrs(nest, "test").get(serviceAttr(s).type) as Uint8Array;
    return {
      wire: hex(parseAttrs(inner, "SERVICE").get(SA_NETMASK) as Uint8Array),
      decoded: decodeService(nest).netmask,
    };
  };

  test("IPv4 255.255.255.0 goes out as ff ff ff 00 and reads back the same", () => {
    expect(netmaskOf({ ...tcp80, netmask: 0xffffff00 })).toEqual({
      wire: "ffffff00",
      decoded: 0xffffff00,
    });
  });

  test("IPv6 prefix length 64 goes out in host order", () => {
    expect(netmaskOf({ ...udp6, netmask: 64 })).toEqual({ wire: "40000000", decoded: 64 });
  });
});
