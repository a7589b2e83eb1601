/**
 * readCounters (src/io/ipvs-counters.ts) over a fake dump: the keys must be the reconciler's
 * (table.ts serviceKey / destKey of fromWire's records), so status can join counters with the
 * desired table. The real kernel's side is test/vm/ipvs-counters.test.ts.
 */
import { expect, test } from "bun:test";
import type { DecodedDest, DecodedService } from "../../../src/core/ipvs/genl-decode.ts";
import { destKey, serviceKey } from "../../../src/core/ipvs/table.ts";
import {
  AF_INET,
  AF_INET6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type IpvsStats,
  type ServiceKey,
} from "../../../src/core/ipvs/types.ts";
import { readCounters } from "../../../src/io/ipvs-counters.ts";

const stats = (conns: number): IpvsStats => ({
  conns,
  inPkts: conns * 3,
  outPkts: conns * 2,
  inBytes: conns * 100,
  outBytes: conns * 50,
  cps: 0,
  inPps: 1,
  outPps: 1,
  inBps: 10,
  outBps: 5,
});
const v6 = (last: number): Uint8Array =>
  Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), last);

const tcp: DecodedService = {
  key: { af: AF_INET, protocol: IPPROTO_TCP, addr: Uint8Array.of(192, 0, 2, 1), port: 80 },
  scheduler: "rr",
  flags: { hashed: true },
  timeoutS: 0,
  netmask: 0xffffffff,
  stats: stats(5),
};
const udp6: DecodedService = {
  key: { af: AF_INET6, protocol: IPPROTO_UDP, addr: v6(1), port: 53 },
  scheduler: "rr",
  flags: {},
  timeoutS: 0,
  netmask: 128,
  stats: stats(1),
};
/** A service from a kernel that sent no counters nest. */
const fwm: DecodedService = {
  key: { af: AF_INET, fwmark: 42 },
  scheduler: "sh",
  flags: {},
  timeoutS: 0,
  netmask: 0xffffffff,
};
const dest = (addr: Uint8Array, port: number, conns: number | null): DecodedDest => ({
  af: addr.length === 4 ? AF_INET : AF_INET6,
  addr,
  port,
  fwd: "nat",
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  activeConns: conns ?? 0,
  inactiveConns: 2,
  persistConns: 0,
  ...(conns === null ? {} : { stats: stats(conns) }),
});

const DESTS: Record<string, DecodedDest[]> = {
  tcp: [
    dest(Uint8Array.of(198, 51, 100, 10), 8080, 3),
    dest(Uint8Array.of(198, 51, 100, 11), 8080, 2),
  ],
  udp6: [dest(v6(0x10), 53, 1)],
  fwm: [dest(Uint8Array.of(198, 51, 100, 20), 0, null)],
};

function fake() {
  const asked: ServiceKey[] = [];
  return {
    asked,
    servicesWithStats: () => [tcp, udp6, fwm],
    destsWithStats: (k: ServiceKey): DecodedDest[] => {
      asked.push(k);
      if (k === tcp.key) return DESTS.tcp ?? [];
      if (k === udp6.key) return DESTS.udp6 ?? [];
      return DESTS.fwm ?? [];
    },
  };
}

test("one dump: services keyed by serviceKey, their dests by destKey, counters attached", () => {
  const src = fake();
  const t = readCounters(src);
  expect(src.asked).toEqual([tcp.key, udp6.key, fwm.key]);
  expect([...t.keys()]).toEqual(["4|TCP|192.0.2.1|80", "6|UDP|2001:db8::1|53", "4|fwmark|42"]);
  const s = t.get("4|TCP|192.0.2.1|80");
  expect(s?.stats).toEqual(stats(5));
  expect([...(s?.dests.keys() ?? [])]).toEqual(["198.51.100.10|8080", "198.51.100.11|8080"]);
  expect(s?.dests.get("198.51.100.11|8080")).toEqual({
    stats: stats(2),
    activeConns: 2,
    inactiveConns: 2,
    persistConns: 0,
  });
  expect(t.get("6|UDP|2001:db8::1|53")?.dests.get("2001:db8::10|53")?.stats?.conns).toBe(1);
});

test("no counters nest: the row has no stats but keeps the connection counts", () => {
  const t = readCounters(fake());
  const row = t.get("4|fwmark|42");
  expect(row && "stats" in row).toBe(false);
  const d = row?.dests.get("198.51.100.20|0");
  expect(d).toEqual({ activeConns: 0, inactiveConns: 2, persistConns: 0 });
});

test("the keys are table.ts's own functions of the reconciler's records", () => {
  const t = readCounters(fake());
  expect(
    t.has(serviceKey({ af: 6, protocol: "UDP", addr: "2001:db8::1", port: 53, fwmark: 0 })),
  ).toBe(true);
  expect(
    t.get("4|TCP|192.0.2.1|80")?.dests.has(destKey({ addr: "198.51.100.10", port: 8080 })),
  ).toBe(true);
  expect(t.has(serviceKey({ af: 4, protocol: null, addr: null, port: 0, fwmark: 42 }))).toBe(true);
});

test("an empty table", () => {
  expect(readCounters({ servicesWithStats: () => [], destsWithStats: () => [] }).size).toBe(0);
});
