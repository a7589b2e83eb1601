/**
 * Hooks (reference §2.15): what runs when an instance or a sync group changes state, in
 * keepalived's order (vrrp_notify.c send_instance_notifies / send_group_notifies):
 * notify_<state> script (no extra arguments) → `notify` script with `INSTANCE|GROUP name
 * STATE priority` appended → the FIFO line → SMTP alert. A grouped instance already in the
 * group's state sends nothing more once it has notified (keepalived's suppression rule).
 * Scripts, FIFO writes and mail never block: HookIo starts them and returns.
 */
import type { ScriptCommand } from "../config/lines/shell.ts";
import type { Model } from "../config/model.ts";
import { groupFifoLine, instanceFifoLine, priorityFifoLine } from "../core/notify/format.ts";
import type { NotifyState, VrrpState } from "../core/vrrp/types.ts";

export interface HookIo {
  /** Start a script, detached; `timeoutMs` bounds it (STOP scripts at shutdown: 1 s). */
  runScript(
    cmd: ScriptCommand,
    extraArgs: readonly string[],
    why: string,
    timeoutMs?: number,
  ): void;
  /** One line to every VRRP notify FIFO (notify_fifo and vrrp_notify_fifo). */
  fifo(line: string): void;
  /** An SMTP alert about an instance or a group (core/notify/format.ts words it). */
  mail(kind: "instance" | "group", name: string, state: NotifyState): void;
}

type Scripts = Readonly<Partial<Record<NotifyState | "DELETED" | "generic", ScriptCommand>>>;

interface Target {
  readonly scripts: Scripts;
  readonly smtpAlert: boolean;
  readonly priorityChanges: boolean;
  readonly rxLowerPri?: ScriptCommand;
}

const isNotifyState = (s: VrrpState): s is NotifyState => s !== "INIT";

export class Hooks {
  private readonly instances = new Map<string, Target>();
  private readonly groups = new Map<string, Target>();
  private readonly notified = new Set<string>();
  private readonly lastMail = new Map<string, NotifyState>();
  private readonly noEmailFaults: boolean;

  constructor(
    m: Model,
    private readonly io: HookIo,
  ) {
    const g = m.global_defs;
    const alertDefault = g.smtp_alert_vrrp ?? g.smtp_alert ?? false;
    const globalPrio = g.vrrp_notify_priority_changes ?? false;
    this.noEmailFaults = g.no_email_faults ?? false;
    const scriptsOf = (x: Record<string, unknown>): Scripts => {
      const out: Record<string, ScriptCommand> = {};
      const pick = (key: string, as: string) => {
        const v = x[key];
        if (v && typeof v === "object") out[as] = v as ScriptCommand;
      };
      pick("notify_master", "MASTER");
      pick("notify_backup", "BACKUP");
      pick("notify_fault", "FAULT");
      pick("notify_stop", "STOP");
      pick("notify_deleted", "DELETED");
      pick("notify", "generic");
      return out;
    };
    const groupOf = new Map<string, string>();
    for (const [name, sg] of Object.entries(m.vrrp_sync_group ?? {})) {
      const raw = sg as unknown as Record<string, unknown>;
      for (const member of sg.group ?? []) groupOf.set(member, name);
      this.groups.set(name, {
        scripts: scriptsOf(raw),
        smtpAlert: sg.smtp_alert ?? alertDefault,
        priorityChanges: sg.notify_priority_changes ?? globalPrio,
      });
    }
    for (const [name, i] of Object.entries(m.vrrp_instance)) {
      const raw = i as unknown as Record<string, unknown>;
      const group = groupOf.get(name);
      const gp = group ? this.groups.get(group)?.priorityChanges : undefined;
      this.instances.set(name, {
        scripts: scriptsOf(raw),
        smtpAlert: i.smtp_alert ?? alertDefault,
        priorityChanges: i.notify_priority_changes ?? gp ?? globalPrio,
        ...(i.notify_master_rx_lower_pri
          ? { rxLowerPri: i.notify_master_rx_lower_pri as ScriptCommand }
          : {}),
      });
    }
  }

  /** A reload: what the replaced hooks remember (who notified, the last mail) carries over. */
  adopt(old: Hooks): void {
    for (const n of old.notified) this.notified.add(n);
    for (const [k, v] of old.lastMail) this.lastMail.set(k, v);
  }

  /**
   * An instance entered `state`. `groupState` is its sync group's state before this change
   * (keepalived updates the group after its members), undefined outside a group.
   */
  instance(name: string, state: NotifyState, priority: number, groupState?: VrrpState): void {
    const t = this.instances.get(name);
    if (!t) return;
    if (groupState !== undefined && this.notified.has(name) && groupState === state) return;
    this.notified.add(name);
    this.fire(t, "INSTANCE", name, state, priority);
  }

  group(name: string, state: VrrpState): void {
    const t = this.groups.get(name);
    if (!t || !isNotifyState(state)) return;
    this.fire(t, "GROUP", name, state, 0);
  }

  /** A MASTER heard a lower priority (vrrp_notify.c send_event_notify). */
  rxLowerPri(name: string, priority: number): void {
    const t = this.instances.get(name);
    if (!t) return;
    if (t.rxLowerPri) this.io.runScript(t.rxLowerPri, [], `notify_master_rx_lower_pri of ${name}`);
    this.io.fifo(instanceFifoLine(name, "MASTER_RX_LOWER_PRI", priority));
  }

  /** The effective priority changed (notify_priority_changes; vrrp_track.c). */
  priority(name: string, state: VrrpState, priority: number): void {
    const t = this.instances.get(name);
    if (!t?.priorityChanges) return;
    this.io.fifo(priorityFifoLine(name, state === "MASTER", priority));
  }

  private fire(
    t: Target,
    type: "INSTANCE" | "GROUP",
    name: string,
    state: NotifyState,
    priority: number,
  ): void {
    const what = type === "GROUP" ? `sync group ${name}` : name;
    // STOP scripts run at shutdown with a 1 s bound (notify.c system_call_script, TIMER_HZ).
    const bound = state === "STOP" ? 1000 : undefined;
    const specific = t.scripts[state];
    if (specific)
      this.io.runScript(specific, [], `notify_${state.toLowerCase()} of ${what}`, bound);
    const generic = t.scripts.generic;
    if (generic)
      this.io.runScript(generic, [type, name, state, String(priority)], `notify of ${what}`, bound);
    this.io.fifo(
      type === "GROUP" ? groupFifoLine(name, state) : instanceFifoLine(name, state, priority),
    );
    const key = `${type}:${name}`;
    if (
      t.smtpAlert &&
      (!this.noEmailFaults || state !== "FAULT") &&
      this.lastMail.get(key) !== state
    ) {
      this.io.mail(type === "GROUP" ? "group" : "instance", name, state);
      this.lastMail.set(key, state);
    }
  }
}
