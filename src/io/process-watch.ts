/**
 * track_process's eyes (reference §1.6): how many running processes each tracker matches,
 * reported whenever a count changes. The quorum and delay decisions are made elsewhere
 * (src/core/track/process-quorum.ts); this only counts.
 *
 * As keepalived (keepalived/core/track_process.c): subscribe to the kernel's process events
 * first, then read all of /proc once, then follow the events — exec or comm change: read
 * that process again; fork of a counted process: the child counts for the same trackers (a
 * fork copies name and command line, and the kernel queues the fork event before the child
 * can run, so its own exec or exit always comes later); exit: forget it, in O(1) through the
 * pid → trackers map. After a lost-events overflow (ENOBUFS) the socket buffer is doubled
 * and /proc is read again a second later, once the burst is over.
 *
 * Differences from keepalived, on purpose:
 * - a pid's trackers are a set: keepalived counts a process twice when a counted child
 *   re-execs something that still matches (check_process adds a second reference);
 * - a comm event re-reads the command line too, so full_command trackers see the truth;
 * - counts are reported once per batch of events, so a change undone within the same batch
 *   (a fork and its exit read together) is not reported;
 * - where the connector is unavailable (the agent in a network namespace other than the
 *   initial one — ECONNREFUSED —, no CAP_NET_ADMIN, a kernel without CONFIG_PROC_EVENTS),
 *   keepalived warns that track_process will not work; we rescan /proc every
 *   scanIntervalMs instead. Each scan starts from nothing, so pid reuse and processes that
 *   vanish between listing and reading (ENOENT, ESRCH) need no special case.
 */
import { close as closeFd, eventfd, eventfdWrite, SyscallFailure } from "../../native/libc.ts";
import { connectorHint } from "../../native/proc-connector.ts";
import type { ProcessMatcher } from "../core/track/process-match.ts";
import { AgentError, type ErrorCode } from "../errors.ts";
import { EV_COMM, EV_EXEC, EV_EXIT, EV_FORK } from "./process-events.ts";
import type { ConnectorCommand, ConnectorMessage } from "./process-watch-worker.ts";
import { listPids, readProcess } from "./procfs.ts";

/**
 * Fallback period. 1 s is vrrp_script's default interval — the `pidof nginx` script the
 * fallback stands in for — and keepalived's default advert_int, so a dead daemon is seen
 * within one advert. Measured (bench/track-process.ts, 60 s): 0.26 % of a core with 81
 * processes, 0.43 % with ~255 — about 15-20 µs per process per scan.
 */
export const DEFAULT_SCAN_INTERVAL_MS = 1000;
/**
 * The Worker gathers events for this long before posting them: one wake-up of the event
 * loop per burst instead of per event, and a process that lives shorter than this (fork,
 * exec, exit in one batch) costs no /proc read at all. Measured with 100 forks/s on top of
 * ~600 background events/s (bench/track-process.ts, 15 s windows): 20 ms → 1.4 % of a
 * core, 50 ms → 1.0 %, 100 ms → 0.7 % (60 s at 50 ms: 0.78 %). 50 ms is small beside
 * advert_int (1 s) and fork_delay/terminate_delay (seconds), and 20× quicker than the scan.
 */
export const DEFAULT_BATCH_MS = 50;
/** Room for a fork storm during one batch (link-monitor-worker.ts uses the same). */
const DEFAULT_RCVBUF_BYTES = 1 << 20;
/** keepalived re-reads /proc one second after an overflow (process_lost_messages_timer). */
const OVERRUN_RESCAN_MS = 1000;
/** Covers the connector's acknowledgement wait (1 s) and a slow Worker start. */
const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 2000;

export interface WatchLog {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export interface TrackedProcess {
  readonly name: string;
  readonly match: ProcessMatcher;
}

export interface ProcessWatcherOptions {
  /** "auto": the connector, else the scan; "connector": fail without it; "scan": no connector. */
  readonly mode?: "auto" | "connector" | "scan";
  readonly scanIntervalMs?: number;
  /** How long the connector Worker gathers events before posting them. */
  readonly batchMs?: number;
  /**
   * global_defs process_monitor_rcv_bufs / process_monitor_rcv_bufs_force. Default 1 MiB
   * (capped by net.core.rmem_max unless forced); keepalived keeps the kernel's default.
   */
  readonly rcvbufBytes?: number;
  readonly rcvbufForce?: boolean;
}

/** See link-monitor.ts: in the compiled binary the Worker sits under ./io/ of the bundle. */
function workerUrl(): URL {
  return import.meta.url.includes("/$bunfs/")
    ? new URL("./io/process-watch-worker.ts", import.meta.url)
    : new URL("./process-watch-worker.ts", import.meta.url);
}

const NONE: readonly number[] = [];

/** The Worker's failure as the AgentError it was there, errno kept in a SyscallFailure. */
function workerError(m: Extract<ConnectorMessage, { type: "error" }>): AgentError {
  const hint = connectorHint(m.errno);
  const text = hint && !m.message.includes(hint) ? `${m.message} (${hint})` : m.message;
  const cause =
    m.errno === undefined
      ? undefined
      : new SyscallFailure(m.syscall ?? "proc connector", m.errno, m.errnoValue ?? 0);
  return new AgentError(m.code as ErrorCode, text, "proc connector", cause ? { cause } : {});
}

export class ProcessWatcher {
  /** pid → indexes of the trackers it counts for (only pids that count somewhere). */
  private pids = new Map<number, readonly number[]>();
  private readonly counts: number[];
  private readonly reported: (number | undefined)[];
  /** Bytes of cmdline the matchers need; 0 when all compare names only. */
  private readonly cmdlineBytes: number;
  private worker: Worker | undefined;
  private wakeFd = -1;
  private scanTimer: ReturnType<typeof setInterval> | undefined;
  private rescanTimer: ReturnType<typeof setTimeout> | undefined;
  private workerStopped: (() => void) | undefined;
  private running = false;
  private current: "connector" | "scan" | undefined;
  private readonly counters = { events: 0, batches: 0, procReads: 0, scans: 0, overruns: 0 };

  constructor(
    private readonly trackers: readonly TrackedProcess[],
    private readonly onCount: (name: string, count: number) => void,
    private readonly log: WatchLog,
    private readonly opts: ProcessWatcherOptions = {},
  ) {
    this.counts = trackers.map(() => 0);
    this.reported = trackers.map(() => undefined);
    this.cmdlineBytes = Math.max(
      0,
      ...trackers.filter((t) => t.match.usesCmdline).map((t) => t.match.cmdlineBytes),
    );
  }

  /** How processes are being followed, once started. */
  get mode(): "connector" | "scan" | undefined {
    return this.current;
  }

  /** What the watcher has done so far: for metrics and the benchmark. */
  get stats(): Readonly<typeof this.counters> {
    return { ...this.counters };
  }

  /** The last count reported for `name`. */
  count(name: string): number | undefined {
    const i = this.trackers.findIndex((t) => t.name === name);
    return i < 0 ? undefined : this.reported[i];
  }

  /**
   * Subscribes (or falls back), reads /proc and reports every tracker's count once before
   * resolving. Rejects only in mode "connector" when the connector is unavailable.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const t of this.trackers)
      for (const w of t.match.warnings) this.log.warn(`track_process ${t.name}: ${w}`);
    const mode = this.opts.mode ?? "auto";
    if (mode !== "scan") {
      try {
        await this.startConnector();
        if (!this.running) return; // stop() came meanwhile
        this.current = "connector";
        this.log.debug("track_process: following process events (proc connector)");
      } catch (e) {
        if (mode === "connector" || !(e instanceof AgentError)) {
          this.running = false;
          throw e;
        }
        this.log.info(`track_process: ${e.message}; ${this.fallbackText()}`);
      }
    }
    if (!this.running) return;
    if (!this.current) this.startScanning();
    this.scan();
  }

  /** Stops following processes; no count is reported after it resolves. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.scanTimer);
    clearTimeout(this.rescanTimer);
    this.scanTimer = this.rescanTimer = undefined;
    await this.stopWorker();
    this.current = undefined;
  }

  private fallbackText(): string {
    return `scanning /proc every ${this.opts.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS} ms instead`;
  }

  private startScanning(): void {
    this.current = "scan";
    const every = this.opts.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS;
    this.scanTimer = setInterval(() => this.scan(), every);
  }

  // ─── counting ─────────────────────────────────────────────────────────────────────────

  private matching(pid: number): readonly number[] {
    this.counters.procReads++;
    const info = readProcess(pid, this.cmdlineBytes);
    if (!info) return NONE;
    const out: number[] = [];
    this.trackers.forEach((t, i) => {
      if (t.match(info)) out.push(i);
    });
    return out.length ? out : NONE;
  }

  /** Replaces what `pid` counts for. */
  private set(pid: number, next: readonly number[]): void {
    const prev = this.pids.get(pid) ?? NONE;
    if (prev === NONE && next === NONE) return;
    for (const i of prev) this.counts[i] = (this.counts[i] ?? 0) - 1;
    for (const i of next) this.counts[i] = (this.counts[i] ?? 0) + 1;
    if (next.length) this.pids.set(pid, next);
    else this.pids.delete(pid);
  }

  /** Reads every process afresh (start, fallback period, after an overflow). */
  private scan(): void {
    if (!this.running) return;
    this.counters.scans++;
    const next = new Map<number, readonly number[]>();
    this.counts.fill(0);
    for (const pid of listPids()) {
      const m = this.matching(pid);
      if (m === NONE) continue;
      next.set(pid, m);
      for (const i of m) this.counts[i] = (this.counts[i] ?? 0) + 1;
    }
    this.pids = next;
    this.flush();
  }

  private apply(events: Int32Array): void {
    this.counters.batches++;
    this.counters.events += events.length / 3;
    // A process that exits later in this batch need not be read: it is gone by now.
    const exitAt = new Map<number, number>();
    for (let k = 0; k + 2 < events.length; k += 3)
      if (events[k] === EV_EXIT) exitAt.set(events[k + 1] ?? 0, k);
    for (let k = 0; k + 2 < events.length; k += 3) {
      const kind = events[k];
      const pid = events[k + 1] ?? 0;
      if (kind === EV_EXIT) this.set(pid, NONE);
      else if (kind === EV_EXEC || kind === EV_COMM)
        this.set(pid, (exitAt.get(pid) ?? -1) > k ? NONE : this.matching(pid));
      else if (kind === EV_FORK) {
        const parent = this.pids.get(events[k + 2] ?? 0);
        if (parent) this.set(pid, parent);
      }
    }
    this.flush();
  }

  private flush(): void {
    this.trackers.forEach((t, i) => {
      const n = this.counts[i] ?? 0;
      if (n === this.reported[i] || !this.running) return;
      this.reported[i] = n;
      try {
        this.onCount(t.name, n);
      } catch (e) {
        this.log.warn(`track_process ${t.name}: count handler failed: ${String(e)}`);
      }
    });
  }

  // ─── the connector Worker ─────────────────────────────────────────────────────────────

  private startConnector(): Promise<void> {
    this.wakeFd = eventfd();
    const worker = new Worker(workerUrl());
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const fail = (err: AgentError) => {
        clearTimeout(timer);
        if (!started) {
          this.disposeWorker();
          reject(err);
        } else this.connectorLost(err);
      };
      const timer = setTimeout(
        () =>
          fail(
            new AgentError(
              "E_SOCKET",
              `the process-watch Worker did not start within ${START_TIMEOUT_MS} ms ` +
                "(is src/io/process-watch-worker.ts an entrypoint of the build?)",
            ),
          ),
        START_TIMEOUT_MS,
      );
      worker.onmessage = (ev: MessageEvent<ConnectorMessage>) => {
        const m = ev.data;
        if (m.type === "ready") {
          clearTimeout(timer);
          started = true;
          this.log.debug(`track_process: proc connector receive buffer ${m.rcvbufBytes} bytes`);
          resolve();
        } else if (m.type === "events") {
          if (this.running) this.apply(m.events);
        } else if (m.type === "overrun") this.overrun(m.rcvbufBytes);
        else if (m.type === "error") fail(workerError(m));
        else this.workerStopped?.();
      };
      worker.onerror = (ev) =>
        fail(new AgentError("E_SOCKET", `process-watch Worker failed: ${ev.message}`));
      worker.postMessage({
        op: "start",
        wakeFd: this.wakeFd,
        rcvbufBytes: this.opts.rcvbufBytes ?? DEFAULT_RCVBUF_BYTES,
        ...(this.opts.rcvbufForce ? { rcvbufForce: true } : {}),
        batchMs: this.opts.batchMs ?? DEFAULT_BATCH_MS,
      } satisfies ConnectorCommand);
    });
  }

  /** Lost events: keepalived's process_lost_messages_timer_thread, one rescan per burst. */
  private overrun(rcvbufBytes: number): void {
    this.counters.overruns++;
    this.log.warn(
      "track_process: process events were lost (receive buffer full); re-reading /proc " +
        `in ${OVERRUN_RESCAN_MS} ms; buffer now ${rcvbufBytes} bytes — consider raising ` +
        "global_defs process_monitor_rcv_bufs",
    );
    clearTimeout(this.rescanTimer);
    this.rescanTimer = setTimeout(() => this.scan(), OVERRUN_RESCAN_MS);
  }

  /** The Worker failed after starting: keep counting by scanning. */
  private connectorLost(err: AgentError): void {
    this.disposeWorker();
    if (!this.running || this.current === "scan") return;
    this.log.warn(`track_process: ${err.message}; ${this.fallbackText()}`);
    this.startScanning();
    this.scan();
  }

  private async stopWorker(): Promise<void> {
    if (!this.worker) return;
    const stopped = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
      this.workerStopped = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    eventfdWrite(this.wakeFd);
    await stopped;
    this.disposeWorker();
  }

  private disposeWorker(): void {
    // Wake it first: a Worker still opening the socket then leaves poll() at once.
    if (this.wakeFd >= 0) eventfdWrite(this.wakeFd);
    this.worker?.terminate();
    this.worker = undefined;
    this.workerStopped = undefined;
    if (this.wakeFd >= 0) closeFd(this.wakeFd);
    this.wakeFd = -1;
  }
}
