/**
 * Which running processes a `vrrp_track_process` counts (reference §1.6). keepalived's rules,
 * from keepalived's C sources core/track_process (read_procs, check_process, check_params)
 * and vrrp/vrrp_parser (vrrp_tprocess_process_handler, vrrp_tprocess_match_handler):
 *
 * - The first word of `process` is compared byte for byte (strcmp, not a pattern: pgrep
 *   "^name$") with either the process name (/proc/PID/comm, what prctl(PR_SET_NAME) sets)
 *   or, with `full_command`, argv[0] (the first NUL-terminated string of /proc/PID/cmdline).
 * - The kernel keeps at most 15 bytes of a name (TASK_COMM_LEN 16) and keepalived does not
 *   shorten the configured one, so a longer name never matches by name; neither does a
 *   path, since a name has no '/'. Both need `full_command` (see matcherWarnings).
 * - Further words are parameters. Giving any, or writing `param_match`, implies
 *   `full_command`. Parameters are compared with argv[1..]:
 *     exact (the default once there are parameters; bare `param_match` with none asks for
 *       "no parameters at all"): the same number and each equal;
 *     partial: the configured ones are the first arguments, each equal; more may follow;
 *     initial: as partial, except that the last configured one need only begin the
 *       corresponding argument ("--conf" matches "--config=/etc/x").
 *   The man page's wording for partial/initial agrees with check_params; the comments in
 *   keepalived's vrrp_track.h have the two names swapped.
 * - `param_match initial|partial` with no parameters checks nothing beyond argv[0].
 */

/** What the watcher knows of one running program. */
export interface ProcessInfo {
  /** /proc/PID/comm without the newline: at most 15 bytes. */
  readonly comm: string;
  /**
   * /proc/PID/cmdline split at NUL, the final terminator dropped; it may be cut short
   * (see ProcessMatcher.cmdlineBytes), and is empty when the matcher does not use it.
   */
  readonly cmdline: readonly string[];
}

export type ParamMatch = "exact" | "initial" | "partial";

/** A `vrrp_track_process` block's matching part. */
export interface ProcessMatchSpec {
  /** `process` words: [0] the name or path, the rest the parameters. Never empty. */
  readonly process: readonly string[];
  /**
   * `param_match` and its argument. keepalived also accepts it bare ("exact"), which with
   * no parameters means the command must have none.
   */
  readonly paramMatch?: ParamMatch;
  readonly fullCommand?: boolean;
}

/** A compiled matcher: the predicate, plus what the watcher has to read for it. */
export interface ProcessMatcher {
  (p: ProcessInfo): boolean;
  /** It compares the command line (full_command, or parameters); else the name only. */
  readonly usesCmdline: boolean;
  /**
   * How many bytes of /proc/PID/cmdline are enough to decide: every configured word with
   * its NUL, plus one byte to see that an argument or the list goes on (track_process
   * reads only this much: cmdline lives in the process's memory, which may be swapped).
   */
  readonly cmdlineBytes: number;
  /** For logs: `name "nginx"` or `argv "/usr/sbin/nginx" "-g" … (partial)`. */
  readonly describe: string;
  /** Why it can never match, though keepalived accepts it silently (for the log). */
  readonly warnings: readonly string[];
}

/** TASK_COMM_LEN - 1 (linux/sched.h): the longest name the kernel keeps, in bytes. */
export const COMM_MAX_BYTES = 15;

/** UTF-8 length of a string, without TextEncoder (the config holds text, the kernel bytes). */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** The parameter rule in force: undefined = parameters are not looked at. */
function paramRule(spec: ProcessMatchSpec, params: readonly string[]): ParamMatch | undefined {
  if (spec.paramMatch !== undefined) return spec.paramMatch;
  return params.length > 0 ? "exact" : undefined;
}

/** check_params (keepalived core/track_process), over argument lists, not NUL-joined bytes. */
export function paramsMatch(
  rule: ParamMatch,
  want: readonly string[],
  args: readonly string[],
): boolean {
  if (rule === "exact") return args.length === want.length && want.every((w, i) => args[i] === w);
  if (args.length < want.length) return false;
  const last = want.length - 1;
  return want.every((w, i) =>
    rule === "initial" && i === last ? (args[i] ?? "").startsWith(w) : args[i] === w,
  );
}

export function compileMatcher(spec: ProcessMatchSpec): ProcessMatcher {
  const { process: words } = spec;
  const name = words[0];
  if (name === undefined) throw new RangeError("track_process: empty process line");
  const params = words.slice(1);
  const rule = paramRule(spec, params);
  const usesCmdline = spec.fullCommand === true || rule !== undefined;
  const cmdlineBytes = words.reduce((n, w) => n + utf8Bytes(w) + 1, 0) + 1;
  const test = usesCmdline
    ? (p: ProcessInfo) =>
        p.cmdline[0] === name &&
        (rule === undefined || paramsMatch(rule, params, p.cmdline.slice(1)))
    : (p: ProcessInfo) => p.comm === name;
  const quoted = words.map((w) => JSON.stringify(w)).join(" ");
  const describe = usesCmdline
    ? `argv ${quoted}${rule !== undefined && rule !== "exact" ? ` (${rule})` : ""}`
    : `name ${quoted}`;
  const warnings = usesCmdline ? [] : nameWarnings(name);
  return Object.assign(test, { usesCmdline, cmdlineBytes, describe, warnings });
}

/** A name compared with comm that can never be equal to one. */
function nameWarnings(name: string): string[] {
  const out: string[] = [];
  if (utf8Bytes(name) > COMM_MAX_BYTES)
    out.push(
      `process name "${name}" is longer than the ${COMM_MAX_BYTES} bytes the kernel keeps ` +
        "of a name, so it never matches; add full_command to compare it with argv[0]",
    );
  if (name.includes("/"))
    out.push(
      `process "${name}" is a path but is compared with the process name, ` +
        "which never contains '/'; add full_command to compare it with argv[0]",
    );
  return out;
}

/** Configurations that can never match, which keepalived accepts silently. */
export function matcherWarnings(spec: ProcessMatchSpec): readonly string[] {
  return compileMatcher(spec).warnings;
}
