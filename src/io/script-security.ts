/**
 * Where a configured script really is, and whether it is safe to run: keepalived's
 * check_script_secure / check_security / find_path / clean_path (keepalived/core/notify.c,
 * the mirrored master; see §1.3 and §2.15 of the reference), rebuilt over an injected
 * file-system view so every rule can be tested on a fake tree.
 *
 * The rules, as keepalived applies them to every script at config time:
 *  - a command starting "<" (spaces or tabs may follow) then "/" only tests that a file can
 *    be opened: it is run through /bin/sh and never checked;
 *  - a program name without "/" is searched on PATH (PATH, else "/bin:/usr/bin") for a
 *    regular file the run-as uid:gid may execute; not found means disabled;
 *  - the path is resolved (realpath); unless use_symlink_paths, the resolved path is what
 *    gets exec'ed, while argv[0] keeps the configured path with "//", "/./" and "/../"
 *    removed (cleanPath);
 *  - a file the run-as uid:gid may not execute is disabled;
 *  - only a script that runs with uid 0 or gid 0, or is setuid-root / setgid-root, has its
 *    path walked: every prefix ("/", "/a", "/a/b", …) is lstat'ed, so a symlink anywhere but
 *    the last component is the wrong file type (always disabling); each component must be
 *    owned by root, and a regular file or a directory without the sticky bit must be neither
 *    world-writable nor writable by a group other than gid 0 (insecure: disabling only with
 *    enable_script_security, a warning otherwise). Both the configured path and the exec'ed
 *    (resolved) path are walked.
 * Since keepalived 2.3.0 the configured path is walked as written, so on a merged-/usr
 * host a root script configured as /bin/x is refused ("/bin" is a symlink) while /usr/bin/x
 * runs; 2.2.7 walks the resolved path and accepts both. We follow 2.2.7 (Debian's, and the
 * one our interop tests run against), and the 2.3 rule only with use_symlink_paths.
 * Differences from keepalived: realpath and the PATH search run with our own credentials,
 * not with the script user's effective ids, so a directory the script user may not search
 * is found here and fails later at exec.
 */
import { lstatSync, realpathSync, statSync } from "node:fs";
import type { ScriptCommand } from "../core/script-command.ts";

/** A configured script (core/script-command.ts); the name the io modules use for it. */
export type ScriptSpec = ScriptCommand;

/** The part of struct stat the rules read. `mode` includes the file-type bits. */
export interface FileStat {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Throws like node:fs (an Error with `code`, e.g. "ENOENT") when a call fails. */
export interface SecurityFs {
  lstat(path: string): FileStat;
  stat(path: string): FileStat;
  realpath(path: string): string;
}

export const nodeSecurityFs: SecurityFs = {
  lstat: (p) => lstatSync(p),
  stat: (p) => statSync(p),
  realpath: (p) => realpathSync.native(p),
};

export interface RunAsIds {
  readonly uid: number;
  readonly gid: number;
}

export interface SecurityOptions {
  readonly fs?: SecurityFs;
  /** Global `use_symlink_paths`: exec the configured path instead of the resolved one. */
  readonly useSymlinkPaths?: boolean;
  /** The PATH searched for a bare program name; default: ours, else "/bin:/usr/bin". */
  readonly pathEnv?: string | undefined;
}

/** Where the script is and how it starts. */
export type ResolvedScript =
  | { readonly kind: "system" }
  | {
      readonly kind: "file";
      /** argv[0] as the script will see it (configured path, cleaned). */
      readonly argv0: string;
      /** The file handed to execve. */
      readonly execPath: string;
      readonly realPath: string;
      /** stat() of realPath. */
      readonly stat: FileStat;
      /** Set when a bare name was found by PATH search (keepalived warns about it). */
      readonly foundOnPath?: string;
    };

export type SecurityCode = "not-found" | "not-executable" | "wrong-type" | "insecure";

export type SecurityResult =
  | {
      readonly ok: true;
      readonly resolved: ResolvedScript;
      /** True when the path was walked (the script runs with root's uid or gid). */
      readonly walked: boolean;
    }
  | {
      readonly ok: false;
      readonly code: SecurityCode;
      /** The path that failed: the component for a walk failure, else the script. */
      readonly path: string;
      readonly reason: string;
      /** The configured program (argv[0] before resolution). */
      readonly script: string;
      /** Present when resolution got as far as the file (keepalived's SC_ISSCRIPT). */
      readonly resolved?: ResolvedScript;
    };

type Failure = Extract<SecurityResult, { ok: false }>;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const PATH_MAX = 4096;
const NAME_MAX = 255;
/** glibc's confstr(_CS_PATH), keepalived's PATH when none is set. */
const CS_PATH = "/bin:/usr/bin";

const isDir = (st: FileStat) => (st.mode & S_IFMT) === S_IFDIR;
const isReg = (st: FileStat) => (st.mode & S_IFMT) === S_IFREG;
const isLink = (st: FileStat) => (st.mode & S_IFMT) === S_IFLNK;

function codeOf(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : "EIO";
}

/**
 * keepalived's is_executable(): root needs any x bit; the owner needs u+x; anyone else
 * g+x when the run-as gid is the file's group, else o+x. Supplementary groups are not
 * consulted, nor are u+x bits for others (unlike the kernel's access check).
 */
export function isExecutableBy(st: FileStat, uid: number, gid: number): boolean {
  if (uid === 0) return (st.mode & 0o111) !== 0;
  if (uid === st.uid) return (st.mode & 0o100) !== 0;
  return gid === st.gid ? (st.mode & 0o010) !== 0 : (st.mode & 0o001) !== 0;
}

/**
 * keepalived's clean_path(): a leading "./" or "../" is dropped to "/", as are leading
 * "/../", "/./" and "//"; a relative path gains a leading "/"; inside the path "//" and
 * "/./" go and "/../" removes the element before it (never above "/"). The last component
 * is kept as written, even "." or "..".
 */
export function cleanPath(p: string): string {
  let s = p.startsWith("./") ? p.slice(1) : p.startsWith("../") ? p.slice(2) : p;
  for (;;) {
    if (s.startsWith("/../")) s = s.slice(3);
    else if (s.startsWith("/./")) s = s.slice(2);
    else if (s.startsWith("//")) s = s.slice(1);
    else break;
  }
  if (!s.startsWith("/")) s = `/${s}`;
  const parts = s.slice(1).split("/");
  const last = parts.pop() ?? "";
  const out: string[] = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  out.push(last);
  return `/${out.join("/")}`;
}

/** keepalived's find_path() (glibc execvpe's search) for a name without "/". */
function findOnPath(
  name: string,
  runAs: RunAsIds,
  fs: SecurityFs,
  pathEnv: string,
): { ok: true; path: string } | { ok: false; reason: string } {
  if (name === "") return { ok: false, reason: "the program name is empty" };
  if (name.length >= PATH_MAX || name.length > NAME_MAX)
    return { ok: false, reason: "the program name is too long" };
  let denied = false;
  for (const dir of pathEnv.split(":")) {
    // An empty PATH element is the current directory, as for execvp.
    const candidate = dir === "" ? name : `${dir}/${name}`;
    let st: FileStat;
    try {
      st = fs.stat(candidate);
    } catch (e) {
      const c = codeOf(e);
      if (["ENOENT", "ENOTDIR", "EACCES", "ESTALE", "ENODEV", "ETIMEDOUT"].includes(c)) continue;
      return { ok: false, reason: `looking at ${candidate}: ${c}` };
    }
    if (isReg(st) && isExecutableBy(st, runAs.uid, runAs.gid)) return { ok: true, path: candidate };
    denied = true;
  }
  return {
    ok: false,
    reason: denied
      ? `found on PATH but not an executable file for uid:gid ${runAs.uid}:${runAs.gid}`
      : "not found on PATH",
  };
}

/** True for "</file" (blanks allowed after "<"): a readability test run through /bin/sh. */
export function isFileTest(argv0: string): boolean {
  return /^<[ \t]*\//.test(argv0);
}

/** Where the script's program is: the first half of keepalived's check_script_secure. */
export function resolveScript(
  cmd: ScriptSpec,
  runAs: RunAsIds,
  opts: SecurityOptions = {},
): { ok: true; resolved: ResolvedScript } | Failure {
  const fs = opts.fs ?? nodeSecurityFs;
  const script = cmd.command[0] ?? "";
  if (isFileTest(script)) return { ok: true, resolved: { kind: "system" } };
  const fail = (reason: string, path = script): Failure => ({
    ok: false,
    code: "not-found",
    path,
    reason,
    script,
  });
  let path = script;
  let foundOnPath: string | undefined;
  if (!script.includes("/")) {
    const found = findOnPath(script, runAs, fs, opts.pathEnv ?? process.env.PATH ?? CS_PATH);
    if (!found.ok) return fail(found.reason);
    path = foundOnPath = found.path;
  }
  let realPath: string;
  let stat: FileStat;
  try {
    realPath = fs.realpath(path);
  } catch (e) {
    return fail(`cannot be resolved (${codeOf(e)})`, path);
  }
  try {
    stat = fs.stat(realPath);
  } catch (e) {
    return fail(`cannot be read (${codeOf(e)})`, realPath);
  }
  const useSymlinks = opts.useSymlinkPaths === true;
  const argv0 = useSymlinks || realPath !== path ? cleanPath(path) : path;
  const execPath = realPath !== argv0 && !useSymlinks ? realPath : argv0;
  const resolved: ResolvedScript = {
    kind: "file",
    argv0,
    execPath,
    realPath,
    stat,
    ...(foundOnPath === undefined ? {} : { foundOnPath }),
  };
  return { ok: true, resolved };
}

const describeType = (st: FileStat) =>
  isLink(st) ? "a symbolic link" : isDir(st) ? "a directory" : isReg(st) ? "a file" : "special";

/** keepalived's check_security(): walks every prefix of `path` with lstat. */
export function walkPath(
  path: string,
  fs: SecurityFs,
): { ok: true } | { ok: false; code: SecurityCode; path: string; reason: string } {
  const prefixes: string[] = [];
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    prefixes.push(i === 0 ? "/" : path.slice(0, i));
  }
  prefixes.push(path);
  for (const [n, p] of prefixes.entries()) {
    const last = n === prefixes.length - 1;
    let st: FileStat;
    try {
      st = fs.lstat(p);
    } catch (e) {
      return { ok: false, code: "not-found", path: p, reason: `cannot be examined (${codeOf(e)})` };
    }
    if (last ? !isReg(st) && !isLink(st) : !isDir(st)) {
      const want = last ? "a file or a symbolic link" : "a directory";
      return {
        ok: false,
        code: "wrong-type",
        path: p,
        reason: `is ${describeType(st)}, not ${want}`,
      };
    }
    const insecure = unsafeBecause(st);
    if (insecure) return { ok: false, code: "insecure", path: p, reason: insecure };
  }
  return { ok: true };
}

/** Why one walked component is unsafe, or undefined. Symlinks' own bits do not count. */
function unsafeBecause(st: FileStat): string | undefined {
  if (st.uid !== 0) return `is owned by uid ${st.uid}, not root`;
  const bitsCount = (isDir(st) && (st.mode & S_ISVTX) === 0) || isReg(st);
  if (!bitsCount) return undefined;
  const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
  if (st.gid !== 0 && (st.mode & 0o020) !== 0)
    return `is writable by group ${st.gid} (mode ${mode})`;
  if ((st.mode & 0o002) !== 0) return `is writable by everyone (mode ${mode})`;
  return undefined;
}

/** Whether keepalived walks the path: root's uid or gid, or a setuid/setgid-root file. */
export function needsProtection(st: FileStat, runAs: RunAsIds): boolean {
  return (
    runAs.uid === 0 ||
    runAs.gid === 0 ||
    (st.uid === 0 && (st.mode & 0o100) !== 0 && (st.mode & S_ISUID) !== 0) ||
    (st.gid === 0 && (st.mode & 0o010) !== 0 && (st.mode & S_ISGID) !== 0)
  );
}

/**
 * keepalived's check_script_secure() for one script run as `runAs`. `ok: false` with code
 * "insecure" disables the script only under enable_script_security (see `disables`); every
 * other failure always disables it.
 */
export function checkScriptSecurity(
  cmd: ScriptSpec,
  runAs: RunAsIds,
  opts: SecurityOptions = {},
): SecurityResult {
  const fs = opts.fs ?? nodeSecurityFs;
  const r = resolveScript(cmd, runAs, opts);
  if (!r.ok) return r;
  const resolved = r.resolved;
  if (resolved.kind === "system") return { ok: true, resolved, walked: false };
  const script = cmd.command[0] ?? "";
  if (!isExecutableBy(resolved.stat, runAs.uid, runAs.gid)) {
    return {
      ok: false,
      code: "not-executable",
      path: resolved.realPath,
      reason: `is not executable for uid:gid ${runAs.uid}:${runAs.gid}`,
      script,
      resolved,
    };
  }
  if (!needsProtection(resolved.stat, runAs)) return { ok: true, resolved, walked: false };
  // keepalived 2.2.7 (what Debian ships, and what operators' configs run on) walks the
  // resolved path only, so /bin/sh on a merged-/usr host is /usr/bin/dash and fine. With
  // use_symlink_paths (2.3.0+) the configured path is walked too, as the master does; both
  // walks' flags are ORed there, and a disabling failure outranks "insecure".
  const walks = [walkPath(resolved.realPath, fs)];
  if (opts.useSymlinkPaths === true) {
    walks.push(walkPath(resolved.argv0, fs));
    if (resolved.execPath !== resolved.argv0 && resolved.execPath !== resolved.realPath)
      walks.push(walkPath(resolved.execPath, fs));
  }
  const failures = walks.filter((w) => !w.ok);
  const worst = failures.find((w) => w.code !== "insecure") ?? failures[0];
  if (worst === undefined) return { ok: true, resolved, walked: true };
  return { ...worst, script, resolved };
}

/** Whether keepalived would refuse to run the script. */
export function disables(r: SecurityResult, scriptSecurity: boolean): boolean {
  return !r.ok && (r.code !== "insecure" || scriptSecurity);
}

/**
 * What to log about one checked script (prefix it with what the script is for), or
 * undefined when there is nothing to say. Names the script and the path at fault.
 */
export function securityMessage(r: SecurityResult, scriptSecurity: boolean): string | undefined {
  if (r.ok) {
    const found = r.resolved.kind === "file" ? r.resolved.foundOnPath : undefined;
    return found === undefined
      ? undefined
      : `'${found.split("/").pop()}' was found on PATH as ${found}; configure the full path`;
  }
  const where = r.path === r.script ? `'${r.script}'` : `'${r.script}': ${r.path}`;
  const off = disables(r, scriptSecurity) ? " - script disabled" : "";
  switch (r.code) {
    case "insecure":
      return `unsafe permissions on script ${where} ${r.reason}${off}`;
    case "wrong-type": {
      // A symlinked directory (/bin on a merged-/usr host) is refused; the fix is the real path.
      const real = r.resolved?.kind === "file" ? `; configure ${r.resolved.realPath}` : "";
      return `script path ${where} ${r.reason}${off}${real}`;
    }
    case "not-executable":
    case "not-found":
      return `script ${where} ${r.reason}${off}`;
  }
}

/**
 * The one summary keepalived logs after checking all scripts when enable_script_security
 * is off and any script got as far as a file (config-test exit 6, §3.4); "SECURITY
 * VIOLATION" is kept because operators grep for it.
 */
export function securityViolation(
  results: readonly SecurityResult[],
  scriptSecurity: boolean,
): string | undefined {
  if (scriptSecurity) return undefined;
  const isScript = (r: SecurityResult) => r.resolved?.kind === "file";
  if (!results.some(isScript)) return undefined;
  const insecure = results.some((r) => !r.ok && r.code === "insecure");
  return `SECURITY VIOLATION: scripts are run but enable_script_security is not set${
    insecure ? "; some scripts are insecure" : ""
  }`;
}
