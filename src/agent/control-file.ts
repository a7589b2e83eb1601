/**
 * The control socket's file (docs/control.md "The socket file"): its directory, a stale
 * socket left by a crashed agent, private binding, removal at stop. Split from control.ts,
 * which does the talking.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { SocketHandler, UnixSocketListener } from "bun";
import { AgentError } from "../errors.ts";

/** How long the start-up probe waits for an existing socket to accept or refuse. */
const PROBE_TIMEOUT_MS = 1000;

export interface FileLog {
  info(message: string): void;
}

/** The directory (usually /run/edge-agent, a tmpfs emptied at boot) may not exist yet. */
export function ensureDir(path: string): void {
  const dir = dirname(path);
  try {
    const first = mkdirSync(dir, { recursive: true, mode: 0o755 });
    // mkdir's mode passes through the umask; set what we promised on every level we created.
    if (first !== undefined)
      for (let d = dir; d.length >= first.length; d = dirname(d)) chmodSync(d, 0o755);
  } catch (e) {
    throw new AgentError("E_SOCKET", `cannot create ${dir}: ${errText(e)}`, dir, { cause: e });
  }
}

/**
 * A socket file left by a crashed agent would make bind fail with EADDRINUSE. Remove it only
 * when nothing answers on it: a second agent must not silently steal a live one's socket.
 */
export async function clearStale(path: string, log: FileLog): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if (errCode(e) === "ENOENT") return;
    throw new AgentError("E_SOCKET", `cannot inspect ${path}: ${errText(e)}`, path, { cause: e });
  }
  if (!isSocket)
    throw new AgentError("E_SOCKET", `${path} exists and is not a socket; not replacing it`, path);
  const seen = await probe(path);
  if (seen === "live")
    throw new AgentError(
      "E_SOCKET",
      `another agent is already answering on ${path}; stop it or give this one another --control path`,
      path,
    );
  if (seen === "ENOENT") return;
  if (seen !== "ECONNREFUSED")
    throw new AgentError("E_SOCKET", `cannot tell whether ${path} is in use: ${seen}`, path);
  try {
    unlinkSync(path);
  } catch (e) {
    if (errCode(e) !== "ENOENT")
      throw new AgentError("E_SOCKET", `cannot remove stale ${path}: ${errText(e)}`, path, {
        cause: e,
      });
  }
  log.info(`removed stale control socket ${path} (nothing answered on it)`);
}

/** "live" if something accepts a connection on `path`, else the errno name (or ETIMEDOUT). */
function probe(path: string): Promise<string> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => finish("ETIMEDOUT"), PROBE_TIMEOUT_MS);
    Bun.connect({
      unix: path,
      socket: {
        open(s) {
          finish("live");
          s.end();
        },
        data() {},
        connectError(_s, e) {
          finish(errCode(e) ?? "unknown error");
        },
      },
    }).catch((e: unknown) => finish(errCode(e) ?? "unknown error"));
  });
}

/**
 * Bind with a umask that leaves the socket 0600 from its first instant (a chmod after bind
 * leaves a window in which anyone may connect), then chmod and chown anyway in case the
 * runtime ignores the umask. Bun binds synchronously, so nothing else in this process runs
 * under the changed umask.
 */
export function listenPrivately<D>(path: string, io: SocketHandler<D>): UnixSocketListener<D> {
  const old = process.umask(0o177);
  try {
    const listener = Bun.listen<D>({ unix: path, socket: io });
    chmodSync(path, 0o600);
    if (process.getuid?.() === 0) chownSync(path, 0, 0);
    return listener;
  } catch (e) {
    throw new AgentError("E_SOCKET", `cannot listen on ${path}: ${errText(e)}`, path, { cause: e });
  } finally {
    process.umask(old);
  }
}

/** Unlink at stop, but never a socket another agent has bound at the same path since. */
export function removeIfOurs(path: string, ino: number): void {
  try {
    if (lstatSync(path).ino === ino) unlinkSync(path);
  } catch {
    // Already gone (Bun unlinks a unix listener's path when it stops): nothing to do.
  }
}

export function errCode(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string")
    return e.code;
  return undefined;
}

export function errText(e: unknown): string {
  const code = errCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
