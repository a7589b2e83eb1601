/**
 * track_file's eyes (reference §1.7): the integer in a file, re-read whenever the file
 * changes, as keepalived/trackers/track_file.c does it:
 *
 * - init_file (track_file_end_handler): at start, a missing file is created holding VALUE
 *   (default 0) and a newline; with `overwrite` an existing one is replaced too, but only if
 *   it is a regular file. Written to a temporary name and renamed into place (fopen_safe),
 *   mode 0666 less the umask. Not done on reload: the caller passes `init` only on the
 *   first start. (keepalived 2.2.7 rewrote an existing file even without `overwrite`; fixed
 *   upstream in 2025, commit 3f386640, which we follow.)
 * - the path is resolved once (init_track_files): realpath of the file if it exists, else of
 *   its directory, which must exist; a file on a read-only file system or on one inotify
 *   cannot watch (proc, sysfs, NFS, FUSE…) is refused (track_file_end_handler's statfs list).
 * - the DIRECTORY is watched, not the file, so a file replaced by rename, created later or
 *   deleted is still followed. keepalived reacts to IN_CLOSE_WRITE/IN_MOVED_TO (read) and
 *   IN_DELETE/IN_MOVED_FROM (value 0). node:fs.watch reports only "rename"/"change", so each
 *   event for our name schedules one read settleMs later and the read decides: missing
 *   counts as 0, exactly what keepalived's delete handling gives. The delay coalesces a
 *   burst (truncate, write, close) into one read; a writer slower than that may be read
 *   half-way, which the next event corrects (keepalived, waiting for the close, cannot be).
 * - reading and parsing: src/core/track/file-value.ts.
 *
 * onValue(v, why): `v` is the value to use; `why` says why it is not simply the file's
 * number (missing, unreadable). `v` undefined means the file held a number out of range,
 * which keepalived logs and ignores: keep the previous value. The first call happens inside
 * watch() and always carries a number (keepalived starts every track file at 0). Later
 * calls happen only when the value or its reason changes.
 */
import {
  accessSync,
  closeSync,
  constants,
  type FSWatcher,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  statfsSync,
  statSync,
  unlinkSync,
  watch,
  writeFileSync,
} from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseTrackFile, TRACK_FILE_READ_BYTES } from "../core/track/file-value.ts";
import { AgentError } from "../errors.ts";
import type { WatchLog } from "./process-watch.ts";

/** Coalescing window: a shell's `echo 5 > f` (truncate, write, close) takes microseconds. */
export const DEFAULT_SETTLE_MS = 50;

export type FileValueHandler = (v: number | undefined, why?: string) => void;

export interface FileWatchInit {
  /** init_file VALUE (default 0). */
  readonly value: number;
  /** init_file … overwrite: replace an existing regular file too. */
  readonly overwrite: boolean;
}

/**
 * File systems whose changes inotify does not see, or that are not where a track file
 * belongs (the statfs(2) magic numbers keepalived's track_file_end_handler refuses).
 */
// biome-ignore format: a table
const UNWATCHABLE: Record<number, string> = {
  3405662737: "bpf", 2613483: "cgroup", 1667723888: "cgroup2", 1684170528: "debugfs",
  7377: "devpts", 3730735588: "efivarfs", 1702057286: "fuse", 427819522: "mqueue",
  26985: "nfs", 1346981957: "pipefs", 40864: "proc", 29301: "romfs", 4185718668: "selinuxfs",
  20859: "smb", 4266872130: "smb2", 1397703499: "sockfs", 1650812274: "sysfs",
  19920822: "sysv2", 19920821: "sysv4", 1953653091: "tracefs",
};

interface Reading {
  readonly value: number | undefined;
  readonly why: string | undefined;
}

interface Entry {
  readonly path: string;
  readonly onValue: FileValueHandler;
  last: Reading;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface DirWatch {
  readonly watcher: FSWatcher;
  readonly files: Map<string, Entry[]>;
}

const latin1 = new TextDecoder("latin1");

function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? String(e);
}

/** process_track_file: open non-blocking (a FIFO must not hang us), read ≤ 127 bytes. */
export function readTrackFile(path: string): Reading {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = errCode(e);
    return { value: 0, why: code === "ENOENT" ? "file missing" : `cannot open: ${code}` };
  }
  const buf = new Uint8Array(TRACK_FILE_READ_BYTES);
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, null);
  } catch (e) {
    return { value: 0, why: `cannot read: ${errCode(e)}` };
  } finally {
    closeSync(fd);
  }
  const v = parseTrackFile(latin1.decode(buf.subarray(0, n)));
  return v.ok ? { value: v.value, why: undefined } : { value: undefined, why: v.why };
}

function configError(path: string, text: string): AgentError {
  return new AgentError("E_CONFIG_INVALID", `track file ${path}: ${text}`, path);
}

/** track_file_end_handler: init_file, written atomically. Failing to write only warns. */
function initFile(path: string, init: FileWatchInit, log: WatchLog | undefined): void {
  let exists = true;
  try {
    if (!statSync(path).isFile() && init.overwrite)
      throw configError(path, "cannot initialise it: not a regular file");
  } catch (e) {
    if (e instanceof AgentError) throw e;
    exists = false;
  }
  if (exists && !init.overwrite) return;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${init.value}\n`, { mode: 0o666, flag: "wx" });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    log?.warn(`track file ${path}: unable to initialise it: ${errCode(e)}`);
  }
}

/** init_track_files + track_file_end_handler: the path to watch, or a config error. */
export function resolveTrackFile(path: string): string {
  const abs = resolve(path);
  let dir: string;
  let full: string;
  try {
    full = realpathSync(abs);
    dir = dirname(full);
  } catch (e) {
    if (errCode(e) !== "ENOENT") throw configError(path, `not accessible: ${errCode(e)}`);
    try {
      dir = realpathSync(dirname(abs));
      if (!lstatSync(dir).isDirectory()) throw new Error("ENOTDIR");
    } catch {
      throw configError(path, "its directory does not exist");
    }
    full = `${dir === "/" ? "" : dir}/${basename(abs)}`;
  }
  const fsType = UNWATCHABLE[Number(statfsSync(dir).type) >>> 0];
  if (fsType) throw configError(path, `on a ${fsType} file system, which cannot be watched`);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (errCode(e) === "EROFS") throw configError(path, "on a read-only file system");
  }
  return full;
}

export class FileWatcher {
  private readonly dirs = new Map<string, DirWatch>();
  private stopped = false;
  private readonly settleMs: number;

  constructor(
    private readonly log?: WatchLog,
    opts: { readonly settleMs?: number } = {},
  ) {
    this.settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
  }

  /**
   * Follows `path`; calls onValue with the first value before returning. Throws AgentError
   * E_CONFIG_INVALID when keepalived would drop the track_file (missing directory,
   * unwatchable or read-only file system, init_file over something not a regular file).
   */
  watch(path: string, onValue: FileValueHandler, opts: { readonly init?: FileWatchInit } = {}) {
    if (this.stopped) throw new AgentError("E_USAGE", "FileWatcher.watch after stop()", path);
    // keepalived checks the directory first, then initialises the file at the path as
    // written (replacing a symlink there, as its rename does), then resolves it for good.
    resolveTrackFile(path);
    if (opts.init) initFile(resolve(path), opts.init, this.log);
    const full = resolveTrackFile(path);
    const first = readTrackFile(full);
    // keepalived ignores an out-of-range number at start too, and starts from 0.
    const last: Reading = first.value === undefined ? { value: 0, why: first.why } : first;
    const entry: Entry = { path: full, onValue, last, timer: undefined };
    const dw = this.dirFor(dirname(full));
    const name = basename(full);
    dw.files.set(name, [...(dw.files.get(name) ?? []), entry]);
    this.deliver(entry, last);
  }

  /** Closes every watch; no callback runs after this returns. */
  stop(): void {
    this.stopped = true;
    for (const dw of this.dirs.values()) {
      dw.watcher.close();
      for (const list of dw.files.values()) for (const e of list) clearTimeout(e.timer);
    }
    this.dirs.clear();
  }

  private dirFor(dir: string): DirWatch {
    const known = this.dirs.get(dir);
    if (known) return known;
    const files = new Map<string, Entry[]>();
    const watcher = watch(dir, { persistent: true }, (_event, filename) => {
      const name = filename === null ? undefined : String(filename);
      const hit = name === undefined ? [...files.values()].flat() : (files.get(name) ?? []);
      for (const e of hit) this.schedule(e);
    });
    watcher.on("error", (err) =>
      this.log?.warn(`track file directory ${dir}: watch failed: ${errCode(err)}`),
    );
    const dw = { watcher, files };
    this.dirs.set(dir, dw);
    return dw;
  }

  private schedule(e: Entry): void {
    if (e.timer !== undefined || this.stopped) return;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      if (!this.stopped) this.emit(e, readTrackFile(e.path));
    }, this.settleMs);
  }

  /** Reports a new reading if it differs from the last one (a repeated refusal does not). */
  private emit(e: Entry, r: Reading): void {
    if (r.why === e.last.why && (r.value === e.last.value || r.value === undefined)) return;
    e.last = r.value === undefined ? { value: e.last.value, why: r.why } : r;
    this.deliver(e, r);
  }

  private deliver(e: Entry, r: Reading): void {
    if (r.why !== undefined) this.log?.debug(`track file ${e.path}: ${r.why}`);
    try {
      if (r.why === undefined) e.onValue(r.value);
      else e.onValue(r.value, r.why);
    } catch (err) {
      this.log?.warn(`track file ${e.path}: value handler failed: ${String(err)}`);
    }
  }
}
