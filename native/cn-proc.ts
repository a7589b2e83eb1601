/**
 * The proc connector's wire format (uapi linux/netlink.h, linux/connector.h, linux/cn_proc.h)
 * as checked offsets, and its decoding: plain byte work, no FFI, so tests can feed it any
 * buffer. The socket itself is native/proc-connector.ts.
 */
import { MSGHDR } from "./layout.ts";

/** Address family, protocol and connector ids (linux/netlink.h, linux/connector.h). */
export const AF_NETLINK = 16;
export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;

/** enum proc_event.what (linux/cn_proc.h): one bit per kind. */
export const PROC_EVENT = {
  NONE: 0,
  FORK: 0x1,
  EXEC: 0x2,
  UID: 0x4,
  GID: 0x40,
  SID: 0x80,
  PTRACE: 0x100,
  COMM: 0x200,
  COREDUMP: 0x40000000,
  EXIT: 0x80000000,
} as const;

export const SOCKADDR_NL = { size: 12, family: 0, pad: 2, pid: 4, groups: 8 } as const;
export const NLMSGHDR = { size: 16, len: 0, type: 4, flags: 6, seq: 8, pid: 12 } as const;
/** struct cn_msg: struct cb_id { idx, val }, seq, ack, len, flags, then the payload. */
export const CN_MSG = { size: 20, idx: 0, val: 4, seq: 8, ack: 12, len: 16, flags: 18 } as const;
/** struct proc_event: what, cpu, timestamp_ns (aligned 8), then the event_data union. */
export const PROC_EVENT_HDR = { size: 16, what: 0, cpu: 4, timestampNs: 8 } as const;
export const ACK_EVENT = { size: 4, err: 0 } as const;
export const FORK_EVENT = { size: 16, parentPid: 0, parentTgid: 4, childPid: 8, childTgid: 12 };
export const EXEC_EVENT = { size: 8, pid: 0, tgid: 4 } as const;
export const COMM_EVENT = { size: 24, pid: 0, tgid: 4, comm: 8 } as const;
export const COMM_BYTES = 16;
/** parent_pid/parent_tgid (offsets 16, 20) exist since Linux 4.12; not read here. */
export const EXIT_EVENT = { size: 24, pid: 0, tgid: 4, exitCode: 8, exitSignal: 12 } as const;
/** struct mmsghdr (recvmmsg(2)): a msghdr, then the received length, padded to 8. */
export const MMSGHDR = { size: 64, hdr: 0, len: 56 } as const;
/** sizeof(struct proc_event): the header and the largest union member (comm, exit). */
export const PROC_EVENT_SIZE = 40;

function within(name: string, s: Readonly<Record<string, number>>, lens: Record<string, number>) {
  for (const [field, len] of Object.entries(lens)) {
    const off = s[field] ?? -1;
    if (off < 0 || off + len > (s.size ?? 0))
      throw new Error(`native/proc-connector: ${name}.${field} at ${off}+${len} overflows`);
  }
}
within("sockaddr_nl", SOCKADDR_NL, { family: 2, pad: 2, pid: 4, groups: 4 });
within("nlmsghdr", NLMSGHDR, { len: 4, type: 2, flags: 2, seq: 4, pid: 4 });
within("cn_msg", CN_MSG, { idx: 4, val: 4, seq: 4, ack: 4, len: 2, flags: 2 });
within("proc_event", PROC_EVENT_HDR, { what: 4, cpu: 4, timestampNs: 8 });
within("fork_proc_event", FORK_EVENT, { parentPid: 4, parentTgid: 4, childPid: 4, childTgid: 4 });
within("comm_proc_event", COMM_EVENT, { pid: 4, tgid: 4, comm: COMM_BYTES });
within("exit_proc_event", EXIT_EVENT, { pid: 4, tgid: 4, exitCode: 4, exitSignal: 4 });
within("mmsghdr", MMSGHDR, { hdr: MSGHDR.size, len: 4 });
if (
  PROC_EVENT_SIZE !==
    PROC_EVENT_HDR.size + Math.max(COMM_EVENT.size, EXIT_EVENT.size, FORK_EVENT.size) ||
  PROC_EVENT_SIZE % 8 !== 0
)
  throw new Error("native/proc-connector: sizeof(struct proc_event) disagrees with cn_proc.h");

/** One decoded proc_event. Pids are thread ids, tgids process ids (getpid()). */
export type ProcEvent =
  | { readonly kind: "ack"; readonly seq: number; readonly ack: number; readonly err: number }
  | {
      readonly kind: "fork";
      readonly parentPid: number;
      readonly parentTgid: number;
      readonly childPid: number;
      readonly childTgid: number;
    }
  | { readonly kind: "exec"; readonly pid: number; readonly tgid: number }
  | { readonly kind: "comm"; readonly pid: number; readonly tgid: number; readonly comm: string }
  | {
      readonly kind: "exit";
      readonly pid: number;
      readonly tgid: number;
      readonly exitCode: number;
      readonly exitSignal: number;
    }
  | { readonly kind: "other"; readonly what: number };

const latin1 = new TextDecoder("latin1");

/** One event as a record; `cn` and `d` are offsets of its cn_msg and event_data in `v`. */
export function decodeEvent(v: DataView, what: number, cn: number, d: number): ProcEvent {
  const i32 = (off: number) => v.getInt32(d + off, true);
  switch (what) {
    case PROC_EVENT.NONE:
      return {
        kind: "ack",
        seq: v.getUint32(cn + CN_MSG.seq, true),
        ack: v.getUint32(cn + CN_MSG.ack, true),
        err: v.getUint32(d + ACK_EVENT.err, true),
      };
    case PROC_EVENT.FORK:
      return {
        kind: "fork",
        parentPid: i32(FORK_EVENT.parentPid),
        parentTgid: i32(FORK_EVENT.parentTgid),
        childPid: i32(FORK_EVENT.childPid),
        childTgid: i32(FORK_EVENT.childTgid),
      };
    case PROC_EVENT.EXEC:
      return { kind: "exec", pid: i32(EXEC_EVENT.pid), tgid: i32(EXEC_EVENT.tgid) };
    case PROC_EVENT.COMM: {
      const raw = new Uint8Array(v.buffer, v.byteOffset + d + COMM_EVENT.comm, COMM_BYTES);
      const end = raw.indexOf(0);
      const comm = latin1.decode(raw.subarray(0, end < 0 ? COMM_BYTES : end));
      return { kind: "comm", pid: i32(COMM_EVENT.pid), tgid: i32(COMM_EVENT.tgid), comm };
    }
    case PROC_EVENT.EXIT:
      return {
        kind: "exit",
        pid: i32(EXIT_EVENT.pid),
        tgid: i32(EXIT_EVENT.tgid),
        exitCode: v.getUint32(d + EXIT_EVENT.exitCode, true),
        exitSignal: v.getInt32(d + EXIT_EVENT.exitSignal, true),
      };
    default:
      return { kind: "other", what };
  }
}

/** Bytes of event_data each kind needs; a shorter payload is dropped, not read past. */
export function eventDataBytes(what: number): number {
  if (what === PROC_EVENT.COMM || what === PROC_EVENT.EXIT) return 24;
  if (what === PROC_EVENT.FORK) return FORK_EVENT.size;
  return EXEC_EVENT.size;
}

/**
 * Calls `visit` for each proc_event in the first `n` bytes of a received datagram, with
 * the event's kind and the offsets of its cn_msg and of its event_data in `v`. The kernel
 * sends one netlink message per datagram (see the alignment note in track_process.c
 * handle_proc_ev), but this walks NLMSG_ALIGN'ed messages anyway; anything short, foreign
 * or not from the proc connector is skipped. No allocation: it runs for every event.
 */
export function forEachProcEvent(
  v: DataView,
  n: number,
  visit: (what: number, cn: number, data: number) => void,
): void {
  const end = Math.min(n, v.byteLength);
  let off = 0;
  while (off + NLMSGHDR.size <= end) {
    const len = v.getUint32(off + NLMSGHDR.len, true);
    if (len < NLMSGHDR.size || off + len > end) break;
    const type = v.getUint16(off + NLMSGHDR.type, true);
    const cn = off + NLMSGHDR.size;
    const ev = cn + CN_MSG.size;
    if (
      type !== NLMSG_ERROR &&
      type !== NLMSG_NOOP &&
      len >= NLMSGHDR.size + CN_MSG.size + PROC_EVENT_HDR.size &&
      v.getUint32(cn + CN_MSG.idx, true) === CN_IDX_PROC &&
      v.getUint32(cn + CN_MSG.val, true) === CN_VAL_PROC
    ) {
      const payload = Math.min(v.getUint16(cn + CN_MSG.len, true), off + len - ev);
      const what = v.getUint32(ev + PROC_EVENT_HDR.what, true);
      if (payload >= PROC_EVENT_HDR.size + eventDataBytes(what))
        visit(what, cn, ev + PROC_EVENT_HDR.size);
    }
    off += (len + 3) & ~3;
  }
}

/** Decodes the first `n` bytes of one received datagram into records. */
export function decodeProcEvents(buf: Uint8Array, n: number): ProcEvent[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: ProcEvent[] = [];
  forEachProcEvent(v, n, (what, cn, data) => {
    out.push(decodeEvent(v, what, cn, data));
  });
  return out;
}

/** The request datagram: nlmsghdr + cn_msg + enum proc_cn_mcast_op. */
export function encodeMcastOp(op: number, seq: number, ack: number): Uint8Array {
  const b = new Uint8Array(NLMSGHDR.size + CN_MSG.size + 4);
  const v = new DataView(b.buffer);
  v.setUint32(NLMSGHDR.len, b.length, true);
  v.setUint16(NLMSGHDR.type, NLMSG_DONE, true);
  const cn = NLMSGHDR.size;
  v.setUint32(cn + CN_MSG.idx, CN_IDX_PROC, true);
  v.setUint32(cn + CN_MSG.val, CN_VAL_PROC, true);
  v.setUint32(cn + CN_MSG.seq, seq, true);
  v.setUint32(cn + CN_MSG.ack, ack, true);
  v.setUint16(cn + CN_MSG.len, 4, true);
  v.setUint32(cn + CN_MSG.size, op, true);
  return b;
}

/** struct sockaddr_nl for `groups`; nl_pid 0 lets the kernel pick our port id. */
export function sockaddrNl(groups: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_NL.size);
  const v = new DataView(b.buffer);
  v.setUint16(SOCKADDR_NL.family, AF_NETLINK, true);
  v.setUint32(SOCKADDR_NL.groups, groups, true);
  return b; // nl_pid 0: let the kernel pick our port id (a Worker shares getpid())
}
