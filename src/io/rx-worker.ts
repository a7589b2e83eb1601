/**
 * The receive Worker (design §2): blocks in poll() over the VRRP read sockets and the wake
 * eventfd, reads every queued datagram with recvmsg and posts it to the main thread.
 *
 * A Worker's messages are only delivered while it is back in its event loop, never while
 * it sits in poll(). So the main thread posts a command and then adds 1 to the eventfd;
 * here `owed` counts commands announced by the eventfd minus commands received, and the
 * Worker blocks in poll() again only when it owes nothing. Each wake-up is thus matched to
 * its command whatever order the eventfd and the message arrive in, with no timer.
 *
 * Entry point of its own: scripts/build.ts must list src/io/rx-worker.ts.
 */
import * as L from "../../native/layout.ts";
import * as libc from "../../native/libc.ts";
import type { RxCommand, RxEvent, RxPacket } from "./receiver.ts";

declare const self: Worker;

/** Datagrams read from one socket per wake-up before serving the others (fairness). */
const MAX_BURST = 64;

const sockets = new Map<number, 4 | 6>();
const pollSet = new libc.PollSet();
const reader = new libc.MsgReader();
let wakeFd = -1;
let owed = 0;
let scheduled = false;
let stopped = false;
/** The agent's one timer: a timerfd polled with the sockets; expiry posts a tick. */
let timerFd = -1;

function post(ev: RxEvent, transfer: Bun.Transferable[] = []): void {
  self.postMessage(ev, transfer);
}

function rebuild(): void {
  pollSet.set([wakeFd, timerFd, ...sockets.keys()]);
}

function postError(fd: number, e: unknown): void {
  const code = e instanceof Error && "code" in e ? String(e.code) : "E_SOCKET";
  post({ type: "error", fd, code, message: e instanceof Error ? e.message : String(e) });
}

/** Reads up to MAX_BURST datagrams from `fd` and posts them. */
function drain(fd: number, family: 4 | 6): void {
  for (let i = 0; i < MAX_BURST; i++) {
    let d: libc.Datagram | undefined;
    try {
      d = reader.recv(fd);
    } catch (e) {
      postError(fd, e);
      return;
    }
    if (!d) return;
    if (!d.src) continue; // not an IP sender: cannot happen on an AF_INET(6) raw socket
    // Stamped on the shared monotonic clock as it is read, so the main thread's timers run
    // from when the advert arrived, not from when it got round to it.
    const rxMonoMs = libc.monotonicMs();
    batch.push({
      rxMonoMs,
      fd,
      family,
      ifindex: d.ifindex ?? 0,
      src: { family, bytes: d.src.addr },
      dst: d.dst ? { family, bytes: d.dst } : undefined,
      ttl: d.ttl,
      bytes: d.bytes,
      truncated: d.truncated,
    });
    transfers.push(d.bytes.buffer as ArrayBuffer);
  }
}

/**
 * The datagrams of one poll() round go to the main thread in one message: a postMessage
 * per datagram cost more than the datagram itself (idle CPU, reference anchors).
 */
let batch: RxPacket[] = [];
let transfers: ArrayBuffer[] = [];

function flush(): void {
  if (!batch.length) return;
  post({ type: "packets", packets: batch }, transfers);
  batch = [];
  transfers = [];
}

/** Serves the ready descriptors of one poll() round. */
function serve(): void {
  const fds = pollSet.fds;
  const gone: number[] = [];
  for (let i = 0; i < fds.length; i++) {
    const revents = pollSet.revents(i);
    if (revents === 0) continue;
    const fd = fds[i]!;
    if (fd === wakeFd) {
      owed += libc.eventfdRead(wakeFd);
      continue;
    }
    if (fd === timerFd) {
      // The expiration count (8 bytes) must be read, or the timerfd stays readable.
      if (libc.eventfdRead(timerFd) > 0) post({ type: "tick" });
      continue;
    }
    const family = sockets.get(fd);
    if (family === undefined) continue;
    if (revents & L.POLLNVAL) {
      gone.push(fd);
      post({ type: "error", fd, code: "E_SOCKET", message: `fd ${fd} was closed while watched` });
      continue;
    }
    drain(fd, family);
  }
  flush();
  if (gone.length) {
    for (const fd of gone) sockets.delete(fd);
    rebuild();
  }
}

/** Blocks in poll() until a command is announced; then returns to the event loop. */
function loop(): void {
  scheduled = false;
  try {
    while (!stopped && owed <= 0) if (pollSet.wait(-1) > 0) serve();
  } catch (e) {
    postError(-1, e);
    schedule();
  }
}

function schedule(): void {
  if (scheduled || stopped) return;
  scheduled = true;
  setImmediate(loop);
}

function apply(cmd: RxCommand): void {
  switch (cmd.op) {
    case "init":
      wakeFd = cmd.wakeFd;
      timerFd = libc.timerfd();
      rebuild();
      post({ type: "ready" });
      return;
    case "add":
      sockets.set(cmd.fd, cmd.family);
      rebuild();
      return;
    case "remove":
      sockets.delete(cmd.fd);
      rebuild();
      post({ type: "ack", id: cmd.id });
      return;
    case "deadline":
      libc.timerfdSet(timerFd, cmd.atMs ?? undefined);
      return;
    case "stop":
      stopped = true;
      libc.close(timerFd);
      post({ type: "stopped" });
      return;
  }
}

self.onmessage = (ev: MessageEvent<RxCommand>) => {
  if (ev.data.op !== "init") owed--;
  apply(ev.data);
  if (owed <= 0) schedule();
};
