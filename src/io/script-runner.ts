/**
 * Starts vrrp_script checks and notify hooks the way keepalived's system_call_script()
 * does (keepalived/core/notify.c; reference §2.15), and keeps every child until it is
 * reaped.
 *
 * What a script gets, as with keepalived:
 *  - argv exactly as configured plus the caller's extra arguments, execve'd directly (no
 *    shell) from the resolved path, argv[0] being the configured path (cleaned);
 *  - through `/bin/sh -c` only for a "</file" readability test, or for an executable file
 *    that is neither ELF nor "#!" (keepalived decides that with libmagic when built with it;
 *    Debian's build is not, and would fail the exec): each argument single-quoted, the
 *    first left bare when it starts with "<" or ">" (keepalived's cmd_str);
 *  - uid, gid and supplementary groups of its run-as user; groups are cleared unless asked
 *    for (keepalived master; 2.2.7 set just the primary gid);
 *  - its own process group (here: its own session too, which is how Bun offers it), so a
 *    signal reaches everything it started;
 *  - our environment minus IFS, LD_PRELOAD and LD_LIBRARY_PATH, taken once at construction;
 *  - stdin, stdout and stderr on /dev/null and no other descriptor (Bun closes every fd
 *    above 2 in the child, inheritable or not: checked);
 *  - default signal dispositions and an empty signal mask (Bun resets them: checked).
 * Differences, on purpose: a failed exec or a shell's 126/127 is a failure here (keepalived
 * exits 0 from the forked child, "script errors aren't server errors", so a vanished
 * vrrp_script would count as success). PR_SET_PDEATHSIG=SIGTERM, which keepalived sets on
 * exec'ed scripts, needs a pre-exec hook Bun lacks: it is set (through setpriv) only for
 * scripts with supplementary groups; for the rest the scripts are sent SIGTERM when this
 * process exits by any path that runs 'exit' listeners, and systemd's cgroup covers a crash.
 */

import { constants } from "node:os";
import type { Subprocess } from "bun";
import { monotonicMs } from "./clock.ts";
import {
  cleanEnv,
  type PreparedScript,
  type PrepareResult,
  prepareScript,
  type ScriptPolicy,
  spawnPlan,
} from "./script-prepare.ts";
import type { ScriptSpec, SecurityFs } from "./script-security.ts";
import {
  defaultRunAs,
  lookupRunAs,
  type RunAs,
  type RunAsResult,
  systemUserDb,
  type UserDb,
  type UserSpec,
} from "./script-users.ts";

export type {
  PreparedScript,
  PrepareResult,
  ScriptPolicy,
  ScriptSetupCode,
  ScriptSetupError,
} from "./script-prepare.ts";
export type { ScriptSpec } from "./script-security.ts";
export type { RunAs, UserSpec } from "./script-users.ts";

/** What the runner logs through (a consola instance fits). */
export interface ScriptLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ScriptExit {
  /** Exit status, or null when a signal ended it. */
  readonly code: number | null;
  /** "SIGTERM", … or null. */
  readonly signal: string | null;
  /** Exit status 0 only; any signal is a failure. */
  readonly success: boolean;
  readonly runMs: number;
  /** Ended by the start() timeout (keepalived's "timed_out"). */
  readonly timedOut: boolean;
}

export interface ScriptHandle {
  readonly pid: number;
  /**
   * To the script's whole process group: while it runs, and for POST_EXIT_SIGNAL_MS after
   * it was reaped (keepalived SIGKILLs the group of a script its SIGTERM ended, to take
   * what it left behind). Later it is ignored: the group id could by then name another.
   */
  signal(sig: "SIGTERM" | "SIGKILL"): void;
}

/** How long after the reap a handle still signals the group (see ScriptHandle). */
export const POST_EXIT_SIGNAL_MS = 5000;

export interface StartOptions {
  /** Says what the run is for in log lines: "notify_master of VI_1", "vrrp_script chk". */
  readonly why: string;
  readonly onExit?: (r: ScriptExit) => void;
  /**
   * vrrp_script timeout: SIGTERM to the group when it passes, SIGKILL `killAfterMs` later
   * (keepalived: 2 s), and SIGKILL to what is left of the group once the script is gone.
   */
  readonly timeoutMs?: number;
}

export interface ScriptRunnerOptions extends ScriptPolicy {
  readonly log: ScriptLog;
  /** Run-as ids for scripts naming no user; default resolved from the policy. */
  readonly defaultUser?: RunAs;
  readonly userDb?: UserDb;
  readonly fs?: SecurityFs;
  /** The environment scripts inherit (default ours), before cleaning. */
  readonly env?: Record<string, string | undefined>;
  /** setpriv(1), used only for supplementary groups; null: never. */
  readonly setprivPath?: string | null;
  /** After a timeout's SIGTERM (keepalived vrrp_script: 2000). */
  readonly killAfterMs?: number;
}

/** Repeated SIGKILL period for a group that outlives SIGKILL (keepalived: 10 s). */
const REKILL_MS = 10_000;

interface Entry {
  readonly proc: Subprocess<"ignore", "ignore", "ignore">;
  readonly startMs: number;
  readonly why: string;
  timedOut: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  reapedAtMs?: number;
}

/** Bun reports a signal by name, or by number when it has no name for it. */
function signalName(s: string | number | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  if (typeof s === "string") return s;
  const found = Object.entries(constants.signals).find(([, n]) => n === s);
  return found ? found[0] : `signal ${s}`;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs scripts. Resolve each configured script once with prepare() when the config is
 * loaded (it looks names up and reads the file system); start() then only spawns. start()
 * on a script never prepared prepares it first.
 */
export class ScriptRunner {
  private readonly log: ScriptLog;
  private readonly db: UserDb;
  private readonly fs: SecurityFs | undefined;
  private readonly env: Record<string, string>;
  private readonly setpriv: string | undefined;
  private readonly killAfterMs: number;
  private readonly fixedDefault: RunAs | undefined;
  private readonly self = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
  private policy: ScriptPolicy = {};
  private defaultUser: RunAsResult;
  private prepared = new WeakMap<ScriptSpec, PrepareResult>();
  /** Scripts whose "cannot run" was logged already: one line, not one per interval. */
  private reported = new WeakSet<ScriptSpec>();
  private readonly entries = new Map<number, Entry>();
  private readonly waiters = new Set<() => void>();
  private hooked = false;
  private readonly onProcessExit = (): void => {
    for (const pid of this.entries.keys()) this.killGroup(pid, "SIGTERM");
  };

  constructor(opts: ScriptRunnerOptions) {
    this.log = opts.log;
    this.db = opts.userDb ?? systemUserDb();
    this.fs = opts.fs;
    this.env = cleanEnv(opts.env ?? process.env);
    const setpriv =
      opts.setprivPath === undefined ? Bun.which("setpriv") : (opts.setprivPath ?? undefined);
    this.setpriv = setpriv ?? undefined;
    this.killAfterMs = opts.killAfterMs ?? 2000;
    this.fixedDefault = opts.defaultUser;
    this.defaultUser = { ok: true, runAs: { uid: this.self.uid, gid: this.self.gid } };
    this.reconfigure(opts);
  }

  /** New global settings (a reload): the default user is resolved again, scripts re-prepared. */
  reconfigure(policy: ScriptPolicy): void {
    this.policy = {
      scriptUser: policy.scriptUser,
      scriptSecurity: policy.scriptSecurity,
      setSupplementaryGroups: policy.setSupplementaryGroups,
      useSymlinkPaths: policy.useSymlinkPaths,
    };
    this.prepared = new WeakMap();
    this.reported = new WeakSet();
    this.defaultUser = this.fixedDefault
      ? { ok: true, runAs: this.fixedDefault }
      : defaultRunAs(this.policy, this.db, this.self);
  }

  /** Who runs `cmd`: its own user, else `globalScriptUser`, else the default user. */
  resolveRunAs(cmd: ScriptSpec, globalScriptUser?: UserSpec): RunAsResult {
    const sup = this.policy.setSupplementaryGroups === true;
    if (cmd.user !== undefined) {
      const spec: UserSpec = {
        user: cmd.user,
        ...(cmd.group === undefined ? {} : { group: cmd.group }),
        ...(cmd.supplementary === undefined ? {} : { supplementary: cmd.supplementary }),
      };
      return lookupRunAs(spec, this.db, sup);
    }
    if (globalScriptUser) {
      return defaultRunAs({ ...this.policy, scriptUser: globalScriptUser }, this.db, this.self);
    }
    return this.defaultUser;
  }

  /**
   * Resolves `cmd` as keepalived does at config time (run-as user, PATH search, realpath,
   * executable check, script security) and remembers the answer for start(). Warnings
   * (PATH search, insecure without enable_script_security) are logged here, once.
   */
  prepare(cmd: ScriptSpec, label = "script"): PrepareResult {
    const known = this.prepared.get(cmd);
    if (known) return known;
    const r = this.prepareUncached(cmd, label);
    this.prepared.set(cmd, r);
    return r;
  }

  private prepareUncached(cmd: ScriptSpec, label: string): PrepareResult {
    return prepareScript(cmd, this.resolveRunAs(cmd), label, {
      policy: this.policy,
      fs: this.fs,
      pathEnv: this.env.PATH ?? "/bin:/usr/bin",
      setpriv: this.setpriv,
      warn: (line) => this.log.warn(line),
    });
  }

  /**
   * Starts `cmd` with `extraArgs` appended. Never throws. Returns undefined (after one log
   * line per script) when it could not be started; then onExit is never called. Otherwise
   * onExit is called exactly once, after the child has been reaped.
   */
  start(
    cmd: ScriptSpec,
    extraArgs: readonly string[],
    opts: StartOptions,
  ): ScriptHandle | undefined {
    let prep: PrepareResult;
    try {
      prep = this.prepare(cmd, opts.why);
    } catch (e) {
      prep = { ok: false, error: { code: "lookup-failed", subject: "", message: errText(e) } };
    }
    if (!prep.ok) {
      this.reportOnce(cmd, `${opts.why}: not run: ${prep.error.message}`);
      return undefined;
    }
    const startMs = monotonicMs();
    let proc: Entry["proc"];
    try {
      proc = this.spawn(prep.script, extraArgs);
    } catch (e) {
      this.log.error(`${opts.why}: cannot start ${cmd.command[0]}: ${errText(e)}`);
      return undefined;
    }
    const entry: Entry = {
      proc,
      startMs,
      why: opts.why,
      timedOut: false,
      timer: undefined,
    };
    const pid = proc.pid;
    this.entries.set(pid, entry);
    this.hook();
    proc.unref();
    if (opts.timeoutMs !== undefined) {
      entry.timer = setTimeout(() => {
        entry.timedOut = true;
        this.killGroup(pid, "SIGTERM");
        this.escalateLater(pid, entry, this.killAfterMs);
      }, opts.timeoutMs);
    }
    proc.exited.then(
      () => this.reaped(pid, entry, cmd, opts),
      () => this.reaped(pid, entry, cmd, opts),
    );
    return {
      pid,
      signal: (sig) => {
        const reaped = entry.reapedAtMs;
        if (reaped === undefined || monotonicMs() - reaped <= POST_EXIT_SIGNAL_MS)
          this.killGroup(pid, sig);
      },
    };
  }

  /** Scripts started and not yet reaped. */
  running(): number {
    return this.entries.size;
  }

  /**
   * SIGTERM to every running script's group, SIGKILL to those still there `killAfterMs`
   * later (keepalived's script_killall at shutdown, then child_killed_thread after 1 s).
   */
  terminateAll(killAfterMs = 1000): void {
    for (const [pid, entry] of this.entries) {
      clearTimeout(entry.timer);
      this.killGroup(pid, "SIGTERM");
      this.escalateLater(pid, entry, killAfterMs);
    }
  }

  /** Resolves true once no script is running, false if `timeoutMs` passes first. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.entries.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  private spawn(p: PreparedScript, extraArgs: readonly string[]): Entry["proc"] {
    const { cmd, ...ids } = spawnPlan(p, extraArgs, this.self, this.setpriv);
    return Bun.spawn([...cmd], {
      ...ids,
      env: this.env,
      detached: true,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
  }

  private reaped(pid: number, entry: Entry, cmd: ScriptSpec, opts: StartOptions): void {
    if (this.entries.get(pid) !== entry) return;
    this.entries.delete(pid);
    entry.reapedAtMs = monotonicMs();
    clearTimeout(entry.timer);
    const code = entry.proc.exitCode;
    const signal = signalName(entry.proc.signalCode);
    // keepalived: a timed-out script that died of our SIGTERM may have left children.
    if (entry.timedOut && signal === "SIGTERM") this.killGroup(pid, "SIGKILL");
    const r: ScriptExit = {
      code: signal === null ? code : null,
      signal,
      success: signal === null && code === 0,
      runMs: entry.reapedAtMs - entry.startMs,
      timedOut: entry.timedOut,
    };
    const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
    const line = `${opts.why}: ${cmd.command[0]} ${r.timedOut ? "timed out and " : ""}${how} after ${Math.round(r.runMs)} ms`;
    if (!r.success && !opts.onExit) this.log.warn(line);
    else this.log.debug(line);
    try {
      opts.onExit?.(r);
    } catch (e) {
      this.log.error(`${opts.why}: exit handler failed: ${errText(e)}`);
    }
    if (this.entries.size === 0) {
      this.unhook();
      for (const w of [...this.waiters]) {
        this.waiters.delete(w);
        w();
      }
    }
  }

  private escalateLater(pid: number, entry: Entry, afterMs: number): void {
    entry.timer = setTimeout(() => {
      if (this.entries.get(pid) !== entry) return;
      this.killGroup(pid, "SIGKILL");
      entry.timer = setTimeout(() => {
        if (this.entries.get(pid) !== entry) return;
        this.log.warn(`${entry.why}: pid ${pid} still there after SIGKILL`);
        this.escalateLater(pid, entry, 0);
      }, REKILL_MS);
    }, afterMs);
  }

  private killGroup(pid: number, sig: "SIGTERM" | "SIGKILL"): void {
    try {
      process.kill(-pid, sig);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code !== "ESRCH") this.log.warn(`kill ${sig} to process group ${pid}: ${errText(e)}`);
    }
  }

  private reportOnce(cmd: ScriptSpec, line: string): void {
    if (this.reported.has(cmd)) {
      this.log.debug(line);
      return;
    }
    this.reported.add(cmd);
    this.log.error(line);
  }

  private hook(): void {
    if (this.hooked) return;
    this.hooked = true;
    process.on("exit", this.onProcessExit);
  }

  private unhook(): void {
    if (!this.hooked) return;
    this.hooked = false;
    process.off("exit", this.onProcessExit);
  }
}
