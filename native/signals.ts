/**
 * Real-time signals, which Bun cannot catch: keepalived dumps its JSON state on SIGRTMIN+2
 * (`keepalived --signum=JSON` prints 36 on Linux); Bun's process.on accepts the name but
 * installs nothing, so the signal would terminate the agent.
 *
 * No JavaScript may run in a signal handler, so the handler is a libc function with a
 * harmless, async-signal-safe side effect that the event loop can look for: alarm(3). The
 * kernel calls the handler with the signal number as its only argument, so a delivery runs
 * alarm(signum), arming the process's alarm for `signum` seconds; the loop polls alarm(0),
 * which cancels it and returns what was left — non-zero means the signal came. (Nothing else
 * in the agent uses alarm(); a SIGALRM, should the loop not poll for that long, is caught
 * by the caller as a second route.) A script started by the agent gets default dispositions
 * again (Bun's spawn resets them).
 */
import { dlopen, type Pointer } from "bun:ffi";

const libc = dlopen("libc.so.6", {
  signal: { args: ["i32", "ptr"], returns: "ptr" },
  alarm: { args: ["u32"], returns: "u32" },
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

/**
 * Catch `signum` (1..255, so that alarm(signum) arms a real alarm) the only way a Bun program
 * can: `poll()` says whether it arrived since the last poll.
 */
export function catchByAlarm(signum: number): { poll(): boolean } {
  const handler = (libc.symbols.alarm as unknown as { ptr: Pointer }).ptr;
  libc.symbols.signal(signum, handler);
  return { poll: () => libc.symbols.alarm(0) > 0 };
}
