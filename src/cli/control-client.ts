/**
 * The CLI side of the control socket (docs/control.md): one connection, one request line, one
 * answer line. Transport failures are typed (ControlClientError) so each command maps them to
 * its exit code: E_NO_AGENT → 3 (design §4), a garbled answer → internal error.
 */
import type { ArgsDef } from "citty";
import {
  type ControlArgsMap,
  type ControlCommand,
  type ControlResponse,
  DEFAULT_CONTROL_PATH,
  MAX_RESPONSE_LINE_BYTES,
  parseResponse,
} from "../agent/control-protocol.ts";
import { type Diagnostic, formatDiagnostic } from "../config/diag.ts";
import { EXIT, writeErr, writeOut } from "./common.ts";

export type { ControlResponse } from "../agent/control-protocol.ts";

/** Same flag, same words as `agent run --control`. */
export const controlArgs = {
  control: {
    type: "string",
    description: `Control socket path (default ${DEFAULT_CONTROL_PATH})`,
    valueHint: "PATH",
  },
} as const satisfies ArgsDef;

export function controlPath(given: string | undefined): string {
  return given !== undefined && given !== "" ? given : DEFAULT_CONTROL_PATH;
}

/** Status must be instant; the others change state and may wait on the event loop. */
export const STATUS_TIMEOUT_MS = 5000;
/** Above the server's default handler bound (10 s) so its E_TIMEOUT answer arrives first. */
export const ACTION_TIMEOUT_MS = 15_000;

export type ControlClientCode = "E_NO_AGENT" | "E_PROTOCOL";

export class ControlClientError extends Error {
  override readonly name = "ControlClientError";
  constructor(
    readonly code: ControlClientCode,
    message: string,
    /** The socket path asked. */
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Why a connect failed, in words an operator can act on. */
const CONNECT_WHY: Record<string, string> = {
  ENOENT: "no such socket (is the agent running? is --control right?)",
  ECONNREFUSED: "connection refused (a stale socket: the agent is not running)",
  EACCES: "permission denied (the socket is root-only: run as root)",
  EPERM: "permission denied (the socket is root-only: run as root)",
  EAGAIN: "the agent's connection backlog is full",
  ENOTDIR: "a component of the path is not a directory",
};

function noAgent(path: string, why: string, cause?: unknown): ControlClientError {
  return new ControlClientError("E_NO_AGENT", `no agent answers on ${path}: ${why}`, path, {
    cause,
  });
}

function errCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

/**
 * Send `{"id":1,"cmd":cmd,...args}` to the agent at `path` and return its answer, an error
 * answer included. Rejects with ControlClientError: E_NO_AGENT when nothing answers within
 * `timeoutMs` (missing socket, refused, silence), E_PROTOCOL when the answer is unreadable.
 */
export function request<C extends ControlCommand>(
  path: string,
  cmd: C,
  args: ControlArgsMap[C],
  timeoutMs: number,
): Promise<ControlResponse> {
  const id = 1;
  const line = Buffer.from(`${JSON.stringify({ id, cmd, ...args })}\n`, "utf8");
  return new Promise<ControlResponse>((resolve, reject) => {
    let done = false;
    let input = Buffer.alloc(0);
    let unsent: Uint8Array | null = line;
    let sock: { end(): void } | undefined;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock?.end();
      f();
    };
    const timer = setTimeout(
      () => finish(() => reject(noAgent(path, `no answer within ${timeoutMs} ms`))),
      timeoutMs,
    );
    const flush = (s: { write(b: Uint8Array): number }) => {
      if (!unsent) return;
      const n = s.write(unsent);
      unsent = n >= 0 && n < unsent.length ? unsent.subarray(n) : null;
    };
    const onLine = (text: string) => {
      const r = parseResponse(text);
      if (typeof r === "string")
        return finish(() => reject(new ControlClientError("E_PROTOCOL", r, path)));
      if (r.id !== id && r.id !== null)
        return finish(() =>
          reject(new ControlClientError("E_PROTOCOL", `answer for id ${r.id}, asked ${id}`, path)),
        );
      finish(() => resolve(r));
    };
    const protocol = (why: string) =>
      finish(() => reject(new ControlClientError("E_PROTOCOL", `${path}: ${why}`, path)));
    Bun.connect({
      unix: path,
      socket: {
        open(s) {
          sock = s;
          if (done) s.end();
          else flush(s);
        },
        drain: flush,
        data(_s, chunk) {
          input = Buffer.concat([input, chunk]);
          const nl = input.indexOf(0x0a);
          if (nl >= 0) onLine(input.subarray(0, nl).toString("utf8"));
          else if (input.length > MAX_RESPONSE_LINE_BYTES)
            protocol(`answer longer than ${MAX_RESPONSE_LINE_BYTES} bytes`);
        },
        close() {
          protocol("the agent closed the connection without answering");
        },
        connectError(_s, e) {
          const code = errCode(e) ?? "error";
          finish(() => reject(noAgent(path, CONNECT_WHY[code] ?? `${code}: ${e.message}`, e)));
        },
      },
    }).catch(() => {
      // Reported through connectError above; this only keeps the rejection handled.
    });
  });
}

/** Print an answer's diagnostics: config diagnostics in `agent check`'s format, others as JSON. */
export function printAnswerDiagnostics(list: readonly unknown[]): void {
  for (const d of list) writeErr(`${isDiagnostic(d) ? formatDiagnostic(d) : show(d)}\n`);
}

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function isDiagnostic(d: unknown): d is Diagnostic {
  if (typeof d !== "object" || d === null) return false;
  const o = d as Record<string, unknown>;
  return (
    typeof o.file === "string" &&
    typeof o.line === "number" &&
    typeof o.col === "number" &&
    (o.severity === "error" || o.severity === "warning") &&
    typeof o.code === "string" &&
    typeof o.message === "string"
  );
}

/**
 * What every control command does around its request: ask, and turn every failure into a
 * message on stderr and an exit code (3 no agent, 1 the agent said no, 70 a garbled answer).
 */
export async function ask<C extends ControlCommand>(
  name: string,
  path: string,
  cmd: C,
  args: ControlArgsMap[C],
  timeoutMs: number,
): Promise<{ ok: true; result: unknown } | { ok: false; exit: number }> {
  let r: ControlResponse;
  try {
    r = await request(path, cmd, args, timeoutMs);
  } catch (e) {
    if (!(e instanceof ControlClientError)) throw e;
    writeErr(`agent ${name}: ${e.message}\n`);
    return { ok: false, exit: e.code === "E_NO_AGENT" ? EXIT.NO_AGENT : EXIT.INTERNAL };
  }
  if (r.ok) return { ok: true, result: r.result };
  if (r.error.diagnostics) printAnswerDiagnostics(r.error.diagnostics);
  writeErr(`agent ${name}: ${r.error.message} [${r.error.code}]\n`);
  return { ok: false, exit: EXIT.INVALID };
}

/** A command's one-line outcome, then any detail the agent returned (only the answer with --json). */
export function printResult(result: unknown, json: boolean, summary: string): void {
  if (json) {
    writeOut(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  writeOut(`${summary}\n`);
  if (typeof result === "string" && result !== "") writeOut(`${result}\n`);
  else if (typeof result === "object" && result !== null && Object.keys(result).length)
    writeOut(`${JSON.stringify(result, null, 2)}\n`);
}
