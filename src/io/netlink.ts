/**
 * The address manager's kernel side (design §1): virtual addresses, routes, rules and VMAC
 * links through libnl-route-3. Every call is a synchronous rtnetlink round trip on one shared
 * socket; "already so" is success and says so in the NetChange it returns, as keepalived
 * treats EEXIST on add and "not there" on delete. Failures are AgentErrors naming the
 * operation and the object, e.g. "add route 198.51.100.0/24 dev eth0: Invalid input data or
 * parameter".
 */
export type {
  InterfaceAddress,
  NetAddress,
} from "./netlink-addr.ts";
export { addAddress, deleteAddress, findAddresses, listAddresses } from "./netlink-addr.ts";
export type { NetChange, UnchangedReason } from "./netlink-core.ts";
export { closeNetlink, nlCodeOf } from "./netlink-core.ts";
export type { LinkInfo, MacvlanMode, MacvlanSpec, OperState } from "./netlink-link.ts";
export {
  createMacvlan,
  deleteLink,
  linkInfo,
  setLinkDown,
  setLinkUp,
  vrrpMac,
} from "./netlink-link.ts";
export type { NetNexthop, NetRoute } from "./netlink-route.ts";
export { addRoute, deleteRoute } from "./netlink-route.ts";
export type { NetRule } from "./netlink-rule.ts";
export { addRule, deleteRule } from "./netlink-rule.ts";
