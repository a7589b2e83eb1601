/**
 * VRRP timers (RFC 3768 §6.1, RFC 5798 §6.1) with keepalived's integer arithmetic
 * (include/vrrp.h), computed in microseconds and returned in milliseconds.
 */
import { type InstanceParams, type InstanceState, OWNER_PRIORITY } from "./types.ts";

/** The priority that sets the skew: an owner always counts as 255 (reference §2.2). */
function skewPriority(p: InstanceParams, effective: number): number {
  return p.basePriority === OWNER_PRIORITY ? OWNER_PRIORITY : effective;
}

/**
 * Skew_Time. v2: (256 − P)/256 s, independent of the interval (RFC 3768 §6.1).
 * v3: ((256 − P) × Master_Adver_Interval)/256, in centiseconds (RFC 5798 §6.1).
 */
export function skewUs(
  p: InstanceParams,
  effective: number,
  masterAdvertIntervalCs: number,
): number {
  const prio = skewPriority(p, effective);
  if (p.version === 2) return Math.floor(((256 - prio) * 1_000_000) / 256);
  return Math.floor(((256 - prio) * masterAdvertIntervalCs * 625) / 16);
}

/** Master_Down_Interval = down_timer_adverts × Master_Adver_Interval + Skew_Time. */
export function masterDownUs(
  p: InstanceParams,
  effective: number,
  masterAdvertIntervalCs: number,
): number {
  const intervalUs =
    p.version === 2
      ? Math.round(p.advertIntervalCs / 100) * 1_000_000
      : masterAdvertIntervalCs * 10_000;
  return p.downTimerAdverts * intervalUs + skewUs(p, effective, masterAdvertIntervalCs);
}

export const usToMs = (us: number): number => us / 1000;

export function skewMs(s: InstanceState): number {
  return usToMs(skewUs(s.params, s.effectivePriority, s.masterAdvertIntervalCs));
}

export function masterDownMs(s: InstanceState): number {
  return usToMs(masterDownUs(s.params, s.effectivePriority, s.masterAdvertIntervalCs));
}

export function advertIntervalMs(p: InstanceParams): number {
  return p.advertIntervalCs * 10;
}

/** The earliest pending deadline, for the shell to arm one timer. */
export function nextDeadline(s: InstanceState): number | undefined {
  let best: number | undefined;
  for (const t of [s.downAtMs, s.advertAtMs, s.garpAtMs, s.lowerPrioGarpAtMs]) {
    if (t !== undefined && (best === undefined || t < best)) best = t;
  }
  return best;
}
