/**
 * The VRRP state machine: step(state, event, nowMs) → { state, actions }. Pure: no clock,
 * no I/O; the shell performs the actions. Rules: RFC 3768 §6.4, RFC 5798 §6.4 / RFC 9568,
 * with keepalived's behaviour where it differs (reference §2.3–§2.7).
 */
import { onAdvert } from "./step-rx.ts";
import { advertIntervalMs, masterDownMs, skewMs } from "./timers.ts";
import { clearTimers, enterBackup, sendAdvert, transition } from "./transitions.ts";
import {
  type Action,
  type Event,
  type InstanceParams,
  type InstanceState,
  OWNER_PRIORITY,
  type StepResult,
  ZERO_STATS,
} from "./types.ts";

export { clearTimers, enterBackup, peerWins, sendAdvert, transition } from "./transitions.ts";

export function initialState(params: InstanceParams, nowMs: number): InstanceState {
  return {
    params,
    state: "INIT",
    sinceMs: nowMs,
    effectivePriority: params.basePriority,
    masterAdvertIntervalCs: params.advertIntervalCs,
    faults: [],
    stats: { ...ZERO_STATS },
  };
}

export function step(s: InstanceState, e: Event, nowMs: number): StepResult {
  const out: Action[] = [];
  let next: InstanceState;
  switch (e.type) {
    case "start":
      next = onStart(s, nowMs, out);
      break;
    case "tick":
      next = s;
      break;
    case "advert":
      next = onAdvert(s, e.advert, nowMs, out);
      break;
    case "priority":
      next = onPriority(s, e.effective, nowMs);
      break;
    case "fault":
      next = onFault(s, e.reason, e.on, nowMs, out);
      break;
    case "shutdown":
      next = onShutdown(s, nowMs, out);
      break;
    case "sync-master":
      next = s.state === "BACKUP" ? becomeMaster(s, e.reason, nowMs, out) : s;
      break;
    case "sync-backup":
      next = s.state === "MASTER" ? syncBackup(s, e.reason, nowMs, out) : s;
      break;
    case "drain":
      next = onDrain(s, e.mode, nowMs, out);
      break;
  }
  return { state: runDeadlines(next, nowMs, out), actions: out };
}

function onStart(s: InstanceState, nowMs: number, out: Action[]): InstanceState {
  if (s.state !== "INIT") return s;
  if (s.faults.length)
    return clearTimers(transition(s, "FAULT", `init: ${s.faults.join(", ")}`, nowMs, out));
  // An owner that wants MASTER times out at once; any other instance, even with
  // `state MASTER`, waits a full Master_Down_Interval for a better master (§2.3).
  const owner = s.params.wantMaster && s.params.basePriority === OWNER_PRIORITY;
  return enterBackup(s, "init", nowMs, out, owner ? 0 : undefined);
}

function onPriority(s: InstanceState, effective: number, nowMs: number): InstanceState {
  if (s.params.basePriority === OWNER_PRIORITY || effective === s.effectivePriority) return s;
  const next = { ...s, effectivePriority: effective };
  // A BACKUP's running timer moves by the change in skew (keepalived vrrp_track.c).
  if (s.state === "BACKUP" && s.downAtMs !== undefined) {
    return { ...next, downAtMs: Math.max(nowMs, s.downAtMs + skewMs(next) - skewMs(s)) };
  }
  return next;
}

function onFault(
  s: InstanceState,
  reason: string,
  on: boolean,
  nowMs: number,
  out: Action[],
): InstanceState {
  const has = s.faults.includes(reason);
  if (on === has) return s;
  const faults = on ? [...s.faults, reason] : s.faults.filter((f) => f !== reason);
  const next = { ...s, faults };
  if (s.state === "INIT" || s.state === "STOP") return next;
  if (on && s.state !== "FAULT")
    return clearTimers(transition(leaveMaster(next, out), "FAULT", reason, nowMs, out));
  if (!on && faults.length === 0 && s.state === "FAULT") {
    // Leaving FAULT resets the learned interval (§2.2); an owner that wants MASTER
    // waits one interval + skew, anyone else a full Master_Down_Interval (§2.7).
    const reset = { ...next, masterAdvertIntervalCs: s.params.advertIntervalCs };
    const owner = s.params.wantMaster && s.params.basePriority === OWNER_PRIORITY;
    return enterBackup(
      reset,
      `fault cleared: ${reason}`,
      nowMs,
      out,
      owner ? advertIntervalMs(s.params) + skewMs(reset) : undefined,
    );
  }
  return next;
}

/**
 * Maintenance or a hand-over: a MASTER hands over as on shutdown (priority 0, so a backup
 * takes over after Skew_Time) and waits as BACKUP; the down timer then never promotes it.
 */
function onDrain(
  s0: InstanceState,
  mode: "maintenance" | "handover" | undefined,
  nowMs: number,
  out: Action[],
): InstanceState {
  const { drain: _d, ...rest } = s0;
  const s: InstanceState = mode ? { ...rest, drain: mode } : rest;
  if (!mode || s.state !== "MASTER") return s;
  const why = mode === "maintenance" ? "maintenance on" : "failover requested";
  return enterBackup(leaveMaster(s, out), why, nowMs, out);
}

function onShutdown(s: InstanceState, nowMs: number, out: Action[]): InstanceState {
  if (s.state === "STOP") return s;
  return clearTimers(transition(leaveMaster(s, out), "STOP", "shutdown", nowMs, out));
}

/** Leaving MASTER for FAULT or STOP: priority 0 so backups take over after Skew_Time (§2.4). */
function leaveMaster(s: InstanceState, out: Action[]): InstanceState {
  if (s.state !== "MASTER") return s;
  out.push({ type: "send-advert", priority: 0 }, { type: "remove-vips" });
  const st = s.stats;
  return {
    ...s,
    stats: {
      ...st,
      advert_sent: st.advert_sent + 1,
      pri_zero_sent: st.pri_zero_sent + 1,
      release_master: st.release_master + 1,
    },
  };
}

/** Leave MASTER because the group does: no priority-0 advert, as for a higher advert. */
function syncBackup(s: InstanceState, reason: string, nowMs: number, out: Action[]): InstanceState {
  out.push({ type: "remove-vips" });
  const st = s.stats;
  return enterBackup(
    { ...s, stats: { ...st, release_master: st.release_master + 1 } },
    reason,
    nowMs,
    out,
  );
}

/** Take over: advert first, then addresses, then GARP/NA, then notify (keepalived order, §2.4). */
export function becomeMaster(
  s: InstanceState,
  reason: string,
  nowMs: number,
  out: Action[],
): InstanceState {
  const p = s.params;
  out.push(
    { type: "send-advert", priority: s.effectivePriority },
    { type: "add-vips" },
    { type: "garp", repeat: p.garp.masterRepeat },
  );
  const st = s.stats;
  const t = transition(clearTimers(s), "MASTER", reason, nowMs, out);
  const garpAtMs =
    p.garp.masterDelayMs > 0
      ? nowMs + p.garp.masterDelayMs
      : p.garp.masterRefreshMs > 0
        ? nowMs + p.garp.masterRefreshMs
        : undefined;
  const base: InstanceState = {
    ...t,
    masterAdvertIntervalCs: p.advertIntervalCs,
    advertAtMs: nowMs + advertIntervalMs(p),
    stats: { ...st, advert_sent: st.advert_sent + 1, become_master: st.become_master + 1 },
  };
  return garpAtMs === undefined ? base : { ...base, garpAtMs };
}

/** Handle every deadline ≤ now, earliest first. */
function runDeadlines(s0: InstanceState, nowMs: number, out: Action[]): InstanceState {
  let s = s0;
  for (let guard = 0; guard < 64; guard++) {
    if (s.state === "BACKUP" && s.downAtMs !== undefined && s.downAtMs <= nowMs) {
      if (s.drain) {
        // Drained: no master is heard, and we still must not take over; look again later.
        s = { ...s, downAtMs: nowMs + masterDownMs(s) };
        out.push({ type: "mark", what: `master down, but ${s.drain}: staying BACKUP` });
        continue;
      }
      if (s.params.inSyncGroup) {
        // A group member only declares itself ready; the group moves all together (§2.14).
        const { downAtMs: _d, ...rest } = s;
        s = { ...rest, syncReady: true };
        out.push({ type: "mark", what: "master down: waiting for the sync group" });
        continue;
      }
      const why =
        s.master?.priority === 0
          ? `master ${s.master.address} released (priority 0)`
          : "master down: no advertisement received";
      s = becomeMaster(s, why, nowMs, out);
    } else if (s.state === "MASTER" && s.advertAtMs !== undefined && s.advertAtMs <= nowMs) {
      const interval = advertIntervalMs(s.params);
      // Keep the cadence anchored to the schedule; if we fell behind, restart from now.
      const due = s.advertAtMs + interval;
      const late = nowMs - s.advertAtMs;
      s = { ...sendAdvert(s, out, late), advertAtMs: due > nowMs ? due : nowMs + interval };
    } else if (s.state === "MASTER" && s.garpAtMs !== undefined && s.garpAtMs <= nowMs) {
      s = garpDue(s, nowMs, out);
    } else if (
      s.state === "MASTER" &&
      s.lowerPrioGarpAtMs !== undefined &&
      s.lowerPrioGarpAtMs <= nowMs
    ) {
      out.push({ type: "garp", repeat: s.params.garp.lowerPrioRepeat });
      const { lowerPrioGarpAtMs: _x, ...rest } = s;
      s = rest;
    } else return s;
  }
  return s;
}

/** Second burst after takeover, then one refresh every garp_master_refresh. */
function garpDue(s: InstanceState, nowMs: number, out: Action[]): InstanceState {
  const g = s.params.garp;
  const first = s.sinceMs + g.masterDelayMs;
  const isSecondBurst = g.masterDelayMs > 0 && (s.garpAtMs ?? 0) <= first;
  out.push({ type: "garp", repeat: isSecondBurst ? g.masterRepeat : g.masterRefreshRepeat });
  if (g.masterRefreshMs > 0) return { ...s, garpAtMs: nowMs + g.masterRefreshMs };
  const { garpAtMs: _g, ...rest } = s;
  return rest;
}
