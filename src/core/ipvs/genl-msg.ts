/**
 * The IPVS generic-netlink messages as bytes: requests for every command the agent sends and
 * decoders for the replies it reads. Numeric values: Linux include/uapi/linux/ip_vs.h
 * (torvalds/linux). Which attributes go in each request, and in what order, follows
 * keepalived/check/libipvs.c (ipvs_nl_fill_service_attr, ipvs_nl_fill_dest_attr,
 * ipvs_start_daemon/ipvs_stop_daemon, ipvs_set_timeout) — the same order ipvsadm uses, which
 * the golden tests compare against captured ipvsadm traffic.
 *
 * Decoders throw only NlDecodeError (from nlattr.ts), naming the attribute that was wrong.
 */

import { flagsToBits } from "./flags.ts";
import { CA, CMD, DA, DA_AF, DA_TUN, DM, SA, SA_NETMASK, SA_PE_NAME } from "./ipvs-attrs.ts";
import {
  type Attr,
  be16,
  cstring,
  encodeGenl,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NlDecodeError,
  s32,
  u8,
  u16,
  u32,
} from "./nlattr.ts";
import {
  AF_INET,
  FWD_CODE,
  type IpvsDaemon,
  type IpvsDest,
  type IpvsService,
  type IpvsTimeouts,
  type ServiceKey,
  TUN_TYPE_CODE,
} from "./types.ts";

export const IPVS_GENL_NAME = "IPVS";
export const IPVS_GENL_VERSION = 1;

/** union nf_inet_addr: always 16 bytes on the wire, IPv4 in the first 4. */
function inetAddr(addr: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(addr.subarray(0, 16));
  return out;
}

/** The identifying attributes: AF then FWMARK, or PROTOCOL + ADDR + PORT. */
function keyAttrs(k: ServiceKey): Attr[] {
  const af: Attr = { type: SA.AF, value: u16(k.af) };
  if ("fwmark" in k) return [af, { type: SA.FWMARK, value: u32(k.fwmark) }];
  return [
    af,
    { type: SA.PROTOCOL, value: u16(k.protocol) },
    { type: SA.ADDR, value: inetAddr(k.addr) },
    { type: SA.PORT, value: be16(k.port) },
  ];
}

/** The full SERVICE nest (ipvs_nl_fill_service_attr): key, scheduler, [pe], flags, timeout, netmask. */
export function serviceAttr(s: IpvsService): Attr {
  // ip_vs_flags {flags, mask}: mask all ones so SET_SERVICE replaces every flag bit.
  const flags = new Uint8Array(8);
  flags.set(u32(flagsToBits(s.flags)), 0);
  flags.set(u32(0xffffffff), 4);
  const nested: Attr[] = [...keyAttrs(s.key), { type: SA.SCHED, value: cstring(s.scheduler) }];
  if (s.peName) nested.push({ type: SA_PE_NAME, value: cstring(s.peName) });
  nested.push(
    { type: SA.FLAGS, value: flags },
    { type: SA.TIMEOUT, value: u32(s.timeoutS) },
    { type: SA_NETMASK, value: netmaskBytes(s.key.af, s.netmask) },
  );
  return { type: CA.SERVICE, nested };
}

/**
 * The persistence netmask: for IPv4 a mask the kernel reads in network order (ip_vs_ctl.c
 * nla_get_be32; keepalived sends inet_aton's bytes), for IPv6 a prefix length in host order.
 */
function netmaskBytes(af: number, v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, af !== AF_INET);
  return b;
}

/** DEST nest (ipvs_nl_fill_dest_attr); tunnel attributes only for the tunnel method. */
export function destAttr(d: IpvsDest): Attr {
  const nested: Attr[] = [
    { type: DA_AF, value: u16(d.af) },
    { type: DA.ADDR, value: inetAddr(d.addr) },
    { type: DA.PORT, value: be16(d.port) },
    { type: DA.FWD, value: u32(FWD_CODE[d.fwd]) },
    { type: DA.WEIGHT, value: s32(d.weight) },
  ];
  if (d.fwd === "tun") {
    nested.push({ type: DA_TUN.TYPE, value: u8(TUN_TYPE_CODE[d.tunType ?? "ipip"]) });
    // keepalived (libipvs.c) sends the port for GUE and the checksum flags for every
    // tunnel type but IPIP.
    if (d.tunType === "gue") nested.push({ type: DA_TUN.PORT, value: be16(d.tunPort ?? 0) });
    if (d.tunType === "gue" || d.tunType === "gre")
      nested.push({ type: DA_TUN.FLAGS, value: u16(d.tunFlags ?? 0) });
  }
  nested.push(
    { type: DA.U_THRESH, value: u32(d.upperThreshold) },
    { type: DA.L_THRESH, value: u32(d.lowerThreshold) },
  );
  return { type: CA.DEST, nested };
}

/** A request without the nlmsghdr fields the socket decides (family id, seq). */
export interface IpvsRequest {
  readonly cmd: number;
  readonly dump: boolean;
  readonly attrs: readonly Attr[];
}

export const req = {
  newService: (s: IpvsService): IpvsRequest => ({
    cmd: CMD.NEW_SERVICE,
    dump: false,
    attrs: [serviceAttr(s)],
  }),
  setService: (s: IpvsService): IpvsRequest => ({
    cmd: CMD.SET_SERVICE,
    dump: false,
    attrs: [serviceAttr(s)],
  }),
  delService: (s: IpvsService): IpvsRequest => ({
    cmd: CMD.DEL_SERVICE,
    dump: false,
    attrs: [serviceAttr(s)],
  }),
  /** One service by key (keepalived's ipvs_get_service sends only the key). */
  getService: (k: ServiceKey): IpvsRequest => ({
    cmd: CMD.GET_SERVICE,
    dump: false,
    attrs: [{ type: CA.SERVICE, nested: keyAttrs(k) }],
  }),
  dumpServices: (): IpvsRequest => ({ cmd: CMD.GET_SERVICE, dump: true, attrs: [] }),
  newDest: (s: IpvsService, d: IpvsDest): IpvsRequest => destReq(CMD.NEW_DEST, s, d),
  setDest: (s: IpvsService, d: IpvsDest): IpvsRequest => destReq(CMD.SET_DEST, s, d),
  delDest: (s: IpvsService, d: IpvsDest): IpvsRequest => destReq(CMD.DEL_DEST, s, d),
  dumpDests: (k: ServiceKey): IpvsRequest => ({
    cmd: CMD.GET_DEST,
    dump: true,
    attrs: [{ type: CA.SERVICE, nested: keyAttrs(k) }],
  }),
  flush: (): IpvsRequest => ({ cmd: CMD.FLUSH, dump: false, attrs: [] }),
  getInfo: (): IpvsRequest => ({ cmd: CMD.GET_INFO, dump: false, attrs: [] }),
  getConfig: (): IpvsRequest => ({ cmd: CMD.GET_CONFIG, dump: false, attrs: [] }),
  /** All three timeouts; 0 leaves that one unchanged (ip_vs_set_timeout skips zeros). */
  setConfig: (t: IpvsTimeouts): IpvsRequest => ({
    cmd: CMD.SET_CONFIG,
    dump: false,
    attrs: [
      { type: CA.TIMEOUT_TCP, value: u32(t.tcpS) },
      { type: CA.TIMEOUT_TCP_FIN, value: u32(t.tcpFinS) },
      { type: CA.TIMEOUT_UDP, value: u32(t.udpS) },
    ],
  }),
  newDaemon: (d: IpvsDaemon): IpvsRequest => ({
    cmd: CMD.NEW_DAEMON,
    dump: false,
    attrs: [daemonAttr(d)],
  }),
  /** ipvs_stop_daemon sends STATE and SYNC_ID; the kernel only reads STATE. */
  delDaemon: (state: "master" | "backup", syncId: number): IpvsRequest => ({
    cmd: CMD.DEL_DAEMON,
    dump: false,
    attrs: [
      {
        type: CA.DAEMON,
        nested: [
          { type: DM.STATE, value: s32(state === "master" ? 1 : 2) },
          { type: DM.SYNC_ID, value: s32(syncId) },
        ],
      },
    ],
  }),
};

function destReq(cmd: number, s: IpvsService, d: IpvsDest): IpvsRequest {
  return { cmd, dump: false, attrs: [serviceAttr(s), destAttr(d)] };
}

function daemonAttr(d: IpvsDaemon): Attr {
  const nested: Attr[] = [
    { type: DM.STATE, value: s32(d.state === "master" ? 1 : 2) },
    { type: DM.IFN, value: cstring(d.mcastIfn) },
    { type: DM.SYNC_ID, value: s32(d.syncId) },
  ];
  if (d.syncMaxLen !== undefined) nested.push({ type: DM.MAXLEN, value: u16(d.syncMaxLen) });
  if (d.mcastPort !== undefined) nested.push({ type: DM.PORT, value: be16(d.mcastPort) });
  if (d.mcastTtl !== undefined) nested.push({ type: DM.TTL, value: u8(d.mcastTtl) });
  if (d.mcastGroup?.length === 16) nested.push({ type: DM.GROUP6, value: d.mcastGroup.slice() });
  else if (d.mcastGroup?.length === 4) nested.push({ type: DM.GROUP, value: d.mcastGroup.slice() });
  return { type: CA.DAEMON, nested };
}

/** The datagram for `r` (NLM_F_REQUEST|NLM_F_ACK, plus NLM_F_DUMP for dumps). */
export function encodeRequest(r: IpvsRequest, familyId: number, seq: number): Uint8Array {
  return encodeGenl({
    familyId,
    flags: NLM_F_REQUEST | NLM_F_ACK | (r.dump ? NLM_F_DUMP : 0),
    seq,
    portId: 0,
    cmd: r.cmd,
    version: IPVS_GENL_VERSION,
    attrs: r.attrs,
  });
}

export { bitsToFlags, flagsToBits } from "./flags.ts";
export * from "./genl-decode.ts";
export { CMD } from "./ipvs-attrs.ts";
export { NlDecodeError };
