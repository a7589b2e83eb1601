/**
 * The adapter between the reconciler's records (table.ts: address text, "NAT"/"DR"/"TUN",
 * flag bits) and the netlink codec's (types.ts: address bytes, numeric families). Both
 * directions are total over well-formed input; an address that does not parse is reported as
 * a WireError rather than sent to the kernel as zeros.
 */
import { formatIp, parseIp } from "../net/ip.ts";
import { bitsToFlags, flagsToBits } from "./flags.ts";
import type { Dest, Protocol, Service, TunCsum } from "./table.ts";
import {
  AF_INET,
  AF_INET6,
  type DestCounters,
  type FwdMethod,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type IpvsAf,
  type IpvsDest,
  type IpvsProtocol,
  type IpvsService,
  TUN_F_CSUM,
  TUN_F_REMCSUM,
} from "./types.ts";

export class WireError extends Error {
  override readonly name = "WireError";
}

const PROTO: Readonly<Record<Protocol, IpvsProtocol>> = {
  TCP: IPPROTO_TCP,
  UDP: IPPROTO_UDP,
  SCTP: IPPROTO_SCTP,
};
const FWD: Readonly<Record<Dest["fwd"], FwdMethod>> = { NAT: "nat", DR: "dr", TUN: "tun" };
const CSUM: Readonly<Record<TunCsum, number>> = {
  nocsum: 0,
  csum: TUN_F_CSUM,
  remcsum: TUN_F_REMCSUM,
};

function bytesOf(addr: string, what: string): { af: IpvsAf; bytes: Uint8Array } {
  const ip = parseIp(addr);
  if (!ip) throw new WireError(`${what}: not an IP address: ${addr}`);
  return { af: ip.family === 4 ? AF_INET : AF_INET6, bytes: ip.bytes };
}

export function toWireService(s: Service): IpvsService {
  const af: IpvsAf = s.af === 4 ? AF_INET : AF_INET6;
  const common = {
    scheduler: s.sched,
    flags: bitsToFlags(s.flags),
    timeoutS: s.timeoutS,
    netmask: s.netmask,
    ...(s.peName ? { peName: s.peName } : {}),
  };
  if (s.fwmark > 0) return { key: { af, fwmark: s.fwmark }, ...common };
  if (!s.protocol || !s.addr)
    throw new WireError("service without fwmark needs protocol and address");
  const a = bytesOf(s.addr, "service");
  return { key: { af, protocol: PROTO[s.protocol], addr: a.bytes, port: s.port }, ...common };
}

export function toWireDest(d: Dest): IpvsDest {
  const a = bytesOf(d.addr, "real server");
  const tun =
    d.fwd === "TUN"
      ? {
          tunType: d.tunType ?? "ipip",
          ...(d.tunType === "gue" ? { tunPort: d.tunPort } : {}),
          ...(d.tunType === "gue" || d.tunType === "gre"
            ? { tunFlags: CSUM[d.tunCsum ?? "nocsum"] }
            : {}),
        }
      : {};
  return {
    af: a.af,
    addr: a.bytes,
    port: d.port,
    fwd: FWD[d.fwd],
    weight: d.weight,
    upperThreshold: d.uThreshold,
    lowerThreshold: d.lThreshold,
    ...tun,
  };
}

const PROTO_NAME: Readonly<Record<number, Protocol>> = { 6: "TCP", 17: "UDP", 132: "SCTP" };

/** A service read from the kernel, with its destinations, as a table record. */
export function fromWire(
  s: IpvsService,
  dests: readonly (IpvsDest & Partial<DestCounters>)[],
): Service {
  const k = s.key;
  const fw = "fwmark" in k;
  return {
    af: k.af === AF_INET ? 4 : 6,
    protocol: fw ? null : (PROTO_NAME[k.protocol] ?? null),
    addr: fw ? null : formatIp({ family: k.af === AF_INET ? 4 : 6, bytes: k.addr }),
    port: fw ? 0 : k.port,
    fwmark: fw ? k.fwmark : 0,
    sched: s.scheduler,
    // The kernel reports HASHED on every listed service; the desired table never sets it.
    flags: flagsToBits({ ...s.flags, hashed: false }),
    timeoutS: s.timeoutS,
    netmask: s.netmask,
    peName: s.peName ?? null,
    dests: dests.map(fromWireDest),
  };
}

/**
 * The kernel reports LOCALNODE (our "local") for a real server whose address is local to the
 * director (ip_vs_ctl.c __ip_vs_update_dest); table.ts has no such method, so it reads back as
 * NAT. A reconciler comparing a desired DR/TUN entry to a local address would see a change
 * every time; see the report of issue 6 (I1).
 */
function fromWireDest(d: IpvsDest): Dest {
  const fwd: Dest["fwd"] = d.fwd === "dr" ? "DR" : d.fwd === "tun" ? "TUN" : "NAT";
  const tun = d.fwd === "tun";
  const csum =
    d.tunFlags === undefined
      ? null
      : d.tunFlags & TUN_F_REMCSUM
        ? "remcsum"
        : d.tunFlags & TUN_F_CSUM
          ? "csum"
          : "nocsum";
  return {
    addr: formatIp({ family: d.af === AF_INET ? 4 : 6, bytes: d.addr }),
    port: d.port,
    fwd,
    weight: d.weight,
    uThreshold: d.upperThreshold,
    lThreshold: d.lowerThreshold,
    tunType: tun ? (d.tunType ?? "ipip") : null,
    tunPort: tun ? (d.tunPort ?? 0) : 0,
    tunCsum: tun && (d.tunType === "gue" || d.tunType === "gre") ? csum : null,
  };
}
