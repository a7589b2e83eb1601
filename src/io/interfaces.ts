/** Interface facts the agent needs: its primary address, and whether its link is usable. */
import { interfaceIpv4, interfaceLinkLocal } from "../../native/netif.ts";
import type { IpAddr } from "../core/net/ip.ts";
import { linkInfo } from "./netlink.ts";

/** keepalived's default advert source: the primary IPv4 address, or the IPv6 link-local one. */
export function primaryAddress(ifname: string, family: 4 | 6): IpAddr | undefined {
  try {
    const bytes = family === 4 ? interfaceIpv4(ifname) : interfaceLinkLocal(ifname);
    return bytes ? { family, bytes } : undefined;
  } catch {
    return undefined;
  }
}

/** Up and running (carrier): what keepalived requires to leave FAULT (reference §2.7). */
export function linkUsable(ifname: string): boolean {
  const l = linkInfo(ifname);
  return l?.up === true && l.running;
}
