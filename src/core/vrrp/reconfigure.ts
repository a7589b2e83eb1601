/**
 * Reload (reference §2.16): an instance the new configuration still has (matched as
 * keepalived matches them: VRID, family, interface, unicast source or multicast group — not
 * the name) keeps its state, stats, the master it heard and its faults; only its parameters
 * change. Nothing is sent and no notify runs: a MASTER whose configuration is unchanged
 * never hands over on a reload.
 */
import { advertIntervalMs, masterDownMs } from "./timers.ts";
import { type InstanceParams, type InstanceState, OWNER_PRIORITY } from "./types.ts";

export function reconfigure(
  s: InstanceState,
  params: InstanceParams,
  nowMs: number,
): InstanceState {
  const old = s.params;
  // Tracker adjustments carry over (the trackers re-evaluate right after a reload); a new
  // base moves the effective priority by the same amount. The owner is always 255.
  const effective =
    params.basePriority === OWNER_PRIORITY
      ? OWNER_PRIORITY
      : old.basePriority === OWNER_PRIORITY
        ? params.basePriority
        : Math.min(254, Math.max(1, s.effectivePriority + params.basePriority - old.basePriority));
  let next: InstanceState = { ...s, params, effectivePriority: effective };
  if (params.advertIntervalCs !== old.advertIntervalCs) {
    next = { ...next, masterAdvertIntervalCs: params.advertIntervalCs };
    // A new interval takes effect at once: the next advert no later than one new interval,
    // a backup's timer restarted on the new Master_Down_Interval.
    if (next.state === "MASTER" && next.advertAtMs !== undefined)
      next = { ...next, advertAtMs: Math.min(next.advertAtMs, nowMs + advertIntervalMs(params)) };
    if (next.state === "BACKUP" && next.downAtMs !== undefined)
      next = { ...next, downAtMs: nowMs + masterDownMs(next) };
  }
  return next;
}
