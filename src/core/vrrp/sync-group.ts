/**
 * vrrp_sync_group (reference §2.14): members move together. Any member in FAULT holds the
 * others in FAULT; a member that backs off from MASTER takes the others with it; and the
 * group becomes MASTER only when every member is ready (its down timer expired) or
 * already MASTER — so the group prefers BACKUP and never splits its addresses.
 */
import { step } from "./step.ts";
import { nextDeadline } from "./timers.ts";
import type { Action, Event, InstanceState, VrrpState } from "./types.ts";

export interface GroupState {
  readonly name: string;
  readonly members: readonly InstanceState[];
  /** The group's own state, for group notifies: FAULT, MASTER or BACKUP (or INIT/STOP). */
  readonly state: VrrpState;
}

export interface GroupStepResult {
  readonly group: GroupState;
  /** Actions per member index, in the order they were produced. */
  readonly actions: readonly (readonly Action[])[];
  /**
   * Every action with its member index, in the order the group produced them: the member
   * that moved first, then the others it took along (keepalived's notify order).
   */
  readonly sequence: readonly { readonly member: number; readonly action: Action }[];
  /** The group's own transition, if it changed (drives the group notify). */
  readonly groupTransition?: { readonly from: VrrpState; readonly to: VrrpState };
}

const FAULT_FLAG = (g: string) => `sync group ${g}`;

export function groupState(name: string, members: readonly InstanceState[]): GroupState {
  return { name, members, state: summarize(name, members) };
}

/** The group's state from its members' states. */
function summarize(name: string, members: readonly InstanceState[]): VrrpState {
  const states = members.map((m) => m.state);
  if (states.every((s) => s === "STOP")) return "STOP";
  if (states.every((s) => s === "INIT")) return "INIT";
  if (members.some((m) => ownFaults(name, m).length > 0) || states.includes("FAULT"))
    return "FAULT";
  return states.every((s) => s === "MASTER") ? "MASTER" : "BACKUP";
}

function ownFaults(name: string, m: InstanceState): string[] {
  return m.faults.filter((f) => f !== FAULT_FLAG(name));
}

/** Feed `e` to member `i`, then bring the other members into line. */
export function stepGroup(g: GroupState, i: number, e: Event, nowMs: number): GroupStepResult {
  const members = [...g.members];
  const actions: Action[][] = members.map(() => []);
  const sequence: { member: number; action: Action }[] = [];
  const apply = (k: number, ev: Event): void => {
    const r = step(members[k] as InstanceState, ev, nowMs);
    members[k] = r.state;
    (actions[k] as Action[]).push(...r.actions);
    for (const action of r.actions) sequence.push({ member: k, action });
  };
  const wasMaster = members.map((m) => m.state === "MASTER");
  apply(i, e);
  // One clock for the whole group: every member's due deadlines run now too.
  members.forEach((m, k) => {
    const due = nextDeadline(m);
    if (k !== i && due !== undefined && due <= nowMs) apply(k, { type: "tick" });
  });
  for (let round = 0; round < 4; round++) {
    if (!reconcile(g.name, members, wasMaster, apply)) break;
  }
  const state = summarize(g.name, members);
  const group = { ...g, members, state };
  return state === g.state
    ? { group, actions, sequence }
    : { group, actions, sequence, groupTransition: { from: g.state, to: state } };
}

/** One pass of the group rules; true if it changed anything. */
function reconcile(
  name: string,
  members: InstanceState[],
  wasMaster: boolean[],
  apply: (k: number, e: Event) => void,
): boolean {
  let changed = false;
  const faulty = members.map((m) => ownFaults(name, m).length > 0);
  // FAULT spreads: each member carries the group flag while any *other* member has a fault.
  members.forEach((m, k) => {
    const want = faulty.some((f, j) => f && j !== k);
    if (want !== m.faults.includes(FAULT_FLAG(name)) && m.state !== "INIT" && m.state !== "STOP") {
      apply(k, { type: "fault", reason: FAULT_FLAG(name), on: want });
      changed = true;
    }
  });
  // One member left MASTER (a higher advert): the others follow to BACKUP.
  const backedOff = members.some((m, k) => wasMaster[k] && m.state === "BACKUP");
  if (backedOff) {
    members.forEach((m, k) => {
      if (m.state === "MASTER") {
        apply(k, { type: "sync-backup", reason: `sync group ${name}: a member became BACKUP` });
        changed = true;
      }
    });
  }
  // Every member ready or MASTER: promote the ready ones together.
  const ready = members.every((m) => m.state === "MASTER" || (m.state === "BACKUP" && m.syncReady));
  if (ready && members.some((m) => m.syncReady)) {
    members.forEach((m, k) => {
      if (m.syncReady) {
        apply(k, { type: "sync-master", reason: `sync group ${name}: all members ready` });
        changed = true;
      }
    });
  }
  return changed;
}
