/**
 * The receiving end of sd_notify for tests: an AF_UNIX datagram socket bound where systemd's
 * would be, with SO_PASSCRED on as systemd has it, so each message also says which process
 * sent it (systemd checks that against the unit's main pid, NotifyAccess=main).
 *
 * A datagram is in the receiver's queue when sendto returns, so after a sender has returned
 * (or exited) `drain()` sees everything it sent; `waitFor` is for senders still running and
 * waits for readability with poll(2), bounded.
 */
import { close, PollSet } from "../../native/libc.ts";
import {
  bindUnix,
  passCredentials,
  sockaddrUn,
  UnixDgramReader,
  unixDgramSocket,
} from "../../native/unix-dgram.ts";

export interface Notification {
  /** The datagram as text, exactly as sent. */
  readonly text: string;
  /** Its VAR=value lines. */
  readonly lines: readonly string[];
  /** The sender's pid (SCM_CREDENTIALS). */
  readonly pid: number | undefined;
}

let serial = 0;

/** A fresh abstract-namespace address, unique to this test process. */
export function abstractAddress(tag: string): string {
  return `@edge-agent-test-${process.pid}-${tag}-${++serial}`;
}

export class NotifySocket {
  readonly received: Notification[] = [];
  private readonly reader = new UnixDgramReader();
  private readonly poll = new PollSet();

  private constructor(
    readonly address: string,
    private fd: number,
  ) {
    this.poll.set([fd]);
  }

  /** Binds `address` ("/path" or "@name"). */
  static bind(address: string): NotifySocket {
    const fd = unixDgramSocket(address);
    try {
      passCredentials(fd, address);
      bindUnix(fd, sockaddrUn(address), address);
    } catch (e) {
      close(fd);
      throw e;
    }
    return new NotifySocket(address, fd);
  }

  /** Reads everything queued now; returns what was new. */
  drain(): Notification[] {
    const fresh: Notification[] = [];
    for (let d = this.reader.recv(this.fd); d; d = this.reader.recv(this.fd)) {
      if (d.truncated) throw new Error(`notify datagram truncated (${d.bytes.length} bytes kept)`);
      const text = new TextDecoder().decode(d.bytes);
      fresh.push({ text, lines: text.split("\n"), pid: d.pid });
    }
    this.received.push(...fresh);
    return fresh;
  }

  /** Waits until `count` messages in all have arrived; fails after `timeoutMs` with what came. */
  async waitFor(count: number, timeoutMs: number): Promise<Notification[]> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      this.drain();
      if (this.received.length >= count) return this.received.slice(0, count);
      const left = end - performance.now();
      if (left <= 0)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${count} notifications; got ${JSON.stringify(this.received.map((n) => n.text))}`,
        );
      // Blocks in poll for readability (short slices, so the event loop — and the timers a
      // sender in this process runs on — keeps turning).
      this.poll.wait(Math.min(5, Math.ceil(left)));
      await new Promise((r) => setImmediate(r));
    }
  }

  close(): void {
    close(this.fd);
    this.fd = -1;
  }
}
