import { describe, expect, test } from "bun:test";
import { desiredTable } from "../../../src/core/ipvs/desired.ts";
import { applyOps, diff, type Op } from "../../../src/core/ipvs/diff.ts";
import {
  type Dest,
  type Service,
  type ServiceKeyed,
  serviceKey,
  sortTable,
  type Table,
} from "../../../src/core/ipvs/table.ts";
import { mulberry32 } from "../../../src/core/prng.ts";
import { allMaster, healthOf, model } from "./helpers.ts";

const conf = `
virtual_server 192.0.2.100 80 {
 lvs_sched wrr
 lvs_method NAT
 protocol TCP
 real_server 192.0.2.11 80 {
  weight 3
 }
 real_server 192.0.2.12 80 {
  weight 1
  inhibit_on_failure
 }
}
virtual_server fwmark 7 {
 lvs_sched rr
 lvs_method DR
 real_server 192.0.2.21 80 {
  weight 1
 }
}
`;
const m = model(conf);
const table = (v: Record<string, "up" | "down"> = {}) =>
  desiredTable(m, healthOf(v), allMaster).table;

const foreign: Service = {
  af: 4,
  protocol: "UDP",
  addr: "198.51.100.1",
  port: 53,
  fwmark: 0,
  sched: "rr",
  flags: 0,
  timeoutS: 0,
  netmask: 0xffffffff,
  peName: null,
  dests: [],
};
/** Ours: anything in 192.0.2.0/24 or a fwmark below 100 (as an adapter might decide). */
const ours = (s: ServiceKeyed) =>
  s.fwmark > 0 ? s.fwmark < 100 : !!s.addr?.startsWith("192.0.2.");
const summary = (ops: Op[]) =>
  ops.map(
    (o) =>
      `${o.op} ${serviceKey(o.service)}${"dest" in o ? ` ${o.dest.addr}:${o.dest.port}=${o.dest.weight}` : ""}`,
  );

describe("diff", () => {
  test("adoption: a kernel table equal to the desired one gives no ops", () => {
    const t = table();
    const fromKernel = sortTable(JSON.parse(JSON.stringify([...t.services, foreign])));
    expect(diff(fromKernel, t, ours)).toEqual([]);
  });

  test("one changed weight → exactly one edit", () => {
    const before = table();
    const after = table({ "192.0.2.12:80": "down" }); // inhibited: weight 1 → 0
    expect(summary(diff(before, after, ours))).toEqual([
      "edit-dest 4|TCP|192.0.2.100|80 192.0.2.12:80=0",
    ]);
  });

  test("a removed RS is one del-dest; back again is one add-dest", () => {
    const before = table();
    const after = table({ "192.0.2.11:80": "down" });
    expect(summary(diff(before, after, ours))).toEqual([
      "del-dest 4|TCP|192.0.2.100|80 192.0.2.11:80=3",
    ]);
    expect(summary(diff(after, before, ours))).toEqual([
      "add-dest 4|TCP|192.0.2.100|80 192.0.2.11:80=3",
    ]);
  });

  test("from empty: each service before its dests", () => {
    expect(summary(diff({ services: [] }, table(), ours))).toEqual([
      "add-service 4|TCP|192.0.2.100|80",
      "add-dest 4|TCP|192.0.2.100|80 192.0.2.11:80=3",
      "add-dest 4|TCP|192.0.2.100|80 192.0.2.12:80=1",
      "add-service 4|fwmark|7",
      "add-dest 4|fwmark|7 192.0.2.21:0=1",
    ]);
  });

  test("to empty: dests before their service; foreign services untouched", () => {
    const cur = sortTable([
      ...table().services,
      { ...foreign, dests: [dest("198.51.100.9", 53, 1)] },
    ]);
    const ops = diff(cur, { services: [] }, ours);
    expect(summary(ops)).toEqual([
      "del-dest 4|TCP|192.0.2.100|80 192.0.2.11:80=3",
      "del-dest 4|TCP|192.0.2.100|80 192.0.2.12:80=1",
      "del-service 4|TCP|192.0.2.100|80",
      "del-dest 4|fwmark|7 192.0.2.21:0=1",
      "del-service 4|fwmark|7",
    ]);
  });

  test("a scheduler change is one edit-service; the pool stays", () => {
    const cur = table();
    const want = sortTable(cur.services.map((s) => (s.fwmark ? s : { ...s, sched: "lc" })));
    expect(summary(diff(cur, want, ours))).toEqual(["edit-service 4|TCP|192.0.2.100|80"]);
  });

  test("a service we want is reconciled even if `owned` says no (we own what we configure)", () => {
    const cur = table();
    const want = table({ "192.0.2.11:80": "down" });
    expect(diff(cur, want, () => false).length).toBe(1);
  });

  test("replacing a pool adds the new dest before deleting the old", () => {
    const s = table().services[0]!;
    const cur = sortTable([{ ...s, dests: [dest("192.0.2.31", 80, 1)] }]);
    const want = sortTable([{ ...s, dests: [dest("192.0.2.32", 80, 1)] }]);
    expect(diff(cur, want, ours).map((o) => o.op)).toEqual(["add-dest", "del-dest"]);
  });
});

function dest(addr: string, port: number, weight: number): Dest {
  return {
    addr,
    port,
    fwd: "NAT",
    weight,
    uThreshold: 0,
    lThreshold: 0,
    tunType: null,
    tunPort: 0,
    tunCsum: null,
  };
}

/** A random table from a small universe of keys, so current and desired overlap. */
function randomTable(rnd: () => number): Service[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out = new Map<string, Service>();
  const n = Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) {
    const fw = rnd() < 0.25;
    const foreignSvc = rnd() < 0.2;
    const head = fw
      ? {
          af: pick([4, 6] as const),
          protocol: null,
          addr: null,
          port: 0,
          fwmark: foreignSvc ? 100 + pick([1, 2]) : pick([1, 2, 3]),
        }
      : {
          af: 4 as const,
          protocol: pick(["TCP", "UDP"] as const),
          addr: foreignSvc
            ? pick(["198.51.100.1", "198.51.100.2"])
            : pick(["192.0.2.1", "192.0.2.2"]),
          port: pick([80, 443]),
          fwmark: 0,
        };
    const dests = new Map<string, Dest>();
    const k = Math.floor(rnd() * 4);
    for (let j = 0; j < k; j++) {
      const d = {
        ...dest(`203.0.113.${pick([1, 2, 3, 4])}`, pick([80, 8080]), pick([0, 1, 5])),
        fwd: pick(["NAT", "DR"] as const),
      };
      dests.set(`${d.addr}|${d.port}`, d);
    }
    const s: Service = {
      ...head,
      sched: pick(["rr", "wlc"]),
      flags: pick([0, 1]),
      timeoutS: pick([0, 360]),
      netmask: 0xffffffff,
      peName: null,
      dests: [...dests.values()],
    };
    out.set(serviceKey(s), s);
  }
  return [...out.values()];
}

/**
 * The fewest commands that can do it, counted from the two tables alone: one per service
 * or dest that is missing, extra (for a service we own) or different.
 */
function lowerBound(current: Table, desired: Table): number {
  const have = new Map(current.services.map((s) => [serviceKey(s), s]));
  const want = new Set(desired.services.map(serviceKey));
  let n = 0;
  for (const s of desired.services) {
    const c = have.get(serviceKey(s));
    if (!c) {
      n += 1 + s.dests.length;
      continue;
    }
    if (JSON.stringify({ ...c, dests: 0 }) !== JSON.stringify({ ...s, dests: 0 })) n++;
    const cd = new Map(c.dests.map((d) => [`${d.addr}|${d.port}`, JSON.stringify(d)]));
    const sd = new Set(s.dests.map((d) => `${d.addr}|${d.port}`));
    for (const d of s.dests) if (cd.get(`${d.addr}|${d.port}`) !== JSON.stringify(d)) n++;
    for (const k of cd.keys()) if (!sd.has(k)) n++;
  }
  for (const c of current.services)
    if (!want.has(serviceKey(c)) && ours(c)) n += 1 + c.dests.length;
  return n;
}

describe("diff properties", () => {
  const seed = Number(process.env.SEED ?? 0x1f2e3d) >>> 0;
  test(`apply(current, diff(current, desired)) = desired ∪ foreign; diff(d, d) = [] (seed ${seed})`, () => {
    console.log(`ipvs diff property test seed=${seed} (replay with SEED=${seed})`);
    const rnd = mulberry32(seed);
    for (let i = 0; i < 2000; i++) {
      const current = sortTable(randomTable(rnd));
      // Desired is ours only: a configuration never lists a foreign service.
      const desired = sortTable(randomTable(rnd).filter(ours));
      const ops = diff(current, desired, ours);
      const after = applyOps(current, ops);
      const foreignLeft = current.services.filter((s) => !ours(s));
      const want: Table = sortTable([...desired.services, ...foreignLeft]);
      expect({ i, after }).toEqual({ i, after: want });
      expect({ i, again: diff(after, desired, ours) }).toEqual({ i, again: [] });
      expect({ i, same: diff(desired, desired, ours) }).toEqual({ i, same: [] });
      expect({ i, n: ops.length }).toEqual({ i, n: lowerBound(current, desired) });
    }
  });
});
