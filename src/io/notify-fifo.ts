/**
 * Notify FIFOs (reference §1.3, §2.15; keepalived core/notify.c fifo_open / fifo_close).
 * Opening: mkfifo the path with mode 0644 minus keepalived's umask if nothing is there
 * (and remember that we did: we remove it again at close, unlinking before closing so a
 * reader that loops reopening the path can't catch the old FIFO), give it to the configured
 * owner, then open it O_RDWR|O_NONBLOCK|O_NOFOLLOW. Holding the read side ourselves means a
 * write never fails for want of a reader, and O_NONBLOCK means it never waits: when the pipe
 * is full the line is dropped and counted. Whatever already had the name must be a FIFO
 * owned by us or by the configured user, or it is refused (keepalived's guard against a
 * planted file).
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  openSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { mkfifo } from "../../native/fifo.ts";
import { type FifoPlan, type PlannedFifo, planFifos } from "../core/notify/fifo-plan.ts";
import { AgentError } from "../errors.ts";

export { type FifoPlan, type PlannedFifo, planFifos };

export interface FifoLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface NotifyFifoOptions {
  /** Owner of a FIFO we create; also accepted as the owner of an existing one. */
  readonly uid?: number;
  readonly gid?: number;
  /** keepalived's `umask` (default 0177, lib/utils.c umask_val): the FIFO gets 0644 & ~umask. */
  readonly umask?: number;
}

/** keepalived's default umask_val (S_IXUSR|S_IRWXG|S_IRWXO): a created FIFO is 0600. */
export const KEEPALIVED_UMASK = 0o177;
const FIFO_MODE = 0o644;

/** A node:fs failure as the typed error the rest of the agent handles. */
function fsError(call: string, path: string, e: unknown): AgentError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? "unknown";
  const text = e instanceof Error ? e.message : String(e);
  return new AgentError("E_SOCKET", `${call}(${path}): ${text} [${code}]`, path, { cause: e });
}

const errCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

export class NotifyFifo {
  private fd: number;
  private linesWritten = 0;
  private linesDropped = 0;
  private writeErrors = 0;
  /** Lines dropped since the pipe last accepted one, for one warning per full spell. */
  private droppedInSpell = 0;

  private constructor(
    readonly path: string,
    fd: number,
    /** We created the FIFO, so close() removes it. */
    readonly created: boolean,
    private readonly log: FifoLog,
  ) {
    this.fd = fd;
  }

  /** Creates (if absent) and opens the FIFO; throws AgentError when it can't be used. */
  static open(path: string, opts: NotifyFifoOptions, log: FifoLog): NotifyFifo {
    const mode = FIFO_MODE & ~(opts.umask ?? KEEPALIVED_UMASK);
    const created = mkfifo(path, mode) === "created";
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (e) {
      if (created) unlinkQuietly(path);
      throw fsError("open", path, e);
    }
    try {
      NotifyFifo.check(path, fd, opts);
      if (created) NotifyFifo.own(path, fd, mode, opts, log);
    } catch (e) {
      closeSync(fd);
      if (created) unlinkQuietly(path);
      throw e;
    }
    log.info(`notify FIFO ${path} ${created ? "created" : "opened"}`);
    return new NotifyFifo(path, fd, created, log);
  }

  /** The open file must be a FIFO owned by us or by the configured owner (notify.c). */
  private static check(path: string, fd: number, opts: NotifyFifoOptions): void {
    const st = fstatSync(fd);
    if (!st.isFIFO())
      throw new AgentError(
        "E_CONFIG_INVALID",
        `notify FIFO ${path} exists and is not a FIFO: refusing to use it`,
        path,
      );
    const ours = process.getuid?.() ?? 0;
    if (st.uid !== ours && st.uid !== opts.uid)
      throw new AgentError(
        "E_CONFIG_INVALID",
        `notify FIFO ${path} belongs to uid ${st.uid}, not to us or its configured owner: refusing to use it`,
        path,
      );
  }

  /**
   * The mode keepalived would have got (its process umask is `umask`, ours may differ), and
   * the configured owner; a failed chown is logged, not fatal (notify.c fifo_open).
   */
  private static own(
    path: string,
    fd: number,
    mode: number,
    opts: NotifyFifoOptions,
    log: FifoLog,
  ): void {
    fchmodSync(fd, mode);
    const uid = opts.uid ?? -1;
    const gid = opts.gid ?? -1;
    if (uid === -1 && gid === -1) return;
    try {
      fchownSync(fd, uid, gid);
    } catch (e) {
      log.warn(`notify FIFO ${path}: cannot give it to ${uid}:${gid}: ${String(e)}`);
    }
  }

  /**
   * Writes one line without ever blocking. Returns false when it was dropped: the pipe is
   * full (nobody reading) or the FIFO is closed or broken. Never throws.
   */
  write(line: string | Uint8Array): boolean {
    if (this.fd < 0) {
      this.linesDropped++;
      return false;
    }
    const bytes = typeof line === "string" ? Buffer.from(line, "utf8") : line;
    try {
      const n = writeSync(this.fd, bytes);
      // Up to PIPE_BUF (4096) bytes a pipe write is all or nothing; only a longer line can
      // be cut, and then the reader has seen part of it.
      if (n < bytes.length)
        this.log.warn(`notify FIFO ${this.path}: line cut after ${n} of ${bytes.length} bytes`);
      this.linesWritten++;
      if (this.droppedInSpell > 0) {
        this.log.info(`notify FIFO ${this.path}: reader back, ${this.droppedInSpell} lines lost`);
        this.droppedInSpell = 0;
      }
      return true;
    } catch (e) {
      this.linesDropped++;
      if (errCode(e) === "EAGAIN" || errCode(e) === "EWOULDBLOCK") {
        if (this.droppedInSpell++ === 0)
          this.log.warn(`notify FIFO ${this.path} is full (no reader?): dropping lines`);
      } else if (this.writeErrors++ === 0) {
        this.log.warn(`notify FIFO ${this.path}: write failed: ${String(e)}`);
      }
      return false;
    }
  }

  get stats(): { written: number; dropped: number; errors: number } {
    return { written: this.linesWritten, dropped: this.linesDropped, errors: this.writeErrors };
  }

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Removes a FIFO we created, then closes it. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    if (this.created) unlinkQuietly(this.path);
    closeSync(this.fd);
    this.fd = -1;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (an operator removed it): nothing left to clean.
  }
}

/** Owner ids for a planned FIFO's user/group names (resolved by the script runner's code). */
export type OwnerResolver = (f: PlannedFifo) => { uid?: number; gid?: number };

/**
 * Every FIFO of a plan, open, with the routing of VRRP and LVS lines. A FIFO that can't be
 * opened is logged and left out, as keepalived carries on without it.
 */
export class NotifyFifos {
  private constructor(private readonly open: readonly { fifo: NotifyFifo; plan: PlannedFifo }[]) {}

  static open(
    plan: FifoPlan,
    log: FifoLog,
    opts: { umask?: number; owner?: OwnerResolver } = {},
  ): NotifyFifos {
    for (const note of plan.notes) log.info(note);
    const open: { fifo: NotifyFifo; plan: PlannedFifo }[] = [];
    for (const p of plan.fifos) {
      try {
        const ids = opts.owner?.(p) ?? {};
        const o: NotifyFifoOptions = {
          ...(ids.uid !== undefined ? { uid: ids.uid } : {}),
          ...(ids.gid !== undefined ? { gid: ids.gid } : {}),
          ...(opts.umask !== undefined ? { umask: opts.umask } : {}),
        };
        open.push({ fifo: NotifyFifo.open(p.path, o, log), plan: p });
      } catch (e) {
        log.warn(`${p.role} notify FIFO ${p.path} not used: ${e instanceof Error ? e.message : e}`);
      }
    }
    return new NotifyFifos(open);
  }

  /** The FIFOs that were opened, with what the plan said about each (to start scripts). */
  get fifos(): readonly { fifo: NotifyFifo; plan: PlannedFifo }[] {
    return this.open;
  }

  /** An INSTANCE/GROUP line to notify_fifo and vrrp_notify_fifo. */
  vrrp(line: string): void {
    for (const f of this.open) if (f.plan.vrrp) f.fifo.write(line);
  }

  /** A VS/RS line to notify_fifo and lvs_notify_fifo. */
  lvs(line: string): void {
    for (const f of this.open) if (f.plan.lvs) f.fifo.write(line);
  }

  close(): void {
    for (const f of this.open) f.fifo.close();
  }
}
