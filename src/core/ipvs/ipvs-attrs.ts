/** Numeric values of the IPVS generic-netlink family: Linux include/uapi/linux/ip_vs.h. */

/** enum IPVS_CMD_* (uapi ip_vs.h). */
export const CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;

/** IPVS_CMD_ATTR_*, IPVS_SVC_ATTR_*, IPVS_DEST_ATTR_*, IPVS_DAEMON_ATTR_*, IPVS_INFO_ATTR_*. */
export const CA = {
  SERVICE: 1,
  DEST: 2,
  DAEMON: 3,
  TIMEOUT_TCP: 4,
  TIMEOUT_TCP_FIN: 5,
  TIMEOUT_UDP: 6,
};
export const SA = {
  AF: 1,
  PROTOCOL: 2,
  ADDR: 3,
  PORT: 4,
  FWMARK: 5,
  SCHED: 6,
  FLAGS: 7,
  TIMEOUT: 8,
};
export const SA_NETMASK = 9;
export const SA_PE_NAME = 11;
/** IPVS_SVC_ATTR_STATS (32-bit counters) and IPVS_SVC_ATTR_STATS64 (Linux 4.1+), both nests. */
export const SA_STATS = 10;
export const SA_STATS64 = 12;
export const DA = { ADDR: 1, PORT: 2, FWD: 3, WEIGHT: 4, U_THRESH: 5, L_THRESH: 6, ACTIVE: 7 };
export const DA_INACT = 8;
export const DA_PERSIST = 9;
export const DA_AF = 11;
/** IPVS_DEST_ATTR_STATS and IPVS_DEST_ATTR_STATS64, nests of IPVS_STATS_ATTR_*. */
export const DA_STATS = 10;
export const DA_STATS64 = 12;
export const DA_TUN = { TYPE: 13, PORT: 14, FLAGS: 15 };
export const DM = { STATE: 1, IFN: 2, SYNC_ID: 3, MAXLEN: 4, GROUP: 5, GROUP6: 6, PORT: 7, TTL: 8 };
/**
 * IPVS_STATS_ATTR_* inside a STATS / STATS64 nest. In STATS64 every value is a u64; in the
 * older STATS nest INBYTES/OUTBYTES are u64 and the rest u32 (net/netfilter/ipvs/ip_vs_ctl.c
 * ip_vs_genl_fill_stats, ip_vs_genl_fill_stats64). PAD only aligns the u64s.
 */
export const STATS = {
  CONNS: 1,
  INPKTS: 2,
  OUTPKTS: 3,
  INBYTES: 4,
  OUTBYTES: 5,
  CPS: 6,
  INPPS: 7,
  OUTPPS: 8,
  INBPS: 9,
  OUTBPS: 10,
  PAD: 11,
} as const;
export const INFO = { VERSION: 1, CONN_TAB_SIZE: 2 };
