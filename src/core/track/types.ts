/**
 * The trackers' vocabulary (reference §2.6): what a tracker reports, how an instance binds
 * to it, and what that binding adds to the instance's priority or fault set. Pure data;
 * the shell watches the world and the core decides.
 */

export type TrackerKind = "script" | "interface" | "process" | "file" | "http" | "group";

/** One tracker as an instance (or sync group) uses it: `track_script { chk weight -20 }`. */
export interface TrackBinding {
  readonly kind: TrackerKind;
  /** The tracker's name (for `interface`: the interface name). */
  readonly name: string;
  /** Resolved: the binding's own weight, else the tracker's, else 0. */
  readonly weight: number;
  readonly reverse: boolean;
}

/**
 * A tracker's verdict. `up` is undefined while a tracker has not reported yet (a
 * vrrp_script that has not finished its first run); track_file reports a value.
 */
export type TrackerStatus =
  | { readonly kind: "updown"; readonly up: boolean | undefined }
  | { readonly kind: "value"; readonly value: number };

/** What one binding adds: a priority delta, or a fault flag (weight 0 in failure). */
export interface Contribution {
  readonly delta: number;
  readonly fault: boolean;
}

/** The fault flag an instance carries for a failed weight-0 tracker. */
export const trackFault = (b: Pick<TrackBinding, "kind" | "name">): string =>
  `${b.kind === "group" ? "track_group" : `track_${b.kind}`} ${b.name}`;
