import { describe, expect, test } from "bun:test";
import {
  type DesiredOptions,
  desiredTable,
  type Health,
  INITIAL_QUORUM_STATE,
  type QuorumState,
  type Service,
} from "../../../src/core/ipvs/desired.ts";
import { SVC_F } from "../../../src/core/ipvs/table.ts";
import { allMaster, healthOf, model } from "./helpers.ts";

const vs = (body: string, head = "192.0.2.100 80") =>
  `virtual_server ${head} {\n lvs_sched wrr\n lvs_method NAT\n protocol TCP\n${body}\n}\n`;
const rs = (ip: string, port: number, body = "") =>
  ` real_server ${ip} ${port} {\n weight 1\n${body}\n }\n`;

/** The dests of the only service, as "ip:port=weight", sorted. */
function pool(services: readonly Service[]): string[] {
  expect(services.length).toBe(1);
  return services[0]!.dests.map((d) => `${d.addr}:${d.port}=${d.weight}`);
}

function run(
  text: string,
  verdicts: Record<string, Health>,
  prev: QuorumState = INITIAL_QUORUM_STATE,
  opts: DesiredOptions = {},
  vrrp: (i: string) => "MASTER" | "other" = allMaster,
) {
  return desiredTable(model(text), healthOf(verdicts), vrrp, prev, opts);
}

describe("one service and its pool", () => {
  test("service attributes and NAT dests with their own ports", () => {
    const r = run(vs(rs("192.0.2.11", 8080) + rs("192.0.2.12", 8081)), {});
    const s = r.table.services[0]!;
    expect(s).toMatchObject({
      af: 4,
      protocol: "TCP",
      addr: "192.0.2.100",
      port: 80,
      fwmark: 0,
      sched: "wrr",
      flags: 0,
      timeoutS: 0,
      netmask: 0xffffffff,
      peName: null,
    });
    expect(pool(r.table.services)).toEqual(["192.0.2.11:8080=1", "192.0.2.12:8081=1"]);
    expect(s.dests[0]).toMatchObject({ fwd: "NAT", uThreshold: 0, lThreshold: 0, tunType: null });
  });

  test("DR and TUN dests take the service port (ipvswrapper.c ipvs_cmd)", () => {
    const text = vs(
      rs("192.0.2.11", 8080, "lvs_method DR") +
        rs("192.0.2.12", 8080, "lvs_method TUN type gue port 6080 csum\nuthreshold 9"),
    );
    const d = run(text, {}).table.services[0]!.dests;
    expect(d.map((x) => [x.addr, x.port, x.fwd])).toEqual([
      ["192.0.2.11", 80, "DR"],
      ["192.0.2.12", 80, "TUN"],
    ]);
    expect(d[1]).toMatchObject({ tunType: "gue", tunPort: 6080, tunCsum: "csum", uThreshold: 9 });
  });

  // Table-driven: inhibit_on_failure and the per-RS verdicts.
  const cases: [string, string, Record<string, Health>, string[]][] = [
    ["all up", "", {}, ["192.0.2.11:80=3", "192.0.2.12:80=1"]],
    ["down RS removed", "", { "192.0.2.11:80": "down" }, ["192.0.2.12:80=1"]],
    [
      "down RS inhibited → weight 0",
      "inhibit_on_failure",
      { "192.0.2.11:80": "down" },
      ["192.0.2.11:80=0", "192.0.2.12:80=1"],
    ],
    [
      "unknown without alpha counts as up",
      "",
      { "192.0.2.11:80": "unknown" },
      ["192.0.2.11:80=3", "192.0.2.12:80=1"],
    ],
    ["alpha: unknown counts as down", "alpha", { "192.0.2.11:80": "unknown" }, ["192.0.2.12:80=1"]],
    [
      "alpha + inhibit: added at once with weight 0",
      "alpha\n inhibit_on_failure",
      { "192.0.2.11:80": "unknown", "192.0.2.12:80": "unknown" },
      ["192.0.2.11:80=0", "192.0.2.12:80=0"],
    ],
    [
      "alpha: a success brings it in",
      "alpha",
      { "192.0.2.11:80": "up" },
      ["192.0.2.11:80=3", "192.0.2.12:80=1"],
    ],
  ];
  for (const [name, vsBody, verdicts, want] of cases)
    test(name, () => {
      const text = vs(`${vsBody}\n${rs("192.0.2.11", 80, "weight 3")}${rs("192.0.2.12", 80)}`);
      expect(pool(run(text, verdicts).table.services)).toEqual(want);
    });
});

describe("sorry server", () => {
  const two = rs("192.0.2.11", 80) + rs("192.0.2.12", 80, "inhibit_on_failure");
  const down = { "192.0.2.11:80": "down", "192.0.2.12:80": "down" } as const;
  const cases: [string, string, Record<string, Health>, string[]][] = [
    [
      "quorum up: no sorry server",
      "sorry_server 192.0.2.50 8080",
      {},
      ["192.0.2.11:80=1", "192.0.2.12:80=1"],
    ],
    [
      "quorum down: sorry server in; the inhibited RS stays at 0",
      "sorry_server 192.0.2.50 8080",
      down,
      ["192.0.2.12:80=0", "192.0.2.50:8080=1"],
    ],
    [
      "sorry_server_inhibit, quorum up: sorry server held at weight 0",
      "sorry_server 192.0.2.50 8080\n sorry_server_inhibit",
      {},
      ["192.0.2.11:80=1", "192.0.2.12:80=1", "192.0.2.50:8080=0"],
    ],
    [
      "sorry_server_inhibit, quorum down: weight 1",
      "sorry_server 192.0.2.50 8080\n sorry_server_inhibit",
      down,
      ["192.0.2.12:80=0", "192.0.2.50:8080=1"],
    ],
  ];
  for (const [name, vsBody, verdicts, want] of cases)
    test(name, () =>
      expect(pool(run(vs(`${vsBody}\n${two}`), verdicts).table.services)).toEqual(want),
    );

  test("live real servers leave the pool while the sorry server serves (quorum 2)", () => {
    const text = vs(`quorum 2\n sorry_server 192.0.2.50 8080\n${two}`);
    const r = run(text, { "192.0.2.12:80": "down" });
    expect(pool(r.table.services)).toEqual(["192.0.2.12:80=0", "192.0.2.50:8080=1"]);
    expect(r.events).toEqual([
      {
        type: "quorum_down",
        vs: "192.0.2.100:80/TCP",
        init: true,
        weightSum: 1,
        threshold: 2,
        quorum: 2,
        hysteresis: 0,
      },
    ]);
  });

  test("sorry_server_lvs_method DR takes the service port", () => {
    const text = vs(`sorry_server 192.0.2.50 8080\n sorry_server_lvs_method DR\n${two}`);
    const d = run(text, down).table.services[0]!.dests.find((x) => x.addr === "192.0.2.50");
    expect(d).toMatchObject({ port: 80, fwd: "DR", weight: 1 });
  });
});

describe("quorum and hysteresis", () => {
  // Five RS of weight 1, quorum 3, hysteresis 1: up at >= 4, down below 2 once up.
  const five = [11, 12, 13, 14, 15].map((n) => rs(`192.0.2.${n}`, 80)).join("");
  const text = vs(`quorum 3\n hysteresis 1\n sorry_server 192.0.2.50 80\n${five}`);
  const liveOf = (n: number) =>
    Object.fromEntries(
      [11, 12, 13, 14, 15].map((x, i) => [`192.0.2.${x}:80`, i < n ? "up" : "down"] as const),
    );

  test("a sequence of live counts, both directions, with events only on changes", () => {
    // [live RS, quorum up after, event]
    const steps: [number, boolean, string | null][] = [
      // start: 5 >= 3+1 is announced — keepalived's quorum state starts down, so reaching it
      // is "Gained quorum" (ipwrapper.c init_service_vs → update_quorum_state(init)).
      [5, true, "quorum_up"],
      [3, true, null], // 3 >= 3-1: held by hysteresis
      [2, true, null], // 2 is not below 2
      [1, false, "quorum_down"], // 1 < 2: lost
      [3, false, null], // 3 < 3+1: still down
      [4, true, "quorum_up"], // 4 >= 4: gained
      [0, false, "quorum_down"],
    ];
    let st = INITIAL_QUORUM_STATE;
    for (const [live, up, ev] of steps) {
      const r = run(text, liveOf(live), st);
      st = r.quorum;
      expect({ live, up: st.vs["192.0.2.100:80/TCP"]?.quorumUp }).toEqual({ live, up });
      const got: string | null = r.events.map((e) => e.type)[0] ?? null;
      expect({ live, ev: got }).toEqual({ live, ev });
      const sorry = r.table.services[0]!.dests.some((d) => d.addr === "192.0.2.50");
      expect({ live, sorry }).toEqual({ live, sorry: !up });
    }
  });

  test("zero weights: lost on a change when no live weight remains, not on a repeat", () => {
    const zero = vs(
      `sorry_server 192.0.2.50 80\n${rs("192.0.2.11", 80, "weight 0")}${rs("192.0.2.12", 80, "weight 0")}`,
    );
    const seq: [Record<string, Health>, string[]][] = [
      [{}, ["quorum_up"]], // quorum clamped to 0: up, announced at start
      [{ "192.0.2.11:80": "down" }, ["quorum_down"]], // a change with no live weight
      [{ "192.0.2.11:80": "down" }, []], // same verdicts again: nothing
      [{}, ["quorum_up"]], // a change: 0 >= 0
    ];
    let st = INITIAL_QUORUM_STATE;
    for (const [i, [verdicts, want]] of seq.entries()) {
      const r = run(zero, verdicts, st);
      st = r.quorum;
      expect({ i, ev: r.events.map((e): string => e.type) }).toEqual({ i, ev: want });
    }
  });

  test("starting below quorum + hysteresis starts down", () => {
    const r = run(text, liveOf(3));
    expect(r.quorum.vs["192.0.2.100:80/TCP"]?.quorumUp).toBe(false);
    expect(r.events.map((e) => [e.type, e.init])).toEqual([["quorum_down", true]]);
  });

  test("starting down without a sorry server is silent (ipwrapper.c update_quorum_state)", () => {
    const r = run(vs(`quorum 3\n${five}`), liveOf(1));
    expect(r.quorum.vs["192.0.2.100:80/TCP"]?.quorumUp).toBe(false);
    expect(r.events).toEqual([]);
  });

  test("quorum above the total weight is clamped, with a note", () => {
    const r = run(vs(`quorum 10\n${rs("192.0.2.11", 80, "weight 2")}`), {});
    expect(r.quorum.vs["192.0.2.100:80/TCP"]?.quorumUp).toBe(true);
    expect(r.notes.join()).toContain("quorum 10 exceeds total real-server weight 2");
  });

  test("the state object is not mutated", () => {
    const prev = run(text, liveOf(5)).quorum;
    const snapshot = JSON.stringify(prev);
    run(text, liveOf(0), prev);
    expect(JSON.stringify(prev)).toBe(snapshot);
  });
});

describe("omega and stopping", () => {
  const pair = rs("192.0.2.11", 80) + rs("192.0.2.12", 80);
  const text = vs(`omega\n${pair}`) + vs(pair, "192.0.2.101 80");
  test("stopping empties the table; only omega VSs report quorum down", () => {
    const prev = run(text, {}).quorum;
    const r = run(text, {}, prev, { stopping: true });
    expect(r.table.services).toEqual([]);
    expect(r.events.map((e) => [e.type, e.vs])).toEqual([["quorum_down", "192.0.2.100:80/TCP"]]);
  });
});

describe("ha_suspend", () => {
  const inst = `vrrp_instance VI_1 {\n interface lo\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n`;
  const text = inst + vs(`ha_suspend\n${rs("192.0.2.11", 80)}${rs("192.0.2.12", 80)}`);
  const backup = () => "other" as const;
  const down11 = { "192.0.2.11:80": "down" } as const;

  test("MASTER: verdicts apply", () => {
    expect(pool(run(text, down11).table.services)).toEqual(["192.0.2.12:80=1"]);
  });
  test("not MASTER (freeze, keepalived): verdicts held from before", () => {
    const prev = run(text, {}).quorum;
    const r = run(text, down11, prev, {}, backup);
    expect(pool(r.table.services)).toEqual(["192.0.2.11:80=1", "192.0.2.12:80=1"]);
    // …and resume once MASTER again.
    expect(pool(run(text, down11, r.quorum).table.services)).toEqual(["192.0.2.12:80=1"]);
  });
  test("not MASTER (withdraw): the service is left out", () => {
    expect(
      run(text, {}, INITIAL_QUORUM_STATE, { haSuspend: "withdraw" }, backup).table.services,
    ).toEqual([]);
  });
  test("a VS no instance owns is never suspended", () => {
    const other = inst + vs(`ha_suspend\n${rs("192.0.2.11", 80)}`, "192.0.2.200 80");
    expect(
      run(other, {}, INITIAL_QUORUM_STATE, { haSuspend: "withdraw" }, backup).table.services.length,
    ).toBe(1);
  });
});

describe("virtual_server_group expansion", () => {
  const group = `virtual_server_group G1 {\n 192.0.2.1-3 80\n 2001:db8::a-b 443\n fwmark 7\n fwmark 8 inet6\n}\n`;
  test("one kernel service per address and per fwmark, each with the same pool", () => {
    const text =
      group +
      vs(
        `persistence_timeout 60\n persistence_granularity 255.255.255.0\n${rs("192.0.2.11", 8080, "lvs_method DR")}`,
        "group G1",
      );
    const r = run(text, {});
    const heads = r.table.services.map((s) => [
      s.af,
      s.protocol,
      s.addr,
      s.port,
      s.fwmark,
      s.dests[0]?.port,
    ]);
    expect(heads).toEqual([
      [4, "TCP", "192.0.2.1", 80, 0, 80],
      [4, "TCP", "192.0.2.2", 80, 0, 80],
      [4, "TCP", "192.0.2.3", 80, 0, 80],
      [4, null, null, 0, 7, 0],
      [6, "TCP", "2001:db8::a", 443, 0, 443],
      [6, "TCP", "2001:db8::b", 443, 0, 443],
      [6, null, null, 0, 8, 0],
    ]);
    for (const s of r.table.services) {
      expect(s.flags & SVC_F.persistent).toBe(SVC_F.persistent);
      expect(s.timeoutS).toBe(60);
      // groups always use a full netmask (ipvswrapper.c ipvs_group_range_cmd)
      expect(s.netmask).toBe(s.af === 4 ? 0xffffffff : 128);
    }
  });
  test("fwmark virtual server takes its family from ip_family, else its real servers", () => {
    const a = run(vs(rs("2001:db8::11", 80), "fwmark 9"), {}).table.services[0]!;
    const b = run(vs(`ip_family inet6\n${rs("192.0.2.11", 80, "lvs_method TUN")}`, "fwmark 9"), {})
      .table.services[0]!;
    expect([a.af, a.fwmark, a.protocol, a.dests[0]?.port]).toEqual([6, 9, null, 80]);
    expect([b.af, b.dests[0]?.port, b.dests[0]?.tunType]).toEqual([6, 0, "ipip"]);
  });
});

describe("service flags and persistence", () => {
  const one = rs("192.0.2.11", 80);
  const cases: [string, string, Partial<Service>][] = [
    [
      "persistence_timeout without value → 360",
      "persistence_timeout",
      { timeoutS: 360, flags: SVC_F.persistent },
    ],
    [
      "granularity as a netmask",
      "persistence_timeout 30\n persistence_granularity 255.255.255.0",
      { timeoutS: 30, netmask: 0xffffff00 },
    ],
    [
      "granularity without persistence is not sent",
      "persistence_granularity 255.255.0.0",
      { netmask: 0xffffffff },
    ],
    ["persistence engine", "persistence_timeout 30\n persistence_engine sip", { peName: "sip" }],
    ["ops", "ops", { flags: SVC_F.onePacket }],
    ["flag-1 flag-3", "flag-1\n flag-3", { flags: SVC_F.sched1 | SVC_F.sched3 }],
    ["sh-port ignored without lvs_sched sh", "sh-port", { flags: 0 }],
    [
      "sh-port sh-fallback with sh",
      "lvs_sched sh\n sh-port\n sh-fallback",
      { sched: "sh", flags: SVC_F.sched1 | SVC_F.sched2 },
    ],
    ["mh-port with mh", "lvs_sched mh\n mh-port", { sched: "mh", flags: SVC_F.sched2 }],
  ];
  for (const [name, body, want] of cases)
    test(name, () => {
      const text = `virtual_server 192.0.2.100 80 {\n lvs_method NAT\n protocol UDP\n${body.includes("lvs_sched") ? "" : " lvs_sched rr\n"} ${body}\n${one}}\n`;
      expect(run(text, {}).table.services[0]).toMatchObject(want);
    });
  test("IPv6 granularity is a prefix length", () => {
    const text = vs(
      `persistence_timeout 10\n persistence_granularity 64\n${rs("2001:db8::11", 80)}`,
      "2001:db8::100 80",
    );
    expect(run(text, {}).table.services[0]).toMatchObject({
      af: 6,
      addr: "2001:db8::100",
      netmask: 64,
    });
  });
});

describe("ha_suspend with IPv6 and groups", () => {
  const inst = (vip: string) =>
    `vrrp_instance VI_6 {\n interface lo\n virtual_router_id 52\n priority 100\n virtual_ipaddress {\n  ${vip}\n }\n}\n`;
  const backup = () => "other" as const;
  const withdraw = { haSuspend: "withdraw" } as const;
  test("an IPv6 VIP written long-hand owns the VS", () => {
    const text =
      inst("2001:0db8:0:0::100/64") +
      vs(`ha_suspend\n${rs("2001:db8::11", 80)}`, "2001:db8::100 80");
    expect(run(text, {}, INITIAL_QUORUM_STATE, withdraw, backup).table.services).toEqual([]);
  });
  test("a group is owned through any address of its ranges", () => {
    const text =
      inst("192.0.2.2/24") +
      `virtual_server_group G {\n 192.0.2.1-3 80\n}\n` +
      vs(`ha_suspend\n${rs("192.0.2.11", 80)}`, "group G");
    expect(run(text, {}, INITIAL_QUORUM_STATE, withdraw, backup).table.services).toEqual([]);
    expect(run(text, {}, INITIAL_QUORUM_STATE, withdraw).table.services.length).toBe(3);
  });
});
