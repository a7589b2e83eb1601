/**
 * The transitions every rule of the state machine shares (step.ts, step-rx.ts): record a
 * state change with its notify, enter BACKUP with the Master_Down timer, clear timers,
 * send a counted advert, and the RFC's tie-break. Pure.
 */
import { compareIp, type IpAddr } from "../net/ip.ts";
import { masterDownMs } from "./timers.ts";
import type { Action, InstanceState, VrrpState } from "./types.ts";

/** Record a state change and ask for its notify (reference §2.15). */
export function transition(
  s: InstanceState,
  to: VrrpState,
  reason: string,
  nowMs: number,
  out: Action[],
): InstanceState {
  out.push({ type: "transition", from: s.state, to, reason });
  if (to !== "INIT") out.push({ type: "notify", state: to });
  return {
    ...s,
    state: to,
    sinceMs: nowMs,
    lastTransition: { from: s.state, to, reason, atMs: nowMs },
  };
}

/** BACKUP with the Master_Down timer running from now (RFC 5798 §6.4.1). */
export function enterBackup(
  s: InstanceState,
  reason: string,
  nowMs: number,
  out: Action[],
  downMs?: number,
): InstanceState {
  const base = clearTimers(transition(s, "BACKUP", reason, nowMs, out));
  return { ...base, downAtMs: nowMs + (downMs ?? masterDownMs(base)) };
}

export function clearTimers(s: InstanceState): InstanceState {
  const {
    downAtMs: _d,
    advertAtMs: _a,
    garpAtMs: _g,
    lowerPrioGarpAtMs: _l,
    preemptUntilMs: _p,
    syncReady: _r,
    ...rest
  } = s;
  return rest;
}

/** The send-advert action for a MASTER, counted. */
export function sendAdvert(s: InstanceState, out: Action[], lateMs?: number): InstanceState {
  out.push(
    lateMs === undefined
      ? { type: "send-advert", priority: s.effectivePriority }
      : { type: "send-advert", priority: s.effectivePriority, lateMs },
  );
  return { ...s, stats: { ...s.stats, advert_sent: s.stats.advert_sent + 1 } };
}

/** Whether a peer's advert beats ours: higher priority, or equal with a higher address. */
export function peerWins(s: InstanceState, priority: number, src: IpAddr): boolean {
  if (priority !== s.effectivePriority) return priority > s.effectivePriority;
  return compareIp(src, s.params.localAddress) > 0;
}
