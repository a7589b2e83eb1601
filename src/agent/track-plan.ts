/**
 * Decode once, at the boundary: which trackers exist and how each instance binds to them
 * (reference §2.6). keepalived's binding rules, from vrrp.c vrrp_complete_instance and
 * sync_group_tracking_init and vrrp_track.c alloc_track_*:
 * - a binding's weight defaults to the tracker's; `reverse`/`noreverse` on the binding
 *   override the tracker's own `reverse`;
 * - a member of a sync group without `sync_group_tracking_weight`, and an address owner
 *   (priority 255), cannot use weights: weighted interfaces become weight 0 (a member) or
 *   are dropped (an owner), weighted scripts/processes/bfd are dropped, a track_file with
 *   the default weight 1 becomes weight 0 and any other weighted one is dropped;
 * - trackers of a sync group apply to every member, with weights cleared when a member is
 *   an address owner.
 */
import type { Model } from "../config/model.ts";
import type { TrackBinding, TrackerKind } from "../core/track/types.ts";

/** A track_* line as the model holds it. */
interface TrackLine {
  readonly name: string;
  readonly weight?: number;
  readonly reverse?: boolean;
  readonly noreverse?: boolean;
}

/** A tracker's own default weight, as the model holds it. */
interface OwnWeight {
  readonly weight?: { readonly value: number; readonly reverse?: boolean };
}

/** The list keys of an instance or sync group, and the tracker table each one names. */
const LISTS: readonly [string, Exclude<TrackerKind, "group">, string | undefined][] = [
  ["track_interface", "interface", undefined],
  ["track_script", "script", "vrrp_script"],
  ["track_process", "process", "vrrp_track_process"],
  ["track_file", "file", "track_file"],
  ["track_http", "http", "track_http"],
];

/** Why a binding was changed or dropped, for the log (keepalived reports these too). */
export interface BindingNote {
  readonly owner: string;
  readonly text: string;
}

export interface TrackPlan {
  /** Per instance name: every binding, the sync group's included. */
  readonly bindings: ReadonlyMap<string, readonly TrackBinding[]>;
  readonly notes: readonly BindingNote[];
}

function table(m: Model, name: string | undefined): Record<string, OwnWeight> | undefined {
  if (!name) return undefined;
  return (m as unknown as Record<string, Record<string, OwnWeight> | undefined>)[name];
}

function bindingsOf(owner: Record<string, unknown>, m: Model): TrackBinding[] {
  const out: TrackBinding[] = [];
  for (const [key, kind, tableName] of LISTS) {
    const lines = (owner[key] ?? []) as readonly TrackLine[];
    const defs = table(m, tableName);
    for (const l of lines) {
      if (out.some((b) => b.kind === kind && b.name === l.name)) continue; // duplicate: ignored
      const own = defs?.[l.name]?.weight;
      const weight = l.weight ?? own?.value ?? 0;
      const reverse = l.noreverse ? false : l.reverse ? true : (own?.reverse ?? false);
      out.push({ kind, name: l.name, weight, reverse });
    }
  }
  return out;
}

/** vrrp.c vrrp_complete_instance: no weights for sync members or address owners. */
function restrict(
  name: string,
  list: readonly TrackBinding[],
  why: "SYNC group" | "address owner",
  notes: BindingNote[],
): TrackBinding[] {
  const out: TrackBinding[] = [];
  for (const b of list) {
    if (b.weight === 0) {
      out.push(b);
      continue;
    }
    if (b.kind === "interface" && why === "SYNC group") {
      out.push({ ...b, weight: 0 });
      notes.push({ owner: name, text: `ignoring weight of tracked interface ${b.name} (${why})` });
    } else if (b.kind === "file" && b.weight === 1) {
      out.push({ ...b, weight: 0 });
      notes.push({ owner: name, text: `ignoring weight of tracked file ${b.name} (${why})` });
    } else {
      notes.push({ owner: name, text: `ignoring weighted track_${b.kind} ${b.name} (${why})` });
    }
  }
  return out;
}

export function planTracking(m: Model): TrackPlan {
  const notes: BindingNote[] = [];
  const bindings = new Map<string, readonly TrackBinding[]>();
  const groupOf = new Map<string, string>();
  for (const [g, sg] of Object.entries(m.vrrp_sync_group ?? {}))
    for (const member of sg.group ?? []) groupOf.set(member, g);
  for (const [name, i] of Object.entries(m.vrrp_instance)) {
    let own = bindingsOf(i as unknown as Record<string, unknown>, m);
    const g = groupOf.get(name);
    const sg = g ? m.vrrp_sync_group?.[g] : undefined;
    const owner = i.priority === 255;
    if (owner) own = restrict(name, own, "address owner", notes);
    else if (sg && !sg.sync_group_tracking_weight) own = restrict(name, own, "SYNC group", notes);
    if (sg) {
      const members = sg.group ?? [];
      const groupHasOwner = members.some((n) => m.vrrp_instance[n]?.priority === 255);
      for (const b of bindingsOf(sg as unknown as Record<string, unknown>, m)) {
        if (own.some((x) => x.kind === b.kind && x.name === b.name)) continue;
        own.push(groupHasOwner ? { ...b, weight: 0 } : b);
      }
    }
    bindings.set(name, own);
  }
  return { bindings, notes };
}

/** Every tracker some instance binds, once: `kind:name`. */
export function usedTrackers(plan: TrackPlan): Map<string, Pick<TrackBinding, "kind" | "name">> {
  const out = new Map<string, Pick<TrackBinding, "kind" | "name">>();
  for (const list of plan.bindings.values())
    for (const b of list) out.set(trackerKey(b), { kind: b.kind, name: b.name });
  return out;
}

export const trackerKey = (b: Pick<TrackBinding, "kind" | "name">): string => `${b.kind}:${b.name}`;
