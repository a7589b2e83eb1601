/**
 * The link-monitor Worker: a libnl NETLINK_ROUTE socket subscribed to RTNLGRP_LINK,
 * RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR; blocks in poll() on it and on a wake eventfd,
 * reads every queued notification, decodes it and posts the events to the main thread.
 *
 * The only command is "stop", and it comes through the eventfd (a Worker blocked in poll()
 * never sees postMessage), so after "start" this Worker never returns to its event loop.
 *
 * Entry point of its own: scripts/build.ts must list src/io/link-monitor-worker.ts.
 */
import {
  EAGAIN,
  EINTR,
  ENOBUFS,
  libnl,
  type NlPtr,
  nlErrorText,
  pollReadable,
  recvDatagram,
} from "../../native/libnl.ts";
import { decodeNotifications, type LinkEvent } from "./link-events.ts";

declare const self: Worker;

export type MonitorCommand = { readonly op: "start"; readonly wakeFd: number };
export type MonitorMessage =
  | { readonly type: "ready" }
  | { readonly type: "events"; readonly events: readonly LinkEvent[] }
  | { readonly type: "error"; readonly code: string; readonly message: string }
  | { readonly type: "stopped" };

const NETLINK_ROUTE = 0;
/** rtnetlink multicast groups (uapi linux/rtnetlink.h enum rtnetlink_groups). */
const RTNLGRP_LINK = 1;
const RTNLGRP_IPV4_IFADDR = 5;
const RTNLGRP_IPV6_IFADDR = 9;
/** Room for a burst (an interface going down withdraws all its addresses at once). */
const RCVBUF_BYTES = 1 << 20;
/** Larger than any single rtnetlink notification (the kernel caps them at a page or two). */
const DATAGRAM_BYTES = 64 * 1024;

function post(m: MonitorMessage): void {
  self.postMessage(m);
}

function openSocket(): NlPtr {
  const nl = libnl();
  const sk = nl.nl_socket_alloc();
  if (!sk) throw new Error("nl_socket_alloc failed");
  // Notifications carry sequence number 0; libnl's default check would drop them.
  nl.nl_socket_disable_seq_check(sk);
  const steps: [string, () => number][] = [
    ["nl_connect", () => nl.nl_connect(sk, NETLINK_ROUTE)],
    ["join RTNLGRP_LINK", () => nl.nl_socket_add_membership(sk, RTNLGRP_LINK)],
    ["join RTNLGRP_IPV4_IFADDR", () => nl.nl_socket_add_membership(sk, RTNLGRP_IPV4_IFADDR)],
    ["join RTNLGRP_IPV6_IFADDR", () => nl.nl_socket_add_membership(sk, RTNLGRP_IPV6_IFADDR)],
    ["set receive buffer", () => nl.nl_socket_set_buffer_size(sk, RCVBUF_BYTES, 0)],
    ["set non-blocking", () => nl.nl_socket_set_nonblocking(sk)],
  ];
  for (const [what, step] of steps) {
    const rc = step();
    if (rc < 0) {
      nl.nl_socket_free(sk);
      throw new Error(`link monitor: ${what}: ${nlErrorText(rc)}`);
    }
  }
  return sk;
}

/** Reads until the socket is empty; an overflow (ENOBUFS) becomes an "overrun" event. */
function drain(fd: number, buf: Uint8Array): LinkEvent[] {
  const events: LinkEvent[] = [];
  for (;;) {
    const n = recvDatagram(fd, buf);
    if (n === -EAGAIN) return events;
    if (n === -EINTR) continue;
    if (n === -ENOBUFS) {
      events.push({ kind: "overrun" });
      continue;
    }
    if (n < 0) throw new Error(`link monitor: recv: errno ${-n}`);
    events.push(...decodeNotifications(buf.subarray(0, n)));
  }
}

function run(wakeFd: number): void {
  const nl = libnl();
  const sk = openSocket();
  const fd = nl.nl_socket_get_fd(sk);
  const buf = new Uint8Array(DATAGRAM_BYTES);
  post({ type: "ready" });
  try {
    for (;;) {
      const ready = pollReadable([fd, wakeFd], -1);
      if (typeof ready === "number") {
        if (ready === -EINTR) continue;
        throw new Error(`link monitor: poll: errno ${-ready}`);
      }
      if (ready.includes(wakeFd)) break;
      const events = drain(fd, buf);
      if (events.length > 0) post({ type: "events", events });
    }
  } finally {
    nl.nl_socket_free(sk);
  }
}

self.onmessage = (ev: MessageEvent<MonitorCommand>) => {
  if (ev.data.op !== "start") return;
  try {
    run(ev.data.wakeFd);
  } catch (e) {
    const code = e instanceof Error && "code" in e ? String(e.code) : "E_INTERFACE";
    post({ type: "error", code, message: e instanceof Error ? e.message : String(e) });
  }
  post({ type: "stopped" });
};
