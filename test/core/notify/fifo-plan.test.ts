/**
 * Which FIFOs open for which settings, by keepalived's rules (global_data.c
 * init_global_data; add_script_param in vrrp.c / check_data.c).
 */
import { describe, expect, test } from "bun:test";
import { planFifos } from "../../../src/core/notify/fifo-plan.ts";

const script = (...command: string[]) => ({ command });

describe("planFifos", () => {
  test("nothing configured, nothing opened", () => {
    expect(planFifos({})).toEqual({ fifos: [], notes: [] });
  });

  test("each FIFO with its kind of lines and its script, path appended", () => {
    const p = planFifos({
      notify_fifo: { path: "/run/all", user: "ops", group: "adm" },
      notify_fifo_script: script("/usr/local/bin/reader", "-v"),
      vrrp_notify_fifo: "/run/vrrp",
      lvs_notify_fifo: "/run/lvs",
      lvs_notify_fifo_script: { command: ["/usr/local/bin/lvs-reader"], user: "nobody" },
    });
    expect(p.notes).toEqual([]);
    expect(p.fifos).toEqual([
      {
        role: "global",
        path: "/run/all",
        user: "ops",
        group: "adm",
        vrrp: true,
        lvs: true,
        script: { command: ["/usr/local/bin/reader", "-v", "/run/all"] },
      },
      { role: "vrrp", path: "/run/vrrp", vrrp: true, lvs: false },
      {
        role: "lvs",
        path: "/run/lvs",
        vrrp: false,
        lvs: true,
        script: { command: ["/usr/local/bin/lvs-reader", "/run/lvs"], user: "nobody" },
      },
    ]);
  });

  test("vrrp_notify_fifo on notify_fifo's path is ignored, script and all", () => {
    const p = planFifos({
      notify_fifo: "/run/f",
      vrrp_notify_fifo: "/run/f",
      vrrp_notify_fifo_script: script("/bin/vrrp-reader"),
    });
    expect(p.fifos).toEqual([{ role: "global", path: "/run/f", vrrp: true, lvs: true }]);
    expect(p.notes).toHaveLength(1);
    expect(p.notes[0]).toContain("vrrp_notify_fifo /run/f");
  });

  test("lvs_notify_fifo on notify_fifo's path is ignored", () => {
    const p = planFifos({
      notify_fifo: "/run/f",
      notify_fifo_script: script("/bin/r"),
      lvs_notify_fifo: "/run/f",
    });
    expect(p.fifos.map((f) => [f.role, f.path, f.script?.command])).toEqual([
      ["global", "/run/f", ["/bin/r", "/run/f"]],
    ]);
    expect(p.notes[0]).toContain("lvs_notify_fifo");
  });

  test("vrrp and lvs sharing a path: one FIFO, both kinds of line, the vrrp script", () => {
    const p = planFifos({
      vrrp_notify_fifo: { path: "/run/s", user: "v" },
      vrrp_notify_fifo_script: script("/bin/v"),
      lvs_notify_fifo: { path: "/run/s", user: "l", group: "g" },
      lvs_notify_fifo_script: script("/bin/l"),
    });
    expect(p.fifos).toEqual([
      {
        role: "vrrp",
        path: "/run/s",
        user: "v",
        group: "g",
        vrrp: true,
        lvs: true,
        script: { command: ["/bin/v", "/run/s"] },
      },
    ]);
    expect(p.notes[0]).toContain("lvs script is ignored");
    // Only the LVS side has a script: that one runs.
    const q = planFifos({
      vrrp_notify_fifo: "/run/s",
      lvs_notify_fifo: "/run/s",
      lvs_notify_fifo_script: script("/bin/l"),
    });
    expect(q.fifos.map((f) => f.script?.command)).toEqual([["/bin/l", "/run/s"]]);
    expect(q.notes).toEqual([]);
  });

  test("paths compare as written, as keepalived's strcmp does", () => {
    const p = planFifos({ notify_fifo: "/run/f", vrrp_notify_fifo: "/run//f" });
    expect(p.fifos.map((f) => f.path)).toEqual(["/run/f", "/run//f"]);
  });

  test("parts that don't run open no FIFO of their own", () => {
    const g = { notify_fifo: "/run/a", vrrp_notify_fifo: "/run/v", lvs_notify_fifo: "/run/l" };
    expect(planFifos(g, { vrrp: true, lvs: false }).fifos).toEqual([
      { role: "global", path: "/run/a", vrrp: true, lvs: false },
      { role: "vrrp", path: "/run/v", vrrp: true, lvs: false },
    ]);
    expect(planFifos(g, { vrrp: false, lvs: true }).fifos.map((f) => f.role)).toEqual([
      "global",
      "lvs",
    ]);
  });
});
