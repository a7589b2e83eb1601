/**
 * The main-thread side of VRRP reception (design §2): a Worker blocks in poll() over every
 * VRRP read socket plus an eventfd, reads datagrams with recvmsg and posts them here.
 *
 * Why a Worker: Bun cannot watch a raw socket's readiness from its event loop
 * (Bun.udpSocket refuses raw sockets, Bun.file(fd).stream() merges datagrams and loses the
 * hop limit), and polling from a timer costs latency and CPU (anchors.md: a 1 ms interval
 * gives 0.59 ms median at 2.9 % idle CPU, a blocked Worker 0.23 ms at 0.1 %).
 *
 * Protocol with the Worker: every command after "init" is posted first and then announced
 * by adding 1 to the eventfd, so the Worker, woken from poll(), knows how many commands to
 * wait for before it blocks again (see rx-worker.ts). "remove" is acknowledged: close a
 * socket only after its removal resolved, or poll() could see a reused descriptor number.
 *
 * The Worker file is a second entrypoint: a compiled binary must list src/io/rx-worker.ts
 * in scripts/build.ts, or the Worker fails to start (start() then rejects).
 */
import * as libc from "../../native/libc.ts";
import type { IpAddr } from "../core/net/ip.ts";
import { AgentError } from "../errors.ts";

/** One received VRRP datagram. */
export interface RxPacket {
  /** The read socket it came from (VrrpSocket.fd). */
  readonly fd: number;
  readonly family: 4 | 6;
  /** Receiving interface (IP_PKTINFO / IPV6_PKTINFO); 0 if the kernel did not say. */
  readonly ifindex: number;
  readonly src: IpAddr;
  /** Destination: the group or our unicast address. */
  readonly dst: IpAddr | undefined;
  /** IPv4 TTL or IPv6 hop limit from ancillary data. */
  readonly ttl: number | undefined;
  /** IPv4: IP header + VRRP (man 7 raw); IPv6: the VRRP message only. */
  readonly bytes: Uint8Array;
  /** Longer than the Worker's 64 KiB buffer, or ancillary data cut short. */
  readonly truncated: boolean;
  /** When the Worker read it, on the CLOCK_MONOTONIC of monotonicMs() (ms). */
  readonly rxMonoMs: number;
}

/** Main thread → Worker. */
export type RxCommand =
  | { readonly op: "init"; readonly wakeFd: number }
  | { readonly op: "add"; readonly fd: number; readonly family: 4 | 6 }
  | { readonly op: "remove"; readonly fd: number; readonly id: number }
  /** The one timer: wake at this CLOCK_MONOTONIC time (ms) and post a tick; null disarms. */
  | { readonly op: "deadline"; readonly atMs: number | null }
  | { readonly op: "stop" };

/** Worker → main thread. */
export type RxEvent =
  | { readonly type: "packets"; readonly packets: readonly RxPacket[] }
  | { readonly type: "ready" }
  | { readonly type: "tick" }
  | { readonly type: "ack"; readonly id: number }
  | { readonly type: "error"; readonly fd: number; readonly code: string; readonly message: string }
  | { readonly type: "stopped" };

const START_TIMEOUT_MS = 5000;

/**
 * The Worker's code. From source it sits beside this file. In a compiled binary this code
 * is bundled into the main entrypoint, embedded at /$bunfs/root/<outfile>, and each extra
 * entrypoint is embedded by its path relative to the entrypoints' common root: with
 * src/main.ts and src/io/rx-worker.ts (scripts/build.ts) that is io/rx-worker.
 */
function workerUrl(): URL {
  const compiled = import.meta.url.startsWith("file:///$bunfs/");
  return new URL(compiled ? "./io/rx-worker.ts" : "./rx-worker.ts", import.meta.url);
}
const STOP_TIMEOUT_MS = 2000;

export interface ReceiverOptions {
  /** A socket error or a callback exception; receiving goes on. Default: ignore. */
  readonly onError?: (e: AgentError) => void;
  /** The deadline set with setDeadline has passed. */
  readonly onTick?: () => void;
}

export class Receiver {
  private worker: Worker | undefined;
  private wakeFd = -1;
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();
  private onStopped: (() => void) | undefined;
  private readonly onError: (e: AgentError) => void;
  private readonly onTick: () => void;

  constructor(
    private readonly onPacket: (p: RxPacket) => void,
    opts: ReceiverOptions = {},
  ) {
    this.onError = opts.onError ?? (() => {});
    this.onTick = opts.onTick ?? (() => {});
  }

  /**
   * Arms the one timer (CLOCK_MONOTONIC ms, see monotonicMs), replacing the previous one;
   * undefined disarms it. The Worker's ppoll() wakes for it with nanosecond resolution,
   * where a setTimeout would be up to a millisecond late.
   */
  setDeadline(atMs: number | undefined): void {
    this.post({ op: "deadline", atMs: atMs ?? null });
  }

  /** Starts the Worker; resolves once it is polling. */
  async start(): Promise<void> {
    if (this.worker) return;
    this.wakeFd = libc.eventfd();
    const worker = new Worker(workerUrl());
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new AgentError(
              "E_SOCKET",
              `the receive Worker did not start within ${START_TIMEOUT_MS} ms (is src/io/rx-worker.ts an entrypoint of the build?)`,
            ),
          ),
        START_TIMEOUT_MS,
      );
      worker.onmessage = (ev: MessageEvent<RxEvent>) => {
        if (ev.data.type === "ready") {
          clearTimeout(timer);
          worker.onmessage = (e: MessageEvent<RxEvent>) => this.dispatch(e.data);
          resolve();
        }
      };
      worker.onerror = (ev) => {
        clearTimeout(timer);
        reject(new AgentError("E_SOCKET", `receive Worker failed: ${ev.message}`));
      };
    });
    this.post({ op: "init", wakeFd: this.wakeFd }, false);
    try {
      await ready;
    } catch (e) {
      this.kill();
      throw e;
    }
  }

  /** Watches a read socket. */
  add(fd: number, family: 4 | 6): void {
    this.post({ op: "add", fd, family });
  }

  /** Stops watching `fd`; resolves when the Worker no longer polls it (then close it). */
  remove(fd: number): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ op: "remove", fd, id });
    });
  }

  /** Ends the Worker: it leaves poll() through the eventfd, then is terminated. */
  async stop(): Promise<void> {
    if (!this.worker) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = new Promise<void>((resolve) => {
      this.onStopped = resolve;
      // A Worker stuck in native code cannot be terminated; give up waiting, not forever.
      timer = setTimeout(resolve, STOP_TIMEOUT_MS);
    });
    this.post({ op: "stop" });
    await stopped;
    clearTimeout(timer);
    this.kill();
  }

  private kill(): void {
    this.worker?.terminate();
    this.worker = undefined;
    libc.close(this.wakeFd);
    this.wakeFd = -1;
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }

  private post(cmd: RxCommand, wake = true): void {
    if (!this.worker) throw new AgentError("E_SOCKET", "the receiver is not running");
    this.worker.postMessage(cmd);
    if (wake) libc.eventfdWrite(this.wakeFd, 1);
  }

  private dispatch(ev: RxEvent): void {
    switch (ev.type) {
      case "packets":
        // One bad packet's callback must not cost the others in the batch.
        for (const p of ev.packets) {
          try {
            this.onPacket(p);
          } catch (e) {
            this.onError(
              new AgentError("E_SOCKET", `packet callback threw: ${String(e)}`, undefined, {
                cause: e,
              }),
            );
          }
        }
        return;
      case "ack":
        this.waiting.get(ev.id)?.();
        this.waiting.delete(ev.id);
        return;
      case "error":
        this.onError(
          new AgentError(
            ev.code === "E_NOT_ROOT" ? "E_NOT_ROOT" : "E_SOCKET",
            ev.message,
            `fd ${ev.fd}`,
          ),
        );
        return;
      case "stopped":
        this.onStopped?.();
        return;
      case "tick":
        this.onTick();
        return;
      case "ready":
        return;
    }
  }
}
