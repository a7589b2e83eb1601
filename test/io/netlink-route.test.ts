/**
 * Virtual routes and rules through libnl in a namespace of our own, checked against
 * `ip -j route` / `ip -j rule` field by field.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RouteLine } from "../../src/config/lines/route-model.ts";
import type { RuleLine } from "../../src/config/lines/rule-model.ts";
import type { NetRoute, NetRule } from "../../src/io/netlink.ts";
import { missing, run } from "../helpers/env.ts";
import { Netns } from "../helpers/netns.ts";
import { ipJson, op, ops } from "./drivers/netlink-client.ts";

/** Compile-time: the config model's records are what this layer takes. */
export const acceptsRouteLine = (r: RouteLine): NetRoute => r;
export const acceptsRuleLine = (r: RuleLine): NetRule => r;

type IpRoute = Record<string, unknown> & { dst: string };
type IpRule = Record<string, unknown> & { priority: number };

const why = missing({ root: true, commands: ["ip"] });
if (why) process.stderr.write(`netlink-route: skipping namespace tests: ${why}\n`);

describe.skipIf(why !== undefined)(`routes and rules${why ? ` (skipped: ${why})` : ""}`, () => {
  let ns: Netns;
  const routes = (...args: string[]) => ipJson<IpRoute[]>(ns, "route", "show", ...args);
  const route = (dst: string, ...args: string[]) => routes(...args).find((r) => r.dst === dst);
  const rules = (family: "-4" | "-6") =>
    ipJson<IpRule[]>(ns, family, "rule", "show").filter(
      (r) => r.priority > 0 && r.priority < 32766,
    );

  beforeAll(() => {
    ns = new Netns("nlr").create().addInterface("eth0");
    ns.ip("link", "set", "eth0p", "up"); // carrier, so routes are not "linkdown"
    ns.ip("addr", "add", "192.0.2.10/24", "dev", "eth0");
    ns.ip("addr", "add", "2001:db8::10/64", "dev", "eth0", "nodad");
  });
  afterAll(() => ns?.remove());

  test("via, dev, table and metric; keepalived's protocol", () => {
    const r = { to: "198.51.100.0/24", via: "192.0.2.1", dev: "eth0", table: 100, metric: 50 };
    expect(op(ns, "addRoute", r)).toEqual({ changed: true });
    expect(route("198.51.100.0/24", "table", "100")).toEqual({
      dst: "198.51.100.0/24",
      gateway: "192.0.2.1",
      dev: "eth0",
      protocol: "keepalived",
      metric: 50,
      flags: [],
    });
  });

  test("re-adding is success without a change; so is deleting twice", () => {
    const r = { to: "198.51.100.0/24", via: "192.0.2.1", dev: "eth0", table: 100, metric: 50 };
    const res = ops(ns, [
      ["addRoute", r],
      ["deleteRoute", r],
      ["deleteRoute", r],
    ]);
    expect(res.map((x) => x.ok && x.value)).toEqual([
      { changed: false, reason: "present" },
      { changed: true },
      { changed: false, reason: "absent" },
    ]);
    expect(routes("table", "100")).toEqual([]);
  });

  test("blackhole, unreachable, prohibit in table main", () => {
    const res = ops(ns, [
      ["addRoute", { to: "203.0.113.0/26", type: "blackhole" }],
      ["addRoute", { to: "203.0.113.64/26", type: "unreachable", metric: 7 }],
      ["addRoute", { to: "2001:db8:66::/48", type: "prohibit" }],
    ]);
    expect(res.every((x) => x.ok)).toBe(true);
    expect(route("203.0.113.0/26")).toMatchObject({ type: "blackhole", protocol: "keepalived" });
    expect(route("203.0.113.64/26")).toMatchObject({ type: "unreachable", metric: 7 });
    expect(
      ipJson<IpRoute[]>(ns, "-6", "route").find((x) => x.dst === "2001:db8:66::/48"),
    ).toMatchObject({
      type: "prohibit",
      protocol: "keepalived",
    });
  });

  test("multipath nexthops with weights and onlink", () => {
    const r = {
      to: "198.51.100.128/25",
      table: "main",
      nexthop: [
        { via: "192.0.2.1", dev: "eth0", weight: 2 },
        { via: "192.0.2.2", dev: "eth0", weight: 3, onlink: true },
      ],
    };
    expect(op(ns, "addRoute", r)).toEqual({ changed: true });
    expect(route("198.51.100.128/25")).toEqual({
      dst: "198.51.100.128/25",
      protocol: "keepalived",
      flags: [],
      nexthops: [
        { gateway: "192.0.2.1", dev: "eth0", weight: 2, flags: [] },
        { gateway: "192.0.2.2", dev: "eth0", weight: 3, flags: ["onlink"] },
      ],
    });
    expect(op(ns, "deleteRoute", r)).toEqual({ changed: true });
    expect(route("198.51.100.128/25")).toBeUndefined();
  });

  test("scope, src, mtu lock; IPv6 via; no_track keeps its own protocol", () => {
    const res = ops(ns, [
      [
        "addRoute",
        {
          to: "203.0.113.128/26",
          dev: "eth0",
          scope: "link",
          src: "192.0.2.10",
          mtu: 1400,
          mtu_lock: true,
        },
      ],
      ["addRoute", { to: "2001:db8:5::/64", via: "2001:db8::1", dev: "eth0", metric: 300 }],
      [
        "addRoute",
        { to: "198.51.100.64/26", via: "192.0.2.1", no_track: true, protocol: "static" },
      ],
    ]);
    expect(res.every((x) => x.ok)).toBe(true);
    expect(route("203.0.113.128/26")).toMatchObject({
      dev: "eth0",
      scope: "link",
      prefsrc: "192.0.2.10",
      protocol: "keepalived",
      metrics: [{ mtu: 1400 }],
    });
    // `ip -j` does not show the lock; the text form does.
    const text = run(["ip", "-n", ns.name, "route", "show", "203.0.113.128/26"]).stdout;
    expect(text).toContain("mtu lock 1400");
    expect(
      ipJson<IpRoute[]>(ns, "-6", "route").find((x) => x.dst === "2001:db8:5::/64"),
    ).toMatchObject({
      gateway: "2001:db8::1",
      dev: "eth0",
      protocol: "keepalived",
      metric: 300,
    });
    expect(route("198.51.100.64/26")).toMatchObject({ gateway: "192.0.2.1", protocol: "static" });
  });

  test("unsupported options and kernel errors name the route", () => {
    const [pref, bad] = ops(ns, [
      ["addRoute", { to: "198.51.100.0/24", dev: "eth0", pref: "high" }],
      ["addRoute", { to: "198.51.100.0/24", via: "203.0.113.1" }],
    ]);
    expect(pref).toEqual({
      ok: false,
      code: "E_CONFIG_INVALID",
      message: "add route 198.51.100.0/24 dev eth0: not supported yet: pref",
    });
    // libnl alone would say "Unspecific failure"; the kernel's errno and ext-ack say why.
    expect(bad).toMatchObject({ ok: false, code: "E_INTERFACE" });
    expect((bad as { message: string }).message).toStartWith(
      "add route 198.51.100.0/24 via 203.0.113.1: Network is unreachable",
    );
  });

  test("rules: from, fwmark/mask, preference, iif, ipproto/dport with an action", () => {
    const res = ops(ns, [
      ["addRule", { from: "192.0.2.0/24", table: 100, preference: 100 }],
      ["addRule", { fwmark: 16, fwmask: 255, table: 101, preference: 101 }],
      ["addRule", { to: "2001:db8::/32", table: 102, preference: 102, iif: "eth0" }],
      ["addRule", { preference: 103, ipproto: "tcp", dport: [80, 80], type: "prohibit" }],
    ]);
    expect(res.map((x) => x.ok && x.value)).toEqual(Array(4).fill({ changed: true }));
    expect(rules("-4")).toEqual([
      { priority: 100, src: "192.0.2.0", srclen: 24, table: "100", protocol: "keepalived" },
      {
        priority: 101,
        src: "all",
        fwmark: "0x10",
        fwmask: "0xff",
        table: "101",
        protocol: "keepalived",
      },
      {
        priority: 103,
        src: "all",
        ipproto: "tcp",
        dport: 80,
        action: "prohibit",
        protocol: "keepalived",
      },
    ]);
    expect(rules("-6")).toEqual([
      {
        priority: 102,
        src: "all",
        dst: "2001:db8::",
        dstlen: 32,
        iif: "eth0",
        table: "102",
        protocol: "keepalived",
      },
    ]);
  });

  test("rules are idempotent: no duplicate on re-add, success on re-delete", () => {
    const r = { fwmark: 16, fwmask: 255, table: 101, preference: 101 };
    const res = ops(ns, [
      ["addRule", r],
      ["deleteRule", r],
      ["deleteRule", r],
      ["addRule", { from: "198.51.100.0/24", table: 5, preference: 99, uidrange: [1, 2] }],
    ]);
    expect(res.slice(0, 3).map((x) => x.ok && x.value)).toEqual([
      { changed: false, reason: "present" },
      { changed: true },
      { changed: false, reason: "absent" },
    ]);
    expect(res[3]).toEqual({
      ok: false,
      code: "E_CONFIG_INVALID",
      message: "add rule pref 99 from 198.51.100.0/24 table 5: not supported yet: uidrange",
    });
    expect(rules("-4").map((r) => r.priority)).toEqual([100, 103]);
  });
});
