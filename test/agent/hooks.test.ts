/**
 * The hooks' order and rules on their own (src/agent/hooks.ts; reference §2.15,
 * vrrp_notify.c): script → generic script → FIFO line → mail, the grouped-instance
 * suppression, MASTER_RX_LOWER_PRI, priority-change lines, and the mail rules.
 */
import { describe, expect, test } from "bun:test";
import { type HookIo, Hooks } from "../../src/agent/hooks.ts";
import { loadText } from "../../src/config/load.ts";

function setup(extraGlobal: string, instance: string, group = "") {
  const text = `global_defs {\n    router_id r\n${extraGlobal}\n}\n${group}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.100/24
    }
${instance}
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        192.0.2.101/24
    }
}`;
  const loaded = loadText(text, "/h.conf", "keepalived", { offline: true });
  if (!loaded.model) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  const events: string[] = [];
  const io: HookIo = {
    runScript: (cmd, args, _why, timeoutMs) =>
      events.push(
        `run ${[...cmd.command, ...args].join(" ")}${timeoutMs ? ` (${timeoutMs} ms)` : ""}`,
      ),
    fifo: (line) => events.push(`fifo ${line.trimEnd()}`),
    mail: (kind, name, state) => events.push(`mail ${kind} ${name} ${state}`),
  };
  return { hooks: new Hooks(loaded.model, io), events };
}

describe("hooks", () => {
  test("keepalived's order: notify_<state>, notify with 4 arguments, FIFO, mail; STOP scripts bounded to 1 s", () => {
    const { hooks, events } = setup(
      "    smtp_alert",
      '    notify_master "/m.sh x"\n    notify_stop /s.sh\n    notify "/n.sh a b"',
    );
    hooks.instance("VI_1", "MASTER", 100);
    hooks.instance("VI_1", "STOP", 100);
    expect(events).toEqual([
      "run /m.sh x",
      "run /n.sh a b INSTANCE VI_1 MASTER 100",
      'fifo INSTANCE "VI_1" MASTER 100',
      "mail instance VI_1 MASTER",
      "run /s.sh (1000 ms)",
      "run /n.sh a b INSTANCE VI_1 STOP 100 (1000 ms)",
      'fifo INSTANCE "VI_1" STOP 100',
      "mail instance VI_1 STOP",
    ]);
  });

  test("mail: off unless smtp_alert; no_email_faults skips FAULT; never twice for the same state", () => {
    const off = setup("", "");
    off.hooks.instance("VI_1", "MASTER", 100);
    expect(off.events.filter((e) => e.startsWith("mail"))).toEqual([]);
    const on = setup("    smtp_alert_vrrp\n    no_email_faults", "");
    on.hooks.instance("VI_1", "FAULT", 100);
    on.hooks.instance("VI_1", "BACKUP", 100);
    on.hooks.instance("VI_1", "BACKUP", 100);
    expect(on.events.filter((e) => e.startsWith("mail"))).toEqual(["mail instance VI_1 BACKUP"]);
  });

  test("a grouped instance that has notified once says nothing when it enters the group's state", () => {
    const group = "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\n";
    const { hooks, events } = setup("", "", group);
    hooks.instance("VI_1", "BACKUP", 100, "BACKUP");
    hooks.instance("VI_1", "FAULT", 100, "BACKUP");
    hooks.instance("VI_1", "FAULT", 100, "FAULT");
    hooks.group("G", "FAULT");
    expect(events).toEqual([
      'fifo INSTANCE "VI_1" BACKUP 100',
      'fifo INSTANCE "VI_1" FAULT 100',
      'fifo GROUP "G" FAULT 0',
    ]);
  });

  test("MASTER_RX_LOWER_PRI runs its script and writes its line; priority lines only when asked", () => {
    const { hooks, events } = setup("", '    notify_master_rx_lower_pri "/low.sh"');
    hooks.rxLowerPri("VI_1", 100);
    hooks.priority("VI_1", "MASTER", 80);
    expect(events).toEqual(["run /low.sh", 'fifo INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100']);
    const asked = setup("    vrrp_notify_priority_changes", "");
    asked.hooks.priority("VI_1", "MASTER", 80);
    asked.hooks.priority("VI_1", "FAULT", 90);
    expect(asked.events).toEqual([
      'fifo INSTANCE "VI_1" MASTER_PRIORITY 80',
      'fifo INSTANCE "VI_1" BACKUP_PRIORITY 90',
    ]);
  });
});
