/**
 * The control socket's wire format (docs/control.md): one JSON object per line in each
 * direction. Shared by the server (agent/control.ts) and the client (cli/control-client.ts)
 * so both sides parse, bound and name things the same way. No I/O here.
 */

/** Where `agent run` listens and the other commands ask, unless `--control PATH` says otherwise. */
export const DEFAULT_CONTROL_PATH = "/run/edge-agent/agent.sock";

/**
 * Longest request line the server reads, newline excluded. A request is a few dozen bytes;
 * 64 KiB leaves room for any instance name without letting one client make us buffer more.
 */
export const MAX_REQUEST_LINE_BYTES = 64 * 1024;

/**
 * Longest answer line the client reads. A status of 255 instances with trackers is a few
 * hundred KiB and a refused reload carries at most 1000 diagnostics (config/diag.ts
 * MAX_DIAGNOSTICS, ~200 B each); 16 MiB is far above both and still bounds a broken peer.
 */
export const MAX_RESPONSE_LINE_BYTES = 16 * 1024 * 1024;

/** Longest string id echoed back: ids are for matching answers, not for carrying data. */
export const MAX_ID_CHARS = 256;

export const CONTROL_COMMANDS = ["status", "reload", "failover", "maintenance"] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export type RequestId = number | string | null;

/** The arguments each command takes, beside `id` and `cmd`. */
export interface ControlArgsMap {
  readonly status: Readonly<Record<string, never>>;
  readonly reload: Readonly<Record<string, never>>;
  readonly failover: { readonly instance?: string };
  readonly maintenance: { readonly on: boolean };
}

export type ControlRequest =
  | { readonly id: RequestId; readonly cmd: "status" }
  | { readonly id: RequestId; readonly cmd: "reload" }
  | { readonly id: RequestId; readonly cmd: "failover"; readonly instance?: string }
  | { readonly id: RequestId; readonly cmd: "maintenance"; readonly on: boolean };

/**
 * Codes the transport itself answers with. A handler may fail with its own `E_…` code
 * (an AgentError's code, say); it reaches the client unchanged.
 */
export type TransportErrorCode =
  | "E_PARSE"
  | "E_BAD_REQUEST"
  | "E_UNKNOWN_CMD"
  | "E_LINE_TOO_LONG"
  | "E_BUSY"
  | "E_TIMEOUT"
  | "E_RELOAD_REJECTED"
  | "E_INTERNAL";

export interface ControlErrorBody {
  readonly code: string;
  readonly message: string;
  readonly diagnostics?: readonly unknown[];
}

export type ControlResponse =
  | { readonly id: RequestId; readonly ok: true; readonly result: unknown }
  | { readonly id: RequestId; readonly ok: false; readonly error: ControlErrorBody };

export function errorReply(
  id: RequestId,
  code: string,
  message: string,
  diagnostics?: readonly unknown[],
): ControlResponse {
  return { id, ok: false, error: diagnostics ? { code, message, diagnostics } : { code, message } };
}

/** Keys each command accepts. Unknown keys are refused: a typo such as `instanse` must not
 * turn "fail over VI_1" into "fail over every instance". */
const KEYS: Record<ControlCommand, readonly string[]> = {
  status: [],
  reload: [],
  failover: ["instance"],
  maintenance: ["on"],
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCommand(v: string): v is ControlCommand {
  return (CONTROL_COMMANDS as readonly string[]).includes(v);
}

function readId(o: Record<string, unknown>): RequestId | undefined {
  const id = o.id;
  if (id === undefined || id === null) return null;
  if (typeof id === "number" && Number.isFinite(id)) return id;
  if (typeof id === "string" && id.length <= MAX_ID_CHARS) return id;
  return undefined;
}

export type Parsed =
  | { readonly ok: true; readonly req: ControlRequest }
  | { readonly ok: false; readonly reply: ControlResponse };

/** One request line (newline already removed) → a checked request, or the error to answer. */
export function parseRequest(line: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return bad(null, "E_PARSE", "not JSON: a request is one JSON object per line");
  }
  if (!isObject(v)) return bad(null, "E_BAD_REQUEST", "a request is a JSON object");
  const id = readId(v);
  if (id === undefined)
    return bad(
      null,
      "E_BAD_REQUEST",
      `"id" must be a number or a string of at most ${MAX_ID_CHARS} characters`,
    );
  if (typeof v.cmd !== "string") return bad(id, "E_BAD_REQUEST", `"cmd" must be a string`);
  if (!isCommand(v.cmd))
    return bad(
      id,
      "E_UNKNOWN_CMD",
      `unknown command "${v.cmd.slice(0, 64)}" (known: ${CONTROL_COMMANDS.join(", ")})`,
    );
  const cmd = v.cmd;
  const extra = Object.keys(v).filter((k) => k !== "id" && k !== "cmd" && !KEYS[cmd].includes(k));
  if (extra.length)
    return bad(id, "E_BAD_REQUEST", `${cmd} takes no "${extra[0]?.slice(0, 64)}" argument`);
  return checkArgs(id, cmd, v);
}

function checkArgs(id: RequestId, cmd: ControlCommand, v: Record<string, unknown>): Parsed {
  switch (cmd) {
    case "status":
    case "reload":
      return { ok: true, req: { id, cmd } };
    case "failover": {
      const inst = v.instance;
      if (inst === undefined || inst === null) return { ok: true, req: { id, cmd } };
      if (typeof inst !== "string" || inst === "")
        return bad(id, "E_BAD_REQUEST", `"instance" must be a non-empty string`);
      return { ok: true, req: { id, cmd, instance: inst } };
    }
    case "maintenance":
      if (typeof v.on !== "boolean") return bad(id, "E_BAD_REQUEST", `"on" must be true or false`);
      return { ok: true, req: { id, cmd, on: v.on } };
  }
}

function bad(id: RequestId, code: TransportErrorCode, message: string): Parsed {
  return { ok: false, reply: errorReply(id, code, message) };
}

/** One answer line → a checked answer, or why it is not one (for the client's error). */
export function parseResponse(line: string): ControlResponse | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return "the answer is not JSON";
  }
  if (!isObject(v)) return "the answer is not a JSON object";
  const id = readId(v);
  if (id === undefined) return `the answer has a bad "id"`;
  if (v.ok === true) return { id, ok: true, result: v.result ?? null };
  const e = v.error;
  if (v.ok !== false || !isObject(e) || typeof e.code !== "string" || typeof e.message !== "string")
    return `the answer has neither "ok": true nor a well-formed "error"`;
  const diags = Array.isArray(e.diagnostics) ? (e.diagnostics as unknown[]) : undefined;
  return errorReply(id, e.code, e.message, diags);
}
