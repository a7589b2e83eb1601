/**
 * The status section of virtual servers (src/agent/ipvs-status.ts) from a model, a kernel
 * table and the kernel's counter rows: kernel weights, the sorry server, counters summed
 * over a group's services.
 */
import { expect, test } from "bun:test";
import { counterView, ipvsStatus } from "../../src/agent/ipvs-status.ts";
import { loadText } from "../../src/config/load.ts";
import type { Model } from "../../src/config/model.ts";
import { desiredTable } from "../../src/core/ipvs/desired.ts";
import { serviceKey } from "../../src/core/ipvs/table.ts";
import type { IpvsStats } from "../../src/core/ipvs/types.ts";
import type { IpvsCounterTable } from "../../src/io/ipvs-counters.ts";

function model(text: string): Model {
  const l = loadText(text, "/ipvs-status-test.conf", "keepalived", { offline: true });
  if (!l.model) throw new Error(l.diagnostics.map((d) => d.message).join("; "));
  return l.model;
}

const stats = (conns: number): IpvsStats => ({
  conns,
  inPkts: conns * 10,
  outPkts: conns * 9,
  inBytes: conns * 1000,
  outBytes: conns * 5000,
  cps: 0,
  inPps: 0,
  outPps: 0,
  inBps: 0,
  outBps: 0,
});

const GROUP = `
virtual_server_group G {
  192.0.2.1 80
  192.0.2.2 80
}
virtual_server group G {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  sorry_server 198.51.100.9 80
  real_server 198.51.100.1 80 {
    weight 2
  }
  real_server 198.51.100.2 80 {
    weight 1
  }
}
`;

test("a group's counters are summed over its services, per real server too", () => {
  const m = model(GROUP);
  const table = desiredTable(
    m,
    () => "up",
    () => "MASTER",
  ).table;
  const [a, b] = table.services;
  if (!a || !b) throw new Error("two services expected");
  const rows: IpvsCounterTable = new Map([
    [
      serviceKey(a),
      {
        stats: stats(3),
        dests: new Map([
          ["198.51.100.1|80", { stats: stats(2), activeConns: 1, inactiveConns: 4 }],
        ]),
      },
    ],
    [
      serviceKey(b),
      {
        stats: stats(5),
        dests: new Map([["198.51.100.1|80", { stats: stats(5), activeConns: 2 }]]),
      },
    ],
  ]);
  const [vs] = ipvsStatus({
    model: m,
    health: [],
    table,
    quorumUp: () => true,
    counters: counterView(rows),
    wallOf: (ms) => new Date(ms),
  });
  expect(vs?.name).toBe("group G");
  expect(vs?.counters).toEqual({
    connections: 8,
    packets_in: 80,
    packets_out: 72,
    bytes_in: 8000,
    bytes_out: 40000,
  });
  expect(vs?.real_servers[0]?.counters).toEqual({
    connections: 7,
    packets_in: 70,
    packets_out: 63,
    bytes_in: 7000,
    bytes_out: 35000,
    active_connections: 3,
    inactive_connections: 4,
  });
  // No counter row for the second real server: no counters, not zeros.
  expect(vs?.real_servers[1]?.counters).toBeUndefined();
  expect(vs?.real_servers.map((r) => r.kernel_weight)).toEqual([2, 1]);
  expect(vs?.sorry_server_active).toBe(false);
});

test("quorum lost: the sorry server is active and the real servers are out of the kernel", () => {
  const m = model(GROUP);
  const table = desiredTable(
    m,
    () => "down",
    () => "MASTER",
  ).table;
  const [vs] = ipvsStatus({
    model: m,
    health: [],
    table,
    quorumUp: () => false,
    wallOf: (ms) => new Date(ms),
  });
  expect(vs?.quorum_up).toBe(false);
  expect(vs?.sorry_server_active).toBe(true);
  expect(vs?.real_servers.map((r) => r.kernel_weight)).toEqual([undefined, undefined]);
});
