/**
 * From a decoded advert to the state machine: the receive checks (receive-check.ts), the
 * counters for what they refuse, and the event for what they accept. Shared by the agent
 * and the simulator so both count and decide the same way.
 */
import { formatIp, parseIp } from "../net/ip.ts";
import type { Advert } from "./advert.ts";
import { checkAdvert, type ReceivingInstance, type StatsCounter } from "./receive-check.ts";
import { step } from "./step.ts";
import type { Action, Event, InstanceState, StepResult } from "./types.ts";

const NOTHING: readonly Action[] = [];

export function countError(
  s: InstanceState,
  counter: StatsCounter | undefined,
  advertRcvd = false,
): InstanceState {
  if (counter === undefined && !advertRcvd) return s;
  const stats = { ...s.stats };
  if (counter !== undefined) stats[counter] += 1;
  if (advertRcvd) stats.advert_rcvd += 1;
  return { ...s, stats };
}

export interface Classified {
  /** The instance with any refusal counted. */
  readonly state: InstanceState;
  /** The event to step with, when the advert was accepted. */
  readonly event?: Event;
  readonly actions: readonly Action[];
}

/**
 * Check one decoded advert for this instance. Only BACKUP and MASTER listen (keepalived
 * ignores adverts in INIT and FAULT).
 */
export function classify(
  s: InstanceState,
  adv: Advert,
  inst: Omit<ReceivingInstance, "priority" | "lastMasterSrc">,
): Classified {
  if (s.state !== "BACKUP" && s.state !== "MASTER") return { state: s, actions: NOTHING };
  const lastMasterSrc = s.state === "BACKUP" && s.master ? parseIp(s.master.address) : undefined;
  const r = checkAdvert(adv, {
    ...inst,
    priority: s.effectivePriority,
    ...(lastMasterSrc ? { lastMasterSrc } : {}),
  });
  if (r.verdict !== "accept") {
    const actions: Action[] = r.reason
      ? [{ type: "mark", what: `advert from ${formatIp(adv.src)} refused: ${r.reason}` }]
      : [];
    return { state: countError(s, r.counter, r.advertRcvd), actions };
  }
  const advertIntervalCs = adv.maxAdvertIntervalCs ?? (adv.advertIntervalS ?? 0) * 100;
  const event: Event = {
    type: "advert",
    advert: {
      src: adv.src,
      srcText: formatIp(adv.src),
      priority: adv.priority,
      advertIntervalCs,
      addrListMismatch: r.addrListMismatch,
    },
  };
  return { state: s, event, actions: NOTHING };
}

/** classify, then step: for an instance outside any sync group. */
export function receive(
  s: InstanceState,
  adv: Advert,
  inst: Omit<ReceivingInstance, "priority" | "lastMasterSrc">,
  nowMs: number,
): StepResult {
  const c = classify(s, adv, inst);
  if (!c.event) return { state: c.state, actions: c.actions };
  return step(c.state, c.event, nowMs);
}
