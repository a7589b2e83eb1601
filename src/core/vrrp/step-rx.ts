/**
 * Receiving an advert that passed the checks: the BACKUP and MASTER rules of RFC 5798
 * §6.4.2–§6.4.3 with keepalived's refinements (reference §2.4–§2.5).
 */
import { compareIp } from "../net/ip.ts";
import { masterDownMs, skewMs } from "./timers.ts";
import { enterBackup, peerWins, sendAdvert } from "./transitions.ts";
import type { Action, AdvertIn, InstanceState } from "./types.ts";

export function onAdvert(
  s0: InstanceState,
  a: AdvertIn,
  nowMs: number,
  out: Action[],
): InstanceState {
  const st = s0.stats;
  const s: InstanceState = {
    ...s0,
    stats: {
      ...st,
      advert_rcvd: st.advert_rcvd + 1,
      pri_zero_rcvd: st.pri_zero_rcvd + (a.priority === 0 ? 1 : 0),
      addr_list_err: st.addr_list_err + (a.addrListMismatch ? 1 : 0),
    },
  };
  if (s.state === "BACKUP") return backupRx(s, a, nowMs, out);
  if (s.state === "MASTER") return masterRx(s, a, nowMs, out);
  return s;
}

function seen(s: InstanceState, a: AdvertIn, nowMs: number): InstanceState {
  return { ...s, master: { address: a.srcText, priority: a.priority, atMs: nowMs } };
}

function backupRx(s0: InstanceState, a: AdvertIn, nowMs: number, out: Action[]): InstanceState {
  // A hand-over ends once another router advertises as master.
  const { drain: _d, ...undrained } = s0;
  const s: InstanceState = s0.drain === "handover" && a.priority > 0 ? undrained : s0;
  // Priority 0: the master is leaving; take over after Skew_Time (RFC 5798 §6.4.2).
  if (a.priority === 0) return { ...seen(s, a, nowMs), downAtMs: nowMs + skewMs(s) };
  const p = s.params;
  const lower = a.priority < s.effectivePriority;
  let window = lower ? s.preemptUntilMs : undefined;
  if (lower && !p.nopreempt) {
    // Preempt: ignore it and let the down timer take over (RFC 5798 §6.4.2). With
    // preempt_delay the first such advert opens a window during which we still accept (§2.5).
    if (p.preemptDelayMs === 0) return discard(s, a, out);
    window ??= nowMs + p.preemptDelayMs;
    if (nowMs >= window) return discard({ ...s, preemptUntilMs: window }, a, out);
  }
  const learned = p.version === 3 ? { masterAdvertIntervalCs: a.advertIntervalCs } : {};
  // An accepted advert means a master is alive: a waiting group member is no longer ready.
  const { preemptUntilMs: _old, syncReady: _ready, ...base } = { ...seen(s, a, nowMs), ...learned };
  const next: InstanceState = window === undefined ? base : { ...base, preemptUntilMs: window };
  return { ...next, downAtMs: nowMs + masterDownMs(next) };
}

function discard(s: InstanceState, a: AdvertIn, out: Action[]): InstanceState {
  out.push({
    type: "mark",
    what: `received lower priority (${a.priority}) advert from ${a.srcText} - discarding`,
  });
  return s;
}

function masterRx(s: InstanceState, a: AdvertIn, nowMs: number, out: Action[]): InstanceState {
  // A priority-0 advert means a master is leaving: answer at once so backups reset (§2.4).
  if (a.priority === 0) return sendAdvert(s, out);
  if (a.priority === s.effectivePriority && compareIp(a.src, s.params.localAddress) === 0) {
    out.push({ type: "mark", what: `advert from our own address ${a.srcText} with our priority` });
    return s;
  }
  if (peerWins(s, a.priority, a.src)) {
    const told = s.params.higherPrioSendAdvert ? sendAdvert(s, out) : s;
    out.push({ type: "remove-vips" });
    const learned = s.params.version === 3 ? { masterAdvertIntervalCs: a.advertIntervalCs } : {};
    const st = told.stats;
    const left: InstanceState = {
      ...seen(told, a, nowMs),
      ...learned,
      stats: { ...st, release_master: st.release_master + 1 },
    };
    return enterBackup(left, `higher priority ${a.priority} advert from ${a.srcText}`, nowMs, out);
  }
  // A lower-priority master is out there: re-assert (unless lower_prio_no_advert) and
  // re-announce our addresses so its stale ARP entries are fixed (§2.4, §2.10).
  let next = s.params.lowerPrioNoAdvert ? s : sendAdvert(s, out);
  const g = s.params.garp;
  if (g.lowerPrioRepeat > 0) {
    out.push({ type: "garp", repeat: g.lowerPrioRepeat });
    if (g.lowerPrioDelayMs > 0) next = { ...next, lowerPrioGarpAtMs: nowMs + g.lowerPrioDelayMs };
  }
  out.push({ type: "notify-master-rx-lower-pri", from: a.srcText, priority: a.priority });
  return next;
}
