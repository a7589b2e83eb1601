/**
 * The IPVS side's metrics, all under `edge_agent_*` (keepalived-exporter has no LVS
 * families to stay compatible with): per virtual server its quorum and sorry-server state
 * and the kernel's traffic counters; per real server its verdict, weights and counters;
 * per checker its verdict, probes started and the last probe's latency. Labels: `vs` as
 * logs name it ("192.0.2.1:80/TCP"), `rs` as "address:port", a checker's `type` and its
 * `index` among the real server's checkers.
 */
import { Family } from "./metrics-family.ts";
import type { StatusIpvsCounters, StatusVirtualServer } from "./status-types.ts";

type CounterKey = "connections" | "packets_in" | "packets_out" | "bytes_in" | "bytes_out";

/** [name suffix, counters key, help]: one family per kernel counter. */
const COUNTERS: readonly (readonly [string, CounterKey, string])[] = [
  ["connections_total", "connections", "Connections the kernel scheduled"],
  ["packets_in_total", "packets_in", "Packets from clients"],
  ["packets_out_total", "packets_out", "Packets to clients"],
  ["bytes_in_total", "bytes_in", "Bytes from clients"],
  ["bytes_out_total", "bytes_out", "Bytes to clients"],
];

function counterFamilies(prefix: string, what: string): Family[] {
  return COUNTERS.map(
    ([suffix, , help]) => new Family(`${prefix}_${suffix}`, "counter", `${help} (${what})`),
  );
}

function addCounters(
  families: Family[],
  labels: Readonly<Record<string, string>>,
  c: StatusIpvsCounters | undefined,
): void {
  if (!c) return;
  COUNTERS.forEach(([, key], n) => {
    families[n]?.add(labels, c[key]);
  });
}

export function ipvsFamilies(list: readonly StatusVirtualServer[]): Family[] {
  const p = "edge_agent";
  const quorum = new Family(
    `${p}_virtual_server_quorum_up`,
    "gauge",
    "1 while the live real servers' weight reaches the virtual server's quorum",
  );
  const sorry = new Family(
    `${p}_virtual_server_sorry_server_active`,
    "gauge",
    "1 while the sorry server stands in for the real servers",
  );
  const vsCounters = counterFamilies(`${p}_virtual_server`, "virtual server, kernel");
  const up = new Family(
    `${p}_real_server_up`,
    "gauge",
    "1 if every checker of the real server is up",
  );
  const weight = new Family(
    `${p}_real_server_weight`,
    "gauge",
    "The real server's weight now (misc_dynamic may move it)",
  );
  const kernelWeight = new Family(
    `${p}_real_server_kernel_weight`,
    "gauge",
    "The weight the kernel holds for the real server (0: inhibited); absent when not in the table",
  );
  const active = new Family(
    `${p}_real_server_active_connections`,
    "gauge",
    "Established connections to the real server now (kernel)",
  );
  const rsCounters = counterFamilies(`${p}_real_server`, "real server, kernel");
  const checkerUp = new Family(
    `${p}_checker_up`,
    "gauge",
    "1 if the health checker's verdict is up",
  );
  const attempts = new Family(`${p}_checker_probes_total`, "counter", "Health probes started");
  const latency = new Family(
    `${p}_checker_last_latency_seconds`,
    "gauge",
    "How long the checker's last probe took",
  );
  for (const vs of list) {
    const v = { vs: vs.name };
    quorum.add(v, vs.quorum_up ? 1 : 0);
    sorry.add(v, vs.sorry_server_active ? 1 : 0);
    addCounters(vsCounters, v, vs.counters);
    for (const rs of vs.real_servers) {
      const r = { vs: vs.name, rs: `${rs.address}:${rs.port}` };
      up.add(r, rs.alive ? 1 : 0);
      weight.add(r, rs.weight);
      if (rs.kernel_weight !== undefined) kernelWeight.add(r, rs.kernel_weight);
      if (rs.counters?.active_connections !== undefined)
        active.add(r, rs.counters.active_connections);
      addCounters(rsCounters, r, rs.counters);
      rs.checkers.forEach((c, n) => {
        const l = { ...r, type: c.type, index: String(n) };
        checkerUp.add(l, c.state === "up" ? 1 : 0);
        attempts.add(l, c.attempts);
        if (c.last_latency_ms !== undefined) latency.add(l, c.last_latency_ms / 1000);
      });
    }
  }
  return [
    quorum,
    sorry,
    ...vsCounters,
    up,
    weight,
    kernelWeight,
    active,
    ...rsCounters,
    checkerUp,
    attempts,
    latency,
  ];
}
