/**
 * Signal dispositions Bun cannot set: real-time signals. keepalived dumps its JSON state on
 * SIGRTMIN+2 (`keepalived --signum=JSON` prints 36 on Linux); Bun's process.on accepts the
 * name but installs nothing, so that signal would terminate the agent. Tooling that sends
 * it must not kill a node: it is ignored here (the JSON document is `agent status --json`).
 * A script started by the agent gets default dispositions again (Bun's spawn resets them).
 */
import { dlopen, type Pointer } from "bun:ffi";

const libc = dlopen("libc.so.6", {
  signal: { args: ["i32", "ptr"], returns: "ptr" },
  __libc_current_sigrtmin: { args: [], returns: "i32" },
});

/** SIG_IGN is ((sighandler_t) 1) in <signal.h>. */
const SIG_IGN = 1;

/** SIGRTMIN + n as this libc numbers it (glibc reserves the first two for threads). */
export function sigrtmin(n: number): number {
  return libc.symbols.__libc_current_sigrtmin() + n;
}

export function ignoreSignal(signum: number): void {
  // The handler argument is a pointer type carrying the small integer SIG_IGN.
  libc.symbols.signal(signum, SIG_IGN as unknown as Pointer);
}
