/**
 * The process-event Worker: opens the proc connector (native/proc-connector.ts), blocks in
 * poll() on it and on a wake eventfd, and posts the events track_process needs to the main
 * thread, so the event loop never blocks on the socket (as link-monitor-worker.ts does for
 * rtnetlink).
 *
 * Only what ProcessWatcher uses crosses over, packed by process-events.ts.
 *
 * The only command after "start" is stop, through the eventfd (a Worker blocked in poll()
 * never sees postMessage). Entry point of its own: scripts/build.ts must list
 * src/io/process-watch-worker.ts.
 */
import { eventfdRead, PollSet, SyscallFailure } from "../../native/libc.ts";
import { ProcConnector } from "../../native/proc-connector.ts";
import { Packer } from "./process-events.ts";

declare const self: Worker;

export type ConnectorCommand = {
  readonly op: "start";
  readonly wakeFd: number;
  readonly rcvbufBytes?: number;
  readonly rcvbufForce?: boolean;
  /** Gather events this long after the first before posting them (see ProcessWatcher). */
  readonly batchMs: number;
};
export type ConnectorMessage =
  | { readonly type: "ready"; readonly rcvbufBytes: number }
  | { readonly type: "events"; readonly events: Int32Array }
  /** The socket overflowed; its buffer has been doubled to rcvbufBytes. */
  | { readonly type: "overrun"; readonly rcvbufBytes: number }
  | {
      readonly type: "error";
      readonly code: string;
      /** The failed call behind it (libc.ts SyscallFailure), when there is one. */
      readonly syscall: string | undefined;
      readonly errno: string | undefined;
      readonly errnoValue: number | undefined;
      readonly message: string;
    }
  | { readonly type: "stopped" };

function post(m: ConnectorMessage): void {
  self.postMessage(m);
}

/** keepalived's reinitialise_track_processes doubles the buffer after each overflow. */
function grow(pc: ProcConnector, force: boolean): number {
  try {
    pc.setRcvbuf(pc.rcvbuf(), force);
  } catch {
    // at net.core.rmem_max already (without force): keep what we have
  }
  return pc.rcvbuf();
}

function run(cmd: ConnectorCommand): void {
  const pc = ProcConnector.open({
    ...(cmd.rcvbufBytes ? { rcvbufBytes: cmd.rcvbufBytes } : {}),
    ...(cmd.rcvbufForce ? { rcvbufForce: true } : {}),
  });
  try {
    const poll = new PollSet();
    poll.set([pc.fd, cmd.wakeFd]);
    const packer = new Packer();
    const wake = new PollSet();
    wake.set([cmd.wakeFd]);
    post({ type: "ready", rcvbufBytes: pc.rcvbuf() });
    for (;;) {
      if (poll.wait(-1) === 0) continue; // EINTR
      // Let the burst this event belongs to arrive (a short-lived process's fork, exec
      // and exit come together), still leaving at once when told to stop.
      if (poll.revents(1) !== 0 || (cmd.batchMs > 0 && wake.wait(cmd.batchMs) > 0)) {
        eventfdRead(cmd.wakeFd);
        break;
      }
      const overrun = pc.receive(packer.onDatagram);
      const packed = packer.take();
      if (packed.length > 0) post({ type: "events", events: packed });
      if (overrun) post({ type: "overrun", rcvbufBytes: grow(pc, cmd.rcvbufForce ?? false) });
    }
  } finally {
    pc.close();
  }
}

self.onmessage = (ev: MessageEvent<ConnectorCommand>) => {
  if (ev.data.op !== "start") return;
  try {
    run(ev.data);
  } catch (e) {
    const cause = e instanceof Error ? e.cause : undefined;
    const sc = cause instanceof SyscallFailure ? cause : undefined;
    post({
      type: "error",
      code: e instanceof Error && "code" in e ? String(e.code) : "E_SOCKET",
      syscall: sc?.syscall,
      errno: sc?.errno,
      errnoValue: sc?.errnoValue,
      message: e instanceof Error ? e.message : String(e),
    });
  }
  post({ type: "stopped" });
};
