/**
 * Which notify FIFOs the agent opens, from the global settings (reference §1.3, §2.15).
 * keepalived runs VRRP and the checkers in two processes that each open the global FIFO
 * plus their own one; we are one process, so we open each distinct path once and send it
 * the lines of every part that writes there. The rules are keepalived's
 * (global_data.c init_global_data, vrrp.c / check_data.c add_script_param):
 * - vrrp_notify_fifo naming the same path as notify_fifo is ignored, its script with it;
 * - lvs_notify_fifo naming the same path as notify_fifo is ignored, its script with it;
 * - vrrp and LVS FIFOs on one path share it; with two scripts the LVS one is ignored;
 * - a FIFO's script is started with the FIFO's path appended as its last argument;
 * - the global FIFO's script runs once (keepalived: in the checker process if it runs).
 * Paths compare as strings, as keepalived's strcmp does.
 */

/** `notify_fifo PATH [USER [GROUP]]` as the config model holds it. */
export type FifoValue =
  | string
  | {
      readonly path: string;
      readonly user?: string | undefined;
      readonly group?: string | undefined;
    };

/** A `*_notify_fifo_script` (the config model's ScriptCommand). */
export interface FifoScript {
  readonly command: readonly string[];
  readonly user?: string | undefined;
  readonly group?: string | undefined;
  readonly supplementary?: boolean | undefined;
}

/** The global_defs keys involved; the config model's global_defs fits as it is. */
export interface FifoSettings {
  readonly notify_fifo?: FifoValue | undefined;
  readonly notify_fifo_script?: FifoScript | undefined;
  readonly vrrp_notify_fifo?: FifoValue | undefined;
  readonly vrrp_notify_fifo_script?: FifoScript | undefined;
  readonly lvs_notify_fifo?: FifoValue | undefined;
  readonly lvs_notify_fifo_script?: FifoScript | undefined;
}

export type FifoRole = "global" | "vrrp" | "lvs";

export interface PlannedFifo {
  /** The keyword that configured it ("vrrp" also when LVS shares its path). */
  readonly role: FifoRole;
  readonly path: string;
  /** Owner for a FIFO we create (names; the shell resolves them). */
  readonly user?: string;
  readonly group?: string;
  /** Write VRRP lines (INSTANCE/GROUP) here. */
  readonly vrrp: boolean;
  /** Write LVS lines (VS/RS) here. */
  readonly lvs: boolean;
  /** The reader script to start, with the FIFO path already appended to its argv. */
  readonly script?: FifoScript;
}

export interface FifoPlan {
  readonly fifos: readonly PlannedFifo[];
  /** What was ignored and why, for the log (keepalived logs the same decisions). */
  readonly notes: readonly string[];
}

interface Entry {
  readonly path: string;
  readonly user?: string | undefined;
  readonly group?: string | undefined;
  readonly script?: FifoScript | undefined;
}

function entry(v: FifoValue | undefined, script: FifoScript | undefined): Entry | undefined {
  if (v === undefined) return undefined;
  const e = typeof v === "string" ? { path: v } : v;
  return e.path === "" ? undefined : { ...e, script };
}

const also = (e: Entry): string => (e.script ? ", its script too" : "");

function withPath(s: FifoScript | undefined, path: string): { script?: FifoScript } {
  return s ? { script: { ...s, command: [...s.command, path] } } : {};
}

function planned(role: FifoRole, e: Entry, vrrp: boolean, lvs: boolean): PlannedFifo {
  return {
    role,
    path: e.path,
    ...(e.user !== undefined ? { user: e.user } : {}),
    ...(e.group !== undefined ? { group: e.group } : {}),
    vrrp,
    lvs,
    ...withPath(e.script, e.path),
  };
}

/**
 * The FIFOs to open. `parts` says which halves run: without virtual servers keepalived
 * starts no checker process, so lvs_notify_fifo is never opened; without VRRP instances
 * no VRRP process, so vrrp_notify_fifo is not either.
 */
export function planFifos(
  g: FifoSettings,
  parts: { readonly vrrp: boolean; readonly lvs: boolean } = { vrrp: true, lvs: true },
): FifoPlan {
  const notes: string[] = [];
  const global = entry(g.notify_fifo, g.notify_fifo_script);
  let vrrp = parts.vrrp ? entry(g.vrrp_notify_fifo, g.vrrp_notify_fifo_script) : undefined;
  let lvs = parts.lvs ? entry(g.lvs_notify_fifo, g.lvs_notify_fifo_script) : undefined;
  if (global && vrrp?.path === global.path) {
    notes.push(`vrrp_notify_fifo ${vrrp.path} is also notify_fifo: ignored${also(vrrp)}`);
    vrrp = undefined;
  }
  if (global && lvs?.path === global.path) {
    notes.push(`lvs_notify_fifo ${lvs.path} is also notify_fifo: ignored${also(lvs)}`);
    lvs = undefined;
  }
  const fifos: PlannedFifo[] = [];
  if (global && (parts.vrrp || parts.lvs))
    fifos.push(planned("global", global, parts.vrrp, parts.lvs));
  if (vrrp && lvs && vrrp.path === lvs.path) {
    if (vrrp.script && lvs.script)
      notes.push(
        `vrrp and lvs notify FIFO ${vrrp.path} both have a script: the lvs script is ignored`,
      );
    // One process here: the shared FIFO gets both kinds of line and one reader script.
    const shared: Entry = {
      path: vrrp.path,
      user: vrrp.user ?? lvs.user,
      group: vrrp.group ?? lvs.group,
      script: vrrp.script ?? lvs.script,
    };
    fifos.push(planned("vrrp", shared, true, true));
  } else {
    if (vrrp) fifos.push(planned("vrrp", vrrp, true, false));
    if (lvs) fifos.push(planned("lvs", lvs, false, true));
  }
  return { fifos, notes };
}
