/**
 * Metrics.render (src/agent/metrics.ts) over a hand-built StatusDoc, read back with a strict
 * parser: keepalived-exporter's names, types and labels (mehdy/keepalived-exporter
 * internal/collector/collector.go), our edge_agent_* families, escaping of hostile names,
 * and no secret from the config. promtool, when installed, checks the same text.
 */
import { describe, expect, test } from "bun:test";
import {
  keepalivedAddress,
  LATENESS_BUCKETS_SECONDS,
  Metrics,
  type MetricsInstanceConfig,
} from "../../src/agent/metrics.ts";
import { planInstances } from "../../src/agent/params.ts";
import type { StatusCounters, StatusDoc, StatusState } from "../../src/agent/status-types.ts";
import { loadText } from "../../src/config/load.ts";
import { parseIp } from "../../src/core/net/ip.ts";
import { missing } from "../helpers/env.ts";
import { doc, instance, VI_1, VI_6 } from "../helpers/metrics-fixture.ts";
import { parseProm, promSample, promSamples } from "../helpers/prom-parse.ts";

const EXPORTER_COUNTERS: [string, keyof StatusCounters][] = [
  ["keepalived_advertisements_received_total", "advert_rcvd"],
  ["keepalived_advertisements_sent_total", "advert_sent"],
  ["keepalived_become_master_total", "become_master"],
  ["keepalived_release_master_total", "release_master"],
  ["keepalived_packet_length_errors_total", "packet_len_err"],
  ["keepalived_advertisements_interval_errors_total", "advert_interval_err"],
  ["keepalived_ip_ttl_errors_total", "ip_ttl_err"],
  ["keepalived_invalid_type_received_total", "invalid_type_rcvd"],
  ["keepalived_address_list_errors_total", "addr_list_err"],
  ["keepalived_authentication_invalid_total", "invalid_authtype"],
  ["keepalived_authentication_mismatch_total", "authtype_mismatch"],
  ["keepalived_authentication_failure_total", "auth_failure"],
  ["keepalived_priority_zero_received_total", "pri_zero_rcvd"],
  ["keepalived_priority_zero_sent_total", "pri_zero_sent"],
];

const render = (m: Metrics, d: StatusDoc) => parseProm(m.render(d));

describe("Metrics.render: keepalived-exporter's families", () => {
  const fams = render(new Metrics({ bunVersion: "9.9.9" }), doc([VI_1, VI_6]));

  test("keepalived_up is a gauge at 1", () => {
    expect(fams.get("keepalived_up")?.type).toBe("gauge");
    expect(promSample(fams, "keepalived_up")?.value).toBe(1);
  });

  test("every counter of the exporter, per instance, labelled {iname,intf,vrid}", () => {
    for (const [name, key] of EXPORTER_COUNTERS) {
      expect(fams.get(name)?.type).toBe("counter");
      for (const i of [VI_1, VI_6]) {
        const s = promSample(fams, name, {
          iname: i.name,
          intf: i.interface,
          vrid: String(i.vrid),
        });
        expect({ name, value: s?.value }).toEqual({ name, value: i.counters[key] });
      }
      expect(promSamples(fams, name).length).toBe(2);
    }
  });

  test("keepalived_vrrp_state: one series per VIP, keepalived's address text, 0-3 states", () => {
    expect(fams.get("keepalived_vrrp_state")?.type).toBe("gauge");
    const vi1 = promSamples(fams, "keepalived_vrrp_state").filter((s) => s.labels.iname === "VI_1");
    expect(vi1.map((s) => s.labels)).toEqual([
      { iname: "VI_1", intf: "eth0", vrid: "51", ip_address: "192.0.2.10" },
      { iname: "VI_1", intf: "eth0", vrid: "51", ip_address: "192.0.2.11/24" },
    ]);
    expect(vi1.map((s) => s.value)).toEqual([2, 2]);
    // No VIP held: one series with an empty ip_address, as the exporter does.
    expect(
      promSample(fams, "keepalived_vrrp_state", {
        iname: "VI_6",
        intf: "eth2",
        vrid: "61",
        ip_address: "",
      })?.value,
    ).toBe(1);
  });

  test("keepalived_script_status{name}: 1 GOOD, 0 BAD; other trackers are not scripts", () => {
    expect(fams.get("keepalived_script_status")?.type).toBe("gauge");
    expect(promSample(fams, "keepalived_script_status", { name: "chk_up" })?.value).toBe(1);
    expect(promSample(fams, "keepalived_script_status", { name: "chk_down" })?.value).toBe(0);
    expect(promSamples(fams, "keepalived_script_status").length).toBe(2);
  });

  test("without the configured VIPs there is no excluded-state or GARP-delay family", () => {
    expect(fams.has("keepalived_vrrp_excluded_state")).toBe(false);
    expect(fams.has("keepalived_gratuitous_arp_delay_total")).toBe(false);
  });

  test("states map to keepalived's numbers, STOP to its internal 98", () => {
    const states: [StatusState, number][] = [
      ["INIT", 0],
      ["BACKUP", 1],
      ["MASTER", 2],
      ["FAULT", 3],
      ["STOP", 98],
    ];
    for (const [state, want] of states) {
      const f = render(new Metrics(), doc([{ ...VI_6, state }]));
      expect({ state, v: promSamples(f, "keepalived_vrrp_state")[0]?.value }).toEqual({
        state,
        v: want,
      });
    }
  });
});

describe("Metrics.render: with the configured VIPs (configOf)", () => {
  const cfg: Record<string, MetricsInstanceConfig> = {
    VI_1: {
      vips: [{ address: "192.0.2.10/32" }, { address: "198.51.100.7/24", dev: "eth9" }],
      evips: [{ address: "203.0.113.5/32" }],
      vipDev: "vrrp.51",
      garpDelaySeconds: 5,
    },
    VI_6: { vips: [{ address: "2001:db8::10/128" }, { address: "2001:db8::11/64" }], evips: [] },
  };
  const fams = render(new Metrics({ configOf: (n) => cfg[n] }), doc([VI_1, VI_6]));

  test("a BACKUP keeps one series per configured VIP, as the exporter shows it", () => {
    const vi6 = promSamples(fams, "keepalived_vrrp_state").filter((s) => s.labels.iname === "VI_6");
    expect(vi6.map((s) => [s.labels.ip_address, s.labels.intf, s.value])).toEqual([
      ["2001:db8::10", "eth2", 1],
      ["2001:db8::11/64", "eth2", 1],
    ]);
  });

  test("the VIP's device labels intf: its own dev, else the plan's vipDev", () => {
    const vi1 = promSamples(fams, "keepalived_vrrp_state").filter((s) => s.labels.iname === "VI_1");
    expect(vi1.map((s) => [s.labels.ip_address, s.labels.intf])).toEqual([
      ["192.0.2.10", "vrrp.51"],
      ["198.51.100.7/24", "eth9"],
    ]);
  });

  test("excluded VIPs and the GARP delay, as the exporter exports them", () => {
    expect(
      promSample(fams, "keepalived_vrrp_excluded_state", {
        iname: "VI_1",
        intf: "vrrp.51",
        vrid: "51",
        ip_address: "203.0.113.5",
      })?.value,
    ).toBe(2);
    expect(fams.get("keepalived_gratuitous_arp_delay_total")?.type).toBe("counter");
    expect(
      promSample(fams, "keepalived_gratuitous_arp_delay_total", {
        iname: "VI_1",
        intf: "eth0",
        vrid: "51",
      })?.value,
    ).toBe(5);
    expect(promSamples(fams, "keepalived_gratuitous_arp_delay_total").length).toBe(1);
  });
});

describe("Metrics.render: edge_agent_*", () => {
  test("build info, maintenance, priorities", () => {
    const fams = render(new Metrics({ bunVersion: "9.9.9" }), doc([VI_1, VI_6], true));
    expect(
      promSample(fams, "edge_agent_build_info", {
        version: "0.1.0-test",
        commit: "abc1234",
        bun: "9.9.9",
      })?.value,
    ).toBe(1);
    expect(promSample(fams, "edge_agent_maintenance")?.value).toBe(1);
    expect(promSample(fams, "edge_agent_base_priority", { iname: "VI_1" })?.value).toBe(100);
    expect(promSample(fams, "edge_agent_effective_priority", { iname: "VI_1" })?.value).toBe(90);
    expect(promSample(fams, "edge_agent_effective_priority", { iname: "VI_6" })?.value).toBe(50);
    const off = render(new Metrics(), doc([VI_1], false));
    expect(promSample(off, "edge_agent_maintenance")?.value).toBe(0);
    expect(promSample(off, "edge_agent_build_info")).toBeUndefined(); // it has labels
    expect(promSamples(off, "edge_agent_build_info")[0]?.labels.bun).toBe(Bun.version);
  });

  test("trackers: up 1, down 0, a file value 1 unless in FAULT, unknown absent", () => {
    const fams = render(new Metrics(), doc([VI_1]));
    const up = (kind: string, name: string) =>
      promSample(fams, "edge_agent_tracker_up", { iname: "VI_1", kind, name })?.value;
    expect(up("script", "chk_up")).toBe(1);
    expect(up("script", "chk_down")).toBe(0);
    expect(up("interface", "eth1")).toBe(1);
    expect(up("file", "tf")).toBe(1);
    expect(up("process", "nginx")).toBeUndefined();
    const faulted = { ...VI_1, trackers: [{ ...VI_1.trackers[3]!, fault: true }] };
    expect(
      promSample(render(new Metrics(), doc([faulted])), "edge_agent_tracker_up", {
        iname: "VI_1",
        kind: "file",
        name: "tf",
      })?.value,
    ).toBe(0);
  });

  test("transitions are counted by from/to; the last one's time comes from the doc", () => {
    const m = new Metrics();
    const at = new Date("2026-03-04T05:06:07.500Z");
    m.onTransition("VI_1", "INIT", "BACKUP", at);
    m.onTransition("VI_1", "BACKUP", "MASTER", at);
    m.onTransition("VI_1", "MASTER", "BACKUP", at);
    m.onTransition("VI_1", "BACKUP", "MASTER", at);
    m.onTransition("VI_6", "INIT", "BACKUP", at);
    m.onTransition("GONE", "INIT", "BACKUP", at); // not in the doc: not shown
    const fams = render(m, doc([VI_1, VI_6]));
    expect(fams.get("edge_agent_transitions_total")?.type).toBe("counter");
    const n = (iname: string, from: string, to: string) =>
      promSample(fams, "edge_agent_transitions_total", { iname, from, to })?.value;
    expect(n("VI_1", "BACKUP", "MASTER")).toBe(2);
    expect(n("VI_1", "MASTER", "BACKUP")).toBe(1);
    expect(n("VI_1", "INIT", "BACKUP")).toBe(1);
    expect(n("VI_6", "INIT", "BACKUP")).toBe(1);
    expect(promSamples(fams, "edge_agent_transitions_total").length).toBe(4);
    // VI_1's doc has last_transition; VI_6's has none, so the recorded wall time is used.
    const last = (iname: string) =>
      promSample(fams, "edge_agent_last_transition_timestamp_seconds", { iname })?.value;
    expect(last("VI_1")).toBe(Date.parse("2026-01-02T03:04:05.250Z") / 1000);
    expect(last("VI_6")).toBe(at.getTime() / 1000);
    // With neither, no series.
    const fresh = render(new Metrics(), doc([VI_6]));
    expect(fresh.has("edge_agent_last_transition_timestamp_seconds")).toBe(false);
  });

  test("reloads and failures", () => {
    const m = new Metrics();
    let fams = render(m, doc([VI_1]));
    expect(promSample(fams, "edge_agent_reloads_total")?.value).toBe(0);
    m.onReload(true);
    m.onReload(false);
    m.onReload(true);
    fams = render(m, doc([VI_1]));
    expect(fams.get("edge_agent_reloads_total")?.type).toBe("counter");
    expect(promSample(fams, "edge_agent_reloads_total")?.value).toBe(3);
    expect(promSample(fams, "edge_agent_reload_failures_total")?.value).toBe(1);
  });

  test("advert lateness histogram: cumulative buckets up to +Inf, _sum, _count", () => {
    const m = new Metrics();
    const name = "edge_agent_advert_send_lateness_seconds";
    const empty = render(m, doc([]));
    expect(promSample(empty, `${name}_count`)?.value).toBe(0);
    expect(promSample(empty, `${name}_bucket`, { le: "+Inf" })?.value).toBe(0);
    // 0.3 ms, 2 ms, 2 ms, 0.2 s (past the last bound), early (counts as 0), NaN (ignored).
    for (const s of [0.0003, 0.002, 0.002, 0.2, -0.001, Number.NaN]) m.observeAdvertLateness(s);
    const fams = render(m, doc([]));
    expect(fams.get(name)?.type).toBe("histogram");
    const bucket = (le: string) => promSample(fams, `${name}_bucket`, { le })?.value;
    expect(bucket("0.0001")).toBe(1); // the early one
    expect(bucket("0.00025")).toBe(1);
    expect(bucket("0.0005")).toBe(2);
    expect(bucket("0.001")).toBe(2);
    expect(bucket("0.0025")).toBe(4);
    expect(bucket("0.05")).toBe(4);
    expect(bucket("0.1")).toBe(4);
    expect(bucket("+Inf")).toBe(5);
    expect(promSample(fams, `${name}_count`)?.value).toBe(5);
    expect(promSample(fams, `${name}_sum`)?.value).toBeCloseTo(0.2043, 9);
    expect(promSamples(fams, `${name}_bucket`).length).toBe(LATENESS_BUCKETS_SECONDS.length + 1);
    // Buckets suited to 0–50 ms: several below 1 ms, one at 50 ms.
    expect(LATENESS_BUCKETS_SECONDS.filter((b) => b < 0.001).length).toBeGreaterThanOrEqual(3);
    expect(LATENESS_BUCKETS_SECONDS).toContain(0.05);
  });
});

describe("Metrics.render: escaping and secrets", () => {
  test("a hostile instance name is escaped and reads back unchanged", () => {
    const weird = "VI \"quoted\" \\back\\slash\nnew line, {braces}='é' 🐘 # not a comment";
    const i = instance({
      name: weird,
      vrid: 7,
      interface: 'e"th\\0',
      state: "FAULT",
      trackers: [
        {
          kind: "script",
          name: 'chk\n"x"',
          weight: 0,
          reverse: false,
          state: "down",
          delta: 0,
          fault: true,
        },
      ],
    });
    const text = new Metrics().render(doc([i]));
    expect(text).not.toContain(`\n${"new line"}`); // no raw line feed from the name
    const fams = parseProm(text);
    const s = promSample(fams, "keepalived_vrrp_state", {
      iname: weird,
      intf: 'e"th\\0',
      vrid: "7",
      ip_address: "",
    });
    expect(s?.value).toBe(3);
    expect(promSample(fams, "keepalived_script_status", { name: 'chk\n"x"' })?.value).toBe(0);
    expect(promSample(fams, "edge_agent_base_priority", { iname: weird })?.value).toBe(100);
  });

  test("the config's auth_pass never appears, even when the whole plan is handed over", () => {
    const secret = "s3cr3tPw";
    const text = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    authentication {
        auth_type PASS
        auth_pass ${secret}
    }
    virtual_ipaddress {
        192.0.2.100/24
    }
    virtual_ipaddress_excluded {
        192.0.2.200
    }
}`;
    const loaded = loadText(text, "/m.conf", "keepalived", { offline: true });
    if (!loaded.model) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
    const plans = planInstances(loaded.model, { primaryAddress: () => parseIp("192.0.2.1") });
    const plan = plans[0];
    if (!plan) throw new Error("no plan");
    // The plan carries the password (adverts need it); prove the test could see a leak.
    expect(new TextDecoder().decode(plan.authData)).toContain(secret);
    const m = new Metrics({ configOf: (n) => plans.find((p) => p.name === n) });
    const out = m.render(doc([instance({ name: "VI_1", vrid: 51, state: "BACKUP" })]));
    expect(out).not.toContain(secret);
    const fams = parseProm(out);
    expect(promSamples(fams, "keepalived_vrrp_state").map((s) => s.labels.ip_address)).toEqual([
      "192.0.2.100/24",
    ]);
    expect(
      promSamples(fams, "keepalived_vrrp_excluded_state").map((s) => s.labels.ip_address),
    ).toEqual(["192.0.2.200"]);
  });

  test("keepalived's address text: host prefixes dropped, others kept", () => {
    expect(keepalivedAddress("192.0.2.1/32")).toBe("192.0.2.1");
    expect(keepalivedAddress("192.0.2.1/24")).toBe("192.0.2.1/24");
    expect(keepalivedAddress("2001:db8::1/128")).toBe("2001:db8::1");
    expect(keepalivedAddress("2001:db8::1/32")).toBe("2001:db8::1/32");
    expect(keepalivedAddress("192.0.2.1")).toBe("192.0.2.1");
  });
});

// Prometheus' own linter, where installed (Debian package `prometheus` ships it): the same
// text must pass `promtool check metrics` — its parser and its naming lint.
const noPromtool = missing({ commands: ["promtool"] });
test.skipIf(noPromtool !== undefined)(
  `promtool check metrics accepts a full render${noPromtool ? ` (skipped: ${noPromtool})` : ""}`,
  () => {
    const m = new Metrics({
      configOf: (n) =>
        n === "VI_1"
          ? {
              vips: [{ address: "192.0.2.10/32" }],
              evips: [{ address: "192.0.2.9/32" }],
              garpDelaySeconds: 5,
            }
          : undefined,
    });
    m.onTransition("VI_1", "BACKUP", "MASTER", new Date("2026-01-02T03:04:05Z"));
    m.observeAdvertLateness(0.0004);
    m.onReload(false);
    const weird = instance({ name: 'odd "name"\\\n', vrid: 9, state: "FAULT" });
    const text = m.render(doc([VI_1, VI_6, weird], true));
    parseProm(text); // ours agrees first
    const r = Bun.spawnSync(["promtool", "check", "metrics"], {
      stdin: new TextEncoder().encode(text),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect({ code: r.exitCode, out: `${r.stdout}${r.stderr}` }).toEqual({ code: 0, out: "" });
  },
);
