/**
 * The config-time half of running a script, and the exact command line of one run:
 * keepalived's check_script_secure() outcome turned into what to exec, as whom, and how
 * (keepalived/core/notify.c system_call_script and cmd_str). See script-runner.ts for the
 * process side.
 */
import { closeSync, openSync, readSync } from "node:fs";
import {
  checkScriptSecurity,
  disables,
  type ScriptSpec,
  type SecurityFs,
  type SecurityResult,
  securityMessage,
} from "./script-security.ts";
import type { RunAs, RunAsResult, UserSpec } from "./script-users.ts";

/** Global settings that decide how scripts are resolved (global_defs, §1.3). */
export interface ScriptPolicy {
  readonly scriptUser?: UserSpec | undefined;
  readonly scriptSecurity?: boolean | undefined;
  readonly setSupplementaryGroups?: boolean | undefined;
  readonly useSymlinkPaths?: boolean | undefined;
}

export type ScriptSetupCode =
  | "unknown-user"
  | "unknown-group"
  | "lookup-failed"
  | "no-default-user"
  | "not-found"
  | "not-executable"
  | "wrong-type"
  | "insecure"
  | "no-setpriv";

/** Why a script cannot be run; `subject` names the user, group or path at fault. */
export interface ScriptSetupError {
  readonly code: ScriptSetupCode;
  readonly subject: string;
  readonly message: string;
}

/** A script resolved once: who runs it, which file, how. */
export interface PreparedScript {
  readonly runAs: RunAs;
  readonly mode: "exec" | "system";
  /** exec: the file execve'd. system: "/bin/sh". */
  readonly execPath: string;
  /** argv with argv[0] as the script sees it (exec), or as configured (system). */
  readonly argv: readonly string[];
}

/**
 * `security` is the check's result when one ran (not when the user lookup failed): collect
 * them for securityViolation(), keepalived's one SECURITY VIOLATION line per config.
 */
export type PrepareResult =
  | { readonly ok: true; readonly script: PreparedScript; readonly security?: SecurityResult }
  | {
      readonly ok: false;
      readonly error: ScriptSetupError;
      readonly security?: SecurityResult;
    };

/** Removed from the environment before exec (keepalived master, system_call_script). */
const UNSAFE_ENV = [
  "IFS",
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  // systemd's, for the agent only (sd-notify.ts also removes them at start).
  "NOTIFY_SOCKET",
  "WATCHDOG_USEC",
  "WATCHDOG_PID",
];

export function cleanEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && !UNSAFE_ENV.includes(k)) out[k] = v;
  return out;
}

/** keepalived's cmd_str(): the line handed to /bin/sh -c. */
export function shellLine(argv: readonly string[]): string {
  return argv
    .map((a, i) =>
      i === 0 && (a.startsWith("<") || a.startsWith(">")) ? a : `'${a.replaceAll("'", "'\\''")}'`,
    )
    .join(" ");
}

/** Whether execve can start the file itself: ELF or "#!"; unreadable counts as yes. */
export function execFormat(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const head = new Uint8Array(4);
    const n = readSync(fd, head, 0, 4, 0);
    const elf =
      n === 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
    return elf || (n >= 2 && head[0] === 0x23 && head[1] === 0x21);
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface PrepareContext {
  readonly policy: ScriptPolicy;
  readonly fs?: SecurityFs | undefined;
  /** PATH for bare program names (the scripts' environment's). */
  readonly pathEnv: string;
  /** setpriv(1), if installed: needed for supplementary groups. */
  readonly setpriv: string | undefined;
  readonly warn: (line: string) => void;
}

function fail(
  code: ScriptSetupCode,
  subject: string,
  message: string,
  security?: SecurityResult,
): PrepareResult {
  return { ok: false, error: { code, subject, message }, ...(security ? { security } : {}) };
}

/** One script, resolved for `who`: the failure that keeps it from running, or how to run it. */
export function prepareScript(
  cmd: ScriptSpec,
  who: RunAsResult,
  label: string,
  ctx: PrepareContext,
): PrepareResult {
  if (!who.ok) return fail(who.code, who.subject, who.message);
  const runAs = who.runAs;
  const security = ctx.policy.scriptSecurity === true;
  const sec = checkScriptSecurity(cmd, runAs, {
    ...(ctx.fs ? { fs: ctx.fs } : {}),
    useSymlinkPaths: ctx.policy.useSymlinkPaths === true,
    pathEnv: ctx.pathEnv,
  });
  const text = securityMessage(sec, security);
  if (!sec.ok && disables(sec, security)) return fail(sec.code, sec.path, text ?? sec.reason, sec);
  if (text) ctx.warn(`${label}: ${text}`);
  if ((runAs.groups?.length ?? 0) > 0 && !ctx.setpriv) {
    const message = "supplementary groups need setpriv(1), which is not installed";
    return fail("no-setpriv", "setpriv", message, sec);
  }
  const r = sec.resolved;
  if (r === undefined || r.kind === "system") {
    const script = { runAs, mode: "system", execPath: "/bin/sh", argv: cmd.command } as const;
    return { ok: true, script, security: sec };
  }
  const argv = [r.argv0, ...cmd.command.slice(1)];
  if (execFormat(r.realPath)) {
    return { ok: true, script: { runAs, mode: "exec", execPath: r.execPath, argv }, security: sec };
  }
  ctx.warn(`${label}: ${r.argv0} has no "#!" line; it is run through /bin/sh`);
  return { ok: true, script: { runAs, mode: "system", execPath: "/bin/sh", argv }, security: sec };
}

/** What Bun.spawn is given for one run. */
export interface SpawnPlan {
  readonly cmd: readonly string[];
  readonly argv0?: string;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * The command line of one run of `p` with `extraArgs`. With supplementary groups, setpriv
 * sets ids, groups and (for exec'ed scripts) the parent-death signal, then execs the
 * program itself, so argv[0] becomes the exec'ed path. Otherwise Bun sets uid and gid,
 * which also clears the supplementary groups (setgroups(0)); only root may do that, so an
 * unprivileged agent passes ids only to change them (and then fails, as keepalived does).
 */
export function spawnPlan(
  p: PreparedScript,
  extraArgs: readonly string[],
  self: { readonly uid: number; readonly gid: number },
  setpriv: string | undefined,
): SpawnPlan {
  const args = [...p.argv.slice(1), ...extraArgs];
  const [file, argv0, rest] =
    p.mode === "system"
      ? ["/bin/sh", "sh", ["-c", shellLine([p.argv[0] ?? "", ...args])]]
      : [p.execPath, p.argv[0] ?? p.execPath, args];
  const { uid, gid } = p.runAs;
  const groups = p.runAs.groups ?? [];
  if (groups.length > 0 && setpriv) {
    const priv = [`--reuid=${uid}`, `--regid=${gid}`, `--groups=${groups.join(",")}`];
    if (p.mode === "exec") priv.push("--pdeathsig=TERM");
    return { cmd: [setpriv, ...priv, "--", file, ...rest] };
  }
  const root = self.uid === 0;
  return {
    cmd: [file, ...rest],
    argv0,
    ...(root || uid !== self.uid ? { uid } : {}),
    ...(root || gid !== self.gid ? { gid } : {}),
  };
}
