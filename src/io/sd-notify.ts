/**
 * systemd's notification protocol (sd_notify(3), sd_watchdog_enabled(3)) without libsystemd:
 * one AF_UNIX datagram of newline-separated VAR=value lines per call, sent to the socket named
 * by $NOTIFY_SOCKET. The unit (packaging/edge-agent.service) is Type=notify with WatchdogSec,
 * so systemd waits for READY=1 before it calls the service started, and restarts it when
 * WATCHDOG=1 stops arriving — which is how a stuck event loop gets noticed (design §1).
 *
 * Facts this follows:
 *  - No $NOTIFY_SOCKET: not started by systemd as a notify service; every call does nothing.
 *  - $NOTIFY_SOCKET is an absolute path or an "@abstract" name (native/unix-dgram.ts).
 *    systemd ≥ 254 also accepts "vsock:…", which is useless on a load balancer's host:
 *    refused with one warning.
 *  - The watchdog is on when $WATCHDOG_USEC is a positive integer and $WATCHDOG_PID is unset
 *    or our pid; pings are due every half of it (sd_watchdog_enabled(3) recommends that).
 *    When $WATCHDOG_PID names another process, the variables were inherited, not meant for
 *    us: no pings.
 *  - RELOADING=1 carries MONOTONIC_USEC=<CLOCK_MONOTONIC in µs>: systemd ≥ 253 needs it to
 *    match the message to the reload it started (Type=notify-reload); older ones, such as
 *    Debian 12's 252, ignore the field. Each reload ends with READY=1 again (sd_notify(3)).
 *  - keepalived (lib/systemd.c) sends READY=1, RELOADING=1, STOPPING=1 the same way.
 *
 * The environment: with `unsetEnvironment` (the default) the constructor deletes
 * NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `env` (process.env), as sd_notify(3) and
 * sd_watchdog_enabled(3) do with unset_environment=1. Our scripts must not inherit them: a
 * script that runs `systemd-notify`, or starts a notify-aware daemon, would otherwise talk to
 * systemd about *our* unit (keepalived clears NOTIFY_SOCKET in its children for this reason).
 * The address is kept here, so this object goes on working. Note for whoever wires it: Bun
 * gives a child the environment the process started with unless `env` is passed explicitly
 * (checked on Bun 1.4.5), so construct this before anything snapshots process.env (the
 * ScriptRunner does at construction) and pass `env` to every spawn.
 *
 * Never throws into the caller: a failed send is logged once (the first), then counted.
 */
import { close } from "../../native/libc.ts";
import { sendDgram, sockaddrUn, unixDgramSocket } from "../../native/unix-dgram.ts";
import { logger } from "../log/index.ts";
import { monotonicMs } from "./clock.ts";

export interface NotifyLog {
  warn(message: string): void;
}

export interface SdNotifyOptions {
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read (and unset). Default process.env. */
  readonly env?: Record<string, string | undefined>;
  /** Our pid, compared with WATCHDOG_PID. Default process.pid. */
  readonly pid?: number;
  /** Delete the three variables from `env` after reading them. Default true. */
  readonly unsetEnvironment?: boolean;
  readonly log?: NotifyLog;
  /** CLOCK_MONOTONIC in µs, for MONOTONIC_USEC. Default: native clock_gettime. */
  readonly monotonicUs?: () => number;
}

const VARS = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] as const;

/** A STATUS= value stays on one line: a newline would start another assignment. */
function oneLine(text: string): string {
  return text.replace(/[\0-\x1f\x7f]+/g, " ");
}

export class SdNotify {
  /** $NOTIFY_SOCKET as read, or undefined when systemd is not listening (all calls no-ops). */
  readonly socketAddress: string | undefined;
  private readonly sockaddr: Uint8Array | undefined;
  private readonly watchdogUs: number | undefined;
  private readonly log: NotifyLog;
  private readonly monotonicUs: () => number;
  private fd = -1;
  private failed = 0;

  constructor(opts: SdNotifyOptions = {}) {
    const env = opts.env ?? process.env;
    this.log = opts.log ?? logger("systemd");
    this.monotonicUs = opts.monotonicUs ?? (() => Math.floor(monotonicMs() * 1000));
    const address = env.NOTIFY_SOCKET || undefined;
    this.sockaddr = address === undefined ? undefined : this.parseAddress(address);
    this.socketAddress = this.sockaddr ? address : undefined;
    this.watchdogUs = this.parseWatchdog(env, opts.pid ?? process.pid);
    if (opts.unsetEnvironment ?? true) for (const v of VARS) delete env[v];
  }

  /** Whether messages go anywhere ($NOTIFY_SOCKET was set and usable). */
  get enabled(): boolean {
    return this.sockaddr !== undefined;
  }

  /** How many sends failed (only the first is logged). */
  get failures(): number {
    return this.failed;
  }

  /** Start-up or a reload is complete: READY=1, with STATUS= when given. */
  ready(status?: string): void {
    this.send(status === undefined ? ["READY=1"] : ["READY=1", `STATUS=${oneLine(status)}`]);
  }

  /** A reload begins: RELOADING=1 and MONOTONIC_USEC; finish it with ready(). */
  reloading(status?: string): void {
    const lines = ["RELOADING=1", `MONOTONIC_USEC=${this.monotonicUs()}`];
    this.send(status === undefined ? lines : [...lines, `STATUS=${oneLine(status)}`]);
  }

  /** Shutting down: STOPPING=1. */
  stopping(status?: string): void {
    this.send(status === undefined ? ["STOPPING=1"] : ["STOPPING=1", `STATUS=${oneLine(status)}`]);
  }

  /** Free-form status line shown by `systemctl status`. */
  status(text: string): void {
    this.send([`STATUS=${oneLine(text)}`]);
  }

  /** Keep-alive ping: WATCHDOG=1, only when the watchdog is meant for this process. */
  watchdog(): void {
    if (this.watchdogUs !== undefined) this.send(["WATCHDOG=1"]);
  }

  /**
   * How often to call watchdog(): half of WATCHDOG_USEC, in ms; undefined when systemd
   * expects no pings from us (no watchdog, no socket, or WATCHDOG_PID is another process).
   */
  watchdogIntervalMs(): number | undefined {
    return this.watchdogUs === undefined ? undefined : this.watchdogUs / 2000;
  }

  /**
   * Pings every watchdogIntervalMs() from the event loop until the returned function is
   * called: a loop stuck in a callback stops the pings and systemd restarts us. The timer
   * does not keep the process alive. Does nothing when no pings are expected.
   */
  startWatchdog(): () => void {
    const intervalMs = this.watchdogIntervalMs();
    if (intervalMs === undefined) return () => {};
    this.watchdog();
    const t = setInterval(() => this.watchdog(), intervalMs);
    t.unref();
    return () => clearInterval(t);
  }

  /** Closes the socket; a later call opens it again. */
  close(): void {
    close(this.fd);
    this.fd = -1;
  }

  private send(lines: readonly string[]): void {
    const to = this.sockaddr;
    const address = this.socketAddress;
    if (to === undefined || address === undefined) return;
    try {
      if (this.fd < 0) this.fd = unixDgramSocket(address);
      sendDgram(this.fd, new TextEncoder().encode(lines.join("\n")), to, address);
    } catch (e) {
      if (this.failed++ === 0)
        this.log.warn(
          `systemd notify (${lines[0]}) failed: ${e instanceof Error ? e.message : String(e)}` +
            " (further failures are not logged)",
        );
    }
  }

  private parseAddress(address: string): Uint8Array | undefined {
    try {
      return sockaddrUn(address);
    } catch (e) {
      this.log.warn(
        `NOTIFY_SOCKET=${address} unusable, not notifying systemd: ${e instanceof Error ? e.message : String(e)}`,
      );
      return undefined;
    }
  }

  private parseWatchdog(env: Record<string, string | undefined>, pid: number): number | undefined {
    const usec = env.WATCHDOG_USEC;
    if (usec === undefined || this.sockaddr === undefined) return undefined;
    const watchedPid = env.WATCHDOG_PID;
    if (watchedPid !== undefined && watchedPid !== "" && watchedPid !== String(pid))
      return undefined;
    if (!/^[1-9][0-9]*$/.test(usec) || !Number.isSafeInteger(Number(usec))) {
      this.log.warn(`WATCHDOG_USEC=${usec} is not a positive number of µs: no watchdog pings`);
      return undefined;
    }
    return Number(usec);
  }
}
