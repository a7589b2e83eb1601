/**
 * How instances bind trackers (src/agent/track-plan.ts): weights from the tracker or the
 * binding, reverse/noreverse overrides, and keepalived's rules for sync-group members and
 * address owners (vrrp.c vrrp_complete_instance, sync_group_tracking_init).
 */
import { describe, expect, test } from "bun:test";
import { planTracking } from "../../src/agent/track-plan.ts";
import { loadText } from "../../src/config/load.ts";

function plan(text: string) {
  const loaded = loadText(text, "/t.conf", "keepalived", { offline: true });
  if (!loaded.model) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  return planTracking(loaded.model);
}

const blocks = `
vrrp_script s_neg {
    script "/a"
    weight -20
}
vrrp_script s_rev {
    script "/b"
    weight 10 reverse
}
vrrp_script s_zero {
    script "/c"
}
track_file f {
    file /run/f
}
`;

const inst = (name: string, prio: number, tracks: string, vrid = 51) => `
vrrp_instance ${name} {
    interface eth0
    virtual_router_id ${vrid}
    priority ${prio}
    virtual_ipaddress {
        192.0.2.${vrid}/24
    }
    ${tracks}
}`;

describe("track bindings", () => {
  test("weights come from the tracker unless the binding gives one; reverse/noreverse override", () => {
    const p = plan(
      blocks +
        inst(
          "VI_1",
          100,
          "track_script {\n s_neg\n s_rev weight 5 noreverse\n s_zero weight -7 reverse\n}\ntrack_interface {\n eth1 weight 30\n}\ntrack_file {\n f\n}",
        ),
    );
    expect(p.bindings.get("VI_1")).toEqual([
      { kind: "interface", name: "eth1", weight: 30, reverse: false },
      { kind: "script", name: "s_neg", weight: -20, reverse: false },
      { kind: "script", name: "s_rev", weight: 5, reverse: false },
      { kind: "script", name: "s_zero", weight: -7, reverse: true },
      { kind: "file", name: "f", weight: 1, reverse: false },
    ]);
    expect(p.notes).toEqual([]);
  });

  test("an address owner keeps only unweighted trackers (a default-weight track_file becomes weight 0)", () => {
    const p = plan(
      blocks +
        inst(
          "VI_1",
          255,
          "track_script {\n s_neg\n s_zero\n}\ntrack_interface {\n eth1 weight 30\n}\ntrack_file {\n f\n}",
        ),
    );
    expect(p.bindings.get("VI_1")).toEqual([
      { kind: "script", name: "s_zero", weight: 0, reverse: false },
      { kind: "file", name: "f", weight: 0, reverse: false },
    ]);
    expect(p.notes.map((n) => n.text)).toEqual([
      "ignoring weighted track_interface eth1 (address owner)",
      "ignoring weighted track_script s_neg (address owner)",
      "ignoring weight of tracked file f (address owner)",
    ]);
  });

  test("sync group members: weighted interfaces become weight 0, weighted scripts go, group trackers apply to all", () => {
    const group = `vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n track_script {\n s_rev\n }\n}\n`;
    const p = plan(
      blocks +
        group +
        inst("VI_1", 100, "track_script {\n s_neg\n}\ntrack_interface {\n eth1 weight 30\n}") +
        inst("VI_2", 100, "", 52),
    );
    expect(p.bindings.get("VI_1")).toEqual([
      { kind: "interface", name: "eth1", weight: 0, reverse: false },
      { kind: "script", name: "s_rev", weight: 10, reverse: true },
    ]);
    expect(p.bindings.get("VI_2")).toEqual([
      { kind: "script", name: "s_rev", weight: 10, reverse: true },
    ]);
  });

  test("sync_group_tracking_weight keeps members' weights; a group with an owner clears the group's", () => {
    const weighted = `vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n sync_group_tracking_weight\n}\n`;
    const p = plan(
      blocks +
        weighted +
        inst("VI_1", 100, "track_script {\n s_neg\n}") +
        inst("VI_2", 100, "", 52),
    );
    expect(p.bindings.get("VI_1")).toEqual([
      { kind: "script", name: "s_neg", weight: -20, reverse: false },
    ]);
    const owner = `vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n track_script {\n s_neg\n }\n}\n`;
    const q = plan(blocks + owner + inst("VI_1", 255, "") + inst("VI_2", 100, "", 52));
    expect(q.bindings.get("VI_2")).toEqual([
      { kind: "script", name: "s_neg", weight: 0, reverse: false },
    ]);
  });
});
