/**
 * The IPVS families of /metrics (src/agent/metrics-ipvs.ts), rendered from a status
 * document with virtual servers and read back with the strict exposition-format parser.
 */
import { expect, test } from "bun:test";
import { Metrics } from "../../src/agent/metrics.ts";
import type { StatusDoc, StatusVirtualServer } from "../../src/agent/status-types.ts";
import { missing } from "../helpers/env.ts";
import { doc, VI_1 } from "../helpers/metrics-fixture.ts";
import { parseProm, promSample, promSamples } from "../helpers/prom-parse.ts";

const VS: StatusVirtualServer = {
  name: "192.0.2.1:80/TCP",
  address: "192.0.2.1",
  port: 80,
  protocol: "TCP",
  scheduler: "wrr",
  forwarding: "NAT",
  quorum_up: true,
  sorry_server_active: false,
  counters: { connections: 12, packets_in: 90, packets_out: 80, bytes_in: 5000, bytes_out: 70000 },
  real_servers: [
    {
      address: "198.51.100.1",
      port: 8080,
      alive: true,
      weight: 7,
      configured_weight: 3,
      kernel_weight: 7,
      checkers: [
        {
          type: "MISC_CHECK",
          state: "up",
          attempts: 4,
          last_result: "success",
          last_latency_ms: 12.5,
        },
        { type: "TCP_CHECK", state: "up", attempts: 9 },
      ],
      counters: {
        connections: 12,
        packets_in: 90,
        packets_out: 80,
        bytes_in: 5000,
        bytes_out: 70000,
        active_connections: 2,
        inactive_connections: 1,
      },
    },
    {
      address: "198.51.100.2",
      port: 8080,
      alive: false,
      weight: 1,
      configured_weight: 1,
      checkers: [{ type: "HTTP_GET", state: "down", attempts: 3, last_result: "failure" }],
    },
  ],
};

const withVs = (vs: StatusVirtualServer[]): StatusDoc => ({ ...doc([VI_1]), virtual_servers: vs });

test("virtual server, real server and checker families with their labels and values", () => {
  const fams = parseProm(new Metrics({ bunVersion: "1" }).render(withVs([VS])));
  const vs = { vs: "192.0.2.1:80/TCP" };
  const rs1 = { ...vs, rs: "198.51.100.1:8080" };
  const rs2 = { ...vs, rs: "198.51.100.2:8080" };
  expect(promSample(fams, "edge_agent_virtual_server_quorum_up", vs)?.value).toBe(1);
  expect(promSample(fams, "edge_agent_virtual_server_sorry_server_active", vs)?.value).toBe(0);
  expect(fams.get("edge_agent_virtual_server_bytes_out_total")?.type).toBe("counter");
  expect(promSample(fams, "edge_agent_virtual_server_bytes_out_total", vs)?.value).toBe(70000);
  expect(promSample(fams, "edge_agent_real_server_up", rs1)?.value).toBe(1);
  expect(promSample(fams, "edge_agent_real_server_up", rs2)?.value).toBe(0);
  expect(promSample(fams, "edge_agent_real_server_weight", rs1)?.value).toBe(7);
  expect(promSample(fams, "edge_agent_real_server_kernel_weight", rs1)?.value).toBe(7);
  // Not in the kernel's table: no kernel weight series at all (not a 0 that means inhibited).
  expect(promSample(fams, "edge_agent_real_server_kernel_weight", rs2)).toBeUndefined();
  expect(promSample(fams, "edge_agent_real_server_active_connections", rs1)?.value).toBe(2);
  expect(promSample(fams, "edge_agent_real_server_connections_total", rs1)?.value).toBe(12);
  expect(
    promSample(fams, "edge_agent_checker_up", { ...rs2, type: "HTTP_GET", index: "0" })?.value,
  ).toBe(0);
  expect(
    promSample(fams, "edge_agent_checker_probes_total", { ...rs1, type: "TCP_CHECK", index: "1" })
      ?.value,
  ).toBe(9);
  expect(
    promSample(fams, "edge_agent_checker_last_latency_seconds", {
      ...rs1,
      type: "MISC_CHECK",
      index: "0",
    })?.value,
  ).toBe(0.0125);
  expect(promSamples(fams, "edge_agent_checker_last_latency_seconds").length).toBe(1);
});

test("no virtual servers: no IPVS family is described at all", () => {
  const text = new Metrics({ bunVersion: "1" }).render(withVs([]));
  expect(text).not.toContain("edge_agent_virtual_server");
  expect(text).not.toContain("edge_agent_real_server");
  expect(text).not.toContain("edge_agent_checker");
});

// Prometheus' own linter, where installed (.ci/run installs it from Debian's `prometheus`).
const noPromtool = missing({ commands: ["promtool"] });
test.skipIf(noPromtool !== undefined)(
  `promtool check metrics accepts the IPVS families${noPromtool ? ` (skipped: ${noPromtool})` : ""}`,
  () => {
    const text = new Metrics({ bunVersion: "1" }).render(withVs([VS]));
    parseProm(text);
    const r = Bun.spawnSync(["promtool", "check", "metrics"], {
      stdin: new TextEncoder().encode(text),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect({ code: r.exitCode, out: `${r.stdout}${r.stderr}` }).toEqual({ code: 0, out: "" });
  },
);
