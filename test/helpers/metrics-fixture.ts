/**
 * A StatusDoc built by hand for the metrics tests (src/agent/status-types.ts): two
 * instances — VI_1 MASTER on IPv4 with VIPs and every kind of tracker state, VI_6 BACKUP on
 * IPv6 holding nothing — with distinct counter values so a swapped mapping shows.
 */
import { COUNTER_NAMES } from "../../src/agent/snapshot.ts";
import type { StatusCounters, StatusDoc, StatusInstance } from "../../src/agent/status-types.ts";

/** Distinct values per counter, so a swapped mapping shows. */
export function counters(seed: number): StatusCounters {
  return Object.fromEntries(
    COUNTER_NAMES.map((k, n) => [k, seed * 100 + n + 1]),
  ) as unknown as StatusCounters;
}

export function instance(
  over: Partial<StatusInstance> & { name: string; vrid: number },
): StatusInstance {
  return {
    interface: "eth0",
    family: 4,
    version: 2,
    state: "BACKUP",
    since: "2026-01-02T03:04:05.000Z",
    priority: { base: 100, effective: 100 },
    advert_interval_ms: 1000,
    master_down_interval_ms: 3609,
    skew_ms: 609,
    vips: [],
    faults: [],
    trackers: [],
    counters: counters(over.vrid),
    ...over,
  };
}

export const VI_1 = instance({
  name: "VI_1",
  vrid: 51,
  state: "MASTER",
  priority: { base: 100, effective: 90 },
  vips: ["192.0.2.10/32", "192.0.2.11/24"],
  trackers: [
    {
      kind: "script",
      name: "chk_up",
      weight: 0,
      reverse: false,
      state: "up",
      delta: 0,
      fault: false,
    },
    {
      kind: "script",
      name: "chk_down",
      weight: -10,
      reverse: false,
      state: "down",
      delta: -10,
      fault: false,
    },
    {
      kind: "interface",
      name: "eth1",
      weight: 0,
      reverse: false,
      state: "up",
      delta: 0,
      fault: false,
    },
    {
      kind: "file",
      name: "tf",
      weight: 1,
      reverse: false,
      state: "value",
      value: 5,
      delta: 5,
      fault: false,
    },
    {
      kind: "process",
      name: "nginx",
      weight: 0,
      reverse: false,
      state: "unknown",
      delta: 0,
      fault: false,
    },
  ],
  last_transition: {
    from: "BACKUP",
    to: "MASTER",
    reason: "master down timer",
    at: "2026-01-02T03:04:05.250Z",
  },
  sync_group: "G1",
});

export const VI_6 = instance({
  name: "VI_6",
  vrid: 61,
  interface: "eth2",
  family: 6,
  version: 3,
  state: "BACKUP",
  priority: { base: 50, effective: 50 },
  master: { address: "fe80::1", priority: 100, seen: "2026-01-02T03:04:06.000Z" },
});

export function doc(instances: StatusInstance[], maintenance = false): StatusDoc {
  return {
    schema: 1,
    agent: {
      version: "0.1.0-test",
      commit: "abc1234",
      pid: 4242,
      started: "2026-01-02T03:00:00.000Z",
      maintenance,
    },
    config: { file: "/etc/edge-agent/agent.toml", loaded: "2026-01-02T03:00:00.000Z", reloads: 0 },
    instances,
    sync_groups: [{ name: "G1", state: "MASTER", members: ["VI_1"] }],
    virtual_servers: [],
  };
}
