/**
 * The little of /proc that track_process needs: which processes exist, each one's name
 * (comm) and state, and the start of its command line. Reads are bounded and reuse one
 * buffer: this runs for every process on every fallback scan.
 *
 * As keepalived's read_procs (keepalived/core/track_process.c): the name and state come from
 * /proc/PID/stat, zombies do not count (their exit has been seen; only the parent's wait is
 * missing), and /proc/PID/cmdline is read only when some tracker compares command lines,
 * and then only as many bytes as the longest configured line needs, because reading it
 * touches the process's memory (swapping it in if need be).
 */
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import type { ProcessInfo } from "../core/track/process-match.ts";

/** "PID (comm) S": comm is at most 15 bytes, so the state is within the first ~40. */
const STAT_BYTES = 128;
const utf8 = new TextDecoder("utf-8");
const scratch = { buf: new Uint8Array(STAT_BYTES) };

function buffer(n: number): Uint8Array {
  if (scratch.buf.length < n) scratch.buf = new Uint8Array(Math.max(n, scratch.buf.length * 2));
  return scratch.buf;
}

/**
 * Up to `max` bytes of a /proc file, or undefined if the process is gone (ENOENT; ESRCH when
 * it exits between open and read) or the file cannot be read (hidepid, EACCES).
 */
function readBounded(path: string, max: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const buf = buffer(max);
    let n = 0;
    // /proc files are generated on read; a short read is possible before EOF.
    for (;;) {
      const got = readSync(fd, buf, n, max - n, null);
      if (got <= 0) break;
      n += got;
      if (n >= max) break;
    }
    return buf.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Every process id in /proc (thread ids are not listed there, only thread-group leaders). */
export function listPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    const c = name.charCodeAt(0);
    if (c >= 49 && c <= 57) out.push(Number(name)); // "1".."9": pids never start with 0
  }
  return out;
}

/** comm and state from the start of /proc/PID/stat; the name may itself contain ')'. */
export function parseStat(b: Uint8Array): { comm: string; state: string } | undefined {
  const open = b.indexOf(0x28); // '('
  const close = b.lastIndexOf(0x29); // ')': the fields after it are numbers and a letter
  if (open < 0 || close < open || close + 2 >= b.length) return undefined;
  return {
    comm: utf8.decode(b.subarray(open + 1, close)),
    state: String.fromCharCode(b[close + 2] ?? 0),
  };
}

/** /proc/PID/cmdline bytes as arguments: split at NUL, its final terminator dropped. */
export function splitCmdline(b: Uint8Array): string[] {
  if (b.length === 0) return [];
  const end = b[b.length - 1] === 0 ? b.length - 1 : b.length;
  return utf8.decode(b.subarray(0, end)).split("\0");
}

/**
 * What the matchers see of `pid`, or undefined when it is gone or a zombie. `cmdlineBytes`
 * 0 skips the command line (cmdline is then []).
 */
export function readProcess(pid: number, cmdlineBytes: number): ProcessInfo | undefined {
  const stat = readBounded(`/proc/${pid}/stat`, STAT_BYTES);
  const s = stat && parseStat(stat);
  if (!s || s.state === "Z" || s.state === "X") return undefined;
  if (cmdlineBytes <= 0) return { comm: s.comm, cmdline: [] };
  const raw = readBounded(`/proc/${pid}/cmdline`, cmdlineBytes);
  if (!raw) return undefined;
  return { comm: s.comm, cmdline: splitCmdline(raw) };
}
