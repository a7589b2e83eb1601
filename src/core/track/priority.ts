/**
 * Effective priority and tracker faults (reference §2.6), as keepalived computes them in
 * keepalived/vrrp/vrrp_track.c and keepalived/trackers/track_file.c.
 *
 * keepalived keeps a running sum (`total_priority`) that it moves by ±|weight| on every
 * tracker transition. We compute the same sum as a level instead: each binding contributes
 * what its tracker's present status is worth, and the sum is rebuilt on every change. The
 * two agree because keepalived's increments are exactly the differences between these levels
 * (initialise_track_script_state / process_script_update_priority, initialise_interface_
 * tracking_priorities / process_if_status_change, initialise_process_tracking_priorities /
 * process_update_track_process_status, initialise_vrrp_file_tracking_priorities /
 * process_update_vrrp_track_file_status).
 */
import { type Contribution, type TrackBinding, type TrackerStatus, trackFault } from "./types.ts";

/** VRRP_PRIO_OWNER: the address owner's priority, which trackers never move. */
export const OWNER_PRIORITY = 255;
/** vrrp_set_effective_priority: a total below 1 gives 1, 255 or more gives 254. */
export const MIN_EFFECTIVE_PRIORITY = 1;
export const MAX_EFFECTIVE_PRIORITY = 254;
/**
 * track_file: process_update_vrrp_track_file_status clamps each file's value × weight to
 * [-254, 253] and treats -254 as FAULT. The rule is per tracked file, not on the sum.
 */
export const FILE_FAULT_AT = -254;
export const FILE_MAX_DELTA = 253;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const NONE: Contribution = { delta: 0, fault: false };
const FAULT: Contribution = { delta: 0, fault: true };

/** -0 never leaks out (x + 0 turns -0 into +0). */
const delta = (d: number): Contribution => ({ delta: d + 0, fault: false });

/**
 * What one binding adds to its instance's priority, or whether it puts it in FAULT.
 *
 * updown trackers (script, interface, process, http, group):
 * - weight 0: FAULT while down; with `reverse`, FAULT while up
 *   (process_script_update_priority: `script_ok != (multiplier == 1)` → down_instance).
 * - weight W > 0: +W while up, 0 while down; `reverse` makes it −W while up.
 * - weight W < 0: 0 while up, W while down; `reverse` makes it +|W| while down.
 * - not reported yet (`up` undefined, a vrrp_script in SCRIPT_INIT_STATE_INIT): nothing.
 *   initialise_track_script_state adds no weight for a script in its init state, and the
 *   first report then adds only what the new state is worth (the init branch of
 *   process_script_update_priority), which is this same level. A weight-0 binding in that
 *   state is not a fault either: keepalived counts it in num_script_init and holds the
 *   instance out of BACKUP/MASTER until it reports (silently: no FAULT notify). evaluate()
 *   lists such bindings in `pending`.
 *
 * value trackers (track_file):
 * - weight 0: FAULT iff the value is non-zero; with `reverse`, iff it is zero
 *   (update_track_file_status: `!new_status != (multiplier == 1)`).
 * - weight W: value × W (× −1 with `reverse`), saturated to int32 (weight_range), then
 *   ≤ −254 is a FAULT (the file adds nothing while it is) and above 253 counts as 253.
 */
export function contribution(b: TrackBinding, s: TrackerStatus): Contribution {
  if (s.kind === "value") return fileContribution(b, s.value);
  if (s.up === undefined) return NONE;
  if (b.weight === 0) return s.up === b.reverse ? FAULT : NONE;
  const counts = b.weight > 0 ? s.up : !s.up;
  if (!counts) return NONE;
  return delta(b.reverse ? -b.weight : b.weight);
}

function fileContribution(b: TrackBinding, value: number): Contribution {
  if (b.weight === 0) return (value !== 0) !== b.reverse ? FAULT : NONE;
  const product = value * b.weight * (b.reverse ? -1 : 1);
  const status = Math.min(Math.max(product, INT32_MIN), INT32_MAX);
  if (status <= FILE_FAULT_AT) return FAULT;
  return delta(Math.min(status, FILE_MAX_DELTA));
}

export interface TrackedItem {
  readonly binding: TrackBinding;
  readonly status: TrackerStatus;
}

export interface Evaluation {
  /** clamp(base + Σ delta, 1, 254); the owner's 255 never changes. */
  readonly effective: number;
  /** trackFault() of every binding in fault: sorted, unique. */
  readonly faults: readonly string[];
  /**
   * trackFault() of every weight-0 binding whose tracker has not reported yet: keepalived
   * keeps the instance from leaving INIT while any exists (num_script_init), without a
   * FAULT flag or notify. Sorted, unique.
   */
  readonly pending: readonly string[];
}

const sortedUnique = (xs: readonly string[]): readonly string[] => [...new Set(xs)].sort();

/** An instance's effective priority and tracker faults from its bindings' current statuses. */
export function evaluate(basePriority: number, items: readonly TrackedItem[]): Evaluation {
  let total = basePriority;
  const faults: string[] = [];
  const pending: string[] = [];
  for (const { binding, status } of items) {
    const c = contribution(binding, status);
    total += c.delta;
    if (c.fault) faults.push(trackFault(binding));
    if (binding.weight === 0 && status.kind === "updown" && status.up === undefined)
      pending.push(trackFault(binding));
  }
  return {
    effective: effectivePriority(basePriority, total),
    faults: sortedUnique(faults),
    pending: sortedUnique(pending),
  };
}

/** vrrp_track.c:vrrp_set_effective_priority. */
export function effectivePriority(basePriority: number, total: number): number {
  if (basePriority === OWNER_PRIORITY) return OWNER_PRIORITY;
  if (total < MIN_EFFECTIVE_PRIORITY) return MIN_EFFECTIVE_PRIORITY;
  if (total > MAX_EFFECTIVE_PRIORITY) return MAX_EFFECTIVE_PRIORITY;
  return total;
}
