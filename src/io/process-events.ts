/**
 * What the process-watch Worker hands the main thread: the proc-connector events
 * track_process needs, packed as Int32Array triples [kind, pid, parent] (cheap to post).
 * Kept apart from the Worker file, whose top level installs its message handler: importing
 * that file on the main thread would add a handler there and keep the process alive.
 *
 * Filters as keepalived's handle_proc_ev (keepalived/core/track_process.c): a fork counts
 * when it creates a process (child pid = child tgid; otherwise it is a new thread); exec,
 * comm change and exit count for a whole process (pid = tgid; a thread renaming or ending
 * itself is ignored).
 */
import {
  EXEC_EVENT,
  FORK_EVENT,
  forEachProcEvent,
  PROC_EVENT,
  type ProcEvent,
} from "../../native/proc-connector.ts";

export const EV_FORK = 1;
export const EV_EXEC = 2;
export const EV_COMM = 3;
export const EV_EXIT = 4;

/** The events that matter, as [kind, pid, parent] triples (parent only for EV_FORK). */
export function pack(events: readonly ProcEvent[]): Int32Array {
  const out = new Packer();
  for (const e of events) {
    if (e.kind === "fork" && e.childPid === e.childTgid)
      out.put(EV_FORK, e.childTgid, e.parentTgid);
    else if (e.kind === "exec" && e.pid === e.tgid) out.put(EV_EXEC, e.tgid, 0);
    else if (e.kind === "comm" && e.pid === e.tgid) out.put(EV_COMM, e.tgid, 0);
    else if (e.kind === "exit" && e.pid === e.tgid) out.put(EV_EXIT, e.tgid, 0);
  }
  return out.take();
}

/** Collects triples, straight from received datagrams (ProcConnector.receive). */
export class Packer {
  private buf = new Int32Array(3 * 256);
  private n = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));

  put(kind: number, pid: number, parent: number): void {
    if (this.n + 3 > this.buf.length) {
      const bigger = new Int32Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = kind;
    this.buf[this.n++] = pid;
    this.buf[this.n++] = parent;
  }

  /** pack()'s filter without building records: this runs for every event on the machine. */
  readonly onDatagram = (v: DataView, n: number): void => {
    this.view = v;
    forEachProcEvent(v, n, this.visit);
  };

  private readonly visit = (what: number, _cn: number, d: number): void => {
    const v = this.view;
    if (what === PROC_EVENT.FORK) {
      const child = v.getInt32(d + FORK_EVENT.childTgid, true);
      if (v.getInt32(d + FORK_EVENT.childPid, true) === child)
        this.put(EV_FORK, child, v.getInt32(d + FORK_EVENT.parentTgid, true));
      return;
    }
    const kind = KIND[what];
    if (kind === undefined) return;
    // exec, comm and exit events all start with process_pid, process_tgid.
    const tgid = v.getInt32(d + EXEC_EVENT.tgid, true);
    if (v.getInt32(d + EXEC_EVENT.pid, true) === tgid) this.put(kind, tgid, 0);
  };

  /** The triples so far; starts afresh. */
  take(): Int32Array {
    const out = this.buf.slice(0, this.n);
    this.n = 0;
    return out;
  }
}

const KIND: Record<number, number> = {
  [PROC_EVENT.EXEC]: EV_EXEC,
  [PROC_EVENT.COMM]: EV_COMM,
  [PROC_EVENT.EXIT]: EV_EXIT,
};
