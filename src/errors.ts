/**
 * Typed errors with stable codes. Library code throws these for conditions the caller
 * must handle (unreadable file, bad usage); configuration problems are Diagnostics instead.
 * The CLI maps each code to an exit status; nothing else inspects messages.
 */

export type ErrorCode =
  | "E_CONFIG_UNREADABLE"
  | "E_CONFIG_INVALID"
  | "E_USAGE"
  | "E_OUTPUT_UNWRITABLE"
  | "E_NOT_ROOT"
  | "E_NO_LIBNL"
  | "E_INTERFACE"
  /** A socket/syscall failed; the message names the call, its subject and strerror text. */
  | "E_SOCKET";

export class AgentError extends Error {
  override readonly name = "AgentError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The thing that failed: a path, an interface, a flag. */
    readonly subject?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAgentError(e: unknown): e is AgentError {
  return e instanceof AgentError;
}
