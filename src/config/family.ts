/**
 * An instance's address family, as keepalived decides it: from the first address of any
 * kind it reads — a virtual address, mcast_src_ip / unicast_src_ip, or a unicast peer
 * (vrrp_parser.c vrrp_srcip_handler, vrrp_data.c alloc_vrrp_unicast_peer). IPv4 otherwise.
 */
interface FamilySources {
  readonly virtual_ipaddress?: readonly { readonly address: string }[];
  readonly mcast_src_ip?: string;
  readonly unicast_src_ip?: string;
  readonly unicast_peer?: readonly { readonly address: string }[];
}

export const familyOfAddress = (addr: string): 4 | 6 => (addr.includes(":") ? 6 : 4);

export function instanceFamily(i: FamilySources): 4 | 6 {
  const first =
    i.virtual_ipaddress?.[0]?.address ??
    i.unicast_src_ip ??
    i.mcast_src_ip ??
    i.unicast_peer?.[0]?.address;
  return first === undefined ? 4 : familyOfAddress(first);
}
