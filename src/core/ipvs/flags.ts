/** struct ip_vs_flags bits (IP_VS_SVC_F_*, Linux include/uapi/linux/ip_vs.h) <-> ServiceFlags. */
import {
  type ServiceFlags,
  SVC_F_HASHED,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  SVC_F_SCHED1,
  SVC_F_SCHED2,
  SVC_F_SCHED3,
} from "./types.ts";

export function flagsToBits(f: ServiceFlags): number {
  return (
    (f.persistent ? SVC_F_PERSISTENT : 0) |
    (f.hashed ? SVC_F_HASHED : 0) |
    (f.onePacket ? SVC_F_ONEPACKET : 0) |
    (f.sched1 ? SVC_F_SCHED1 : 0) |
    (f.sched2 ? SVC_F_SCHED2 : 0) |
    (f.sched3 ? SVC_F_SCHED3 : 0)
  );
}

export function bitsToFlags(bits: number): ServiceFlags {
  const f: { -readonly [K in keyof ServiceFlags]: boolean } = {};
  if (bits & SVC_F_PERSISTENT) f.persistent = true;
  if (bits & SVC_F_HASHED) f.hashed = true;
  if (bits & SVC_F_ONEPACKET) f.onePacket = true;
  if (bits & SVC_F_SCHED1) f.sched1 = true;
  if (bits & SVC_F_SCHED2) f.sched2 = true;
  if (bits & SVC_F_SCHED3) f.sched3 = true;
  return f;
}
