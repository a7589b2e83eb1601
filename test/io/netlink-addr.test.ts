/**
 * Virtual addresses through libnl in a namespace of our own, checked against `ip -j addr`
 * field by field; plus the loader's E_NO_LIBNL (in this process: it fails before any socket).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { setLibnlNames } from "../../native/libnl.ts";
import type { AddressLine } from "../../src/config/lines/address.ts";
import { startLinkMonitor } from "../../src/io/link-monitor.ts";
import { addAddress, type NetAddress } from "../../src/io/netlink.ts";
import { missing, REPO, run, which } from "../helpers/env.ts";
import { Netns } from "../helpers/netns.ts";
import { addrInfo, findAddr, op, ops } from "./drivers/netlink-client.ts";

/** Compile-time: the config model's record is what this layer takes. */
export const acceptsAddressLine = (a: AddressLine): NetAddress => a;

const FOREVER = 4294967295;

describe("libnl loader", () => {
  afterEach(() => setLibnlNames());

  test("a missing libnl is E_NO_LIBNL naming the packages", () => {
    setLibnlNames({ core: "libnl-edge-agent-bogus.so.0" });
    let err: unknown;
    try {
      addAddress({ address: "192.0.2.1/24" }, "eth0");
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: "AgentError", code: "E_NO_LIBNL" });
    const msg = (err as Error).message;
    expect(msg).toContain("libnl-edge-agent-bogus.so.0");
    for (const pkg of ["libnl-3-200", "libnl-route-3-200", "libnl3"]) expect(msg).toContain(pkg);
  });

  test("a missing libnl-route is E_NO_LIBNL too, also for the link monitor", async () => {
    setLibnlNames({ route: "libnl-route-edge-agent-bogus.so.0" });
    await expect(startLinkMonitor(() => {})).rejects.toMatchObject({ code: "E_NO_LIBNL" });
  });
});

const why = missing({ root: true, commands: ["ip"] });
if (why) process.stderr.write(`netlink-addr: skipping namespace tests: ${why}\n`);

describe.skipIf(why !== undefined)(`addresses${why ? ` (skipped: ${why})` : ""}`, () => {
  let ns: Netns;
  beforeAll(() => {
    ns = new Netns("nla").create().addInterface("eth0");
  });
  afterAll(() => ns?.remove());

  test("IPv4 VIP with label, brd + and scope", () => {
    const a = { address: "192.0.2.100/24", brd: "+", label: "eth0:vip", scope: "site" };
    expect(op(ns, "addAddress", a, "eth0")).toEqual({ changed: true });
    expect(findAddr(ns, "eth0", "192.0.2.100")).toMatchObject({
      family: "inet",
      prefixlen: 24,
      broadcast: "192.0.2.255",
      scope: "site",
      label: "eth0:vip",
      valid_life_time: FOREVER,
      preferred_life_time: FOREVER,
    });
  });

  test("explicit brd, brd -, dev on the line, numeric scope, peer", () => {
    const r = ops(ns, [
      ["addAddress", { address: "198.51.100.10/24", brd: "198.51.100.200" }, "eth0"],
      ["addAddress", { address: "203.0.113.9/24", brd: "-", dev: "eth0", scope: 253 }, "nope0"],
      ["addAddress", { address: "192.0.2.5/32", peer: "192.0.2.6" }, "eth0"],
    ]);
    expect(r.map((x) => x.ok && x.value)).toEqual([
      { changed: true },
      { changed: true },
      { changed: true },
    ]);
    expect(findAddr(ns, "eth0", "198.51.100.10")).toMatchObject({ broadcast: "198.51.100.200" });
    expect(findAddr(ns, "eth0", "203.0.113.9")).toMatchObject({
      prefixlen: 24,
      broadcast: "203.0.113.0",
      scope: "link",
    });
    expect(findAddr(ns, "eth0", "192.0.2.5")).toMatchObject({
      address: "192.0.2.6",
      prefixlen: 32,
    });
  });

  test("IPv6 VIPs: nodad always, preferred_lft 0 for /128 unless given", () => {
    const r = ops(ns, [
      ["addAddress", { address: "2001:db8::100/128" }, "eth0"],
      ["addAddress", { address: "2001:db8::101/128", preferred_lft: "forever" }, "eth0"],
      ["addAddress", { address: "2001:db8:1::1/64", noprefixroute: true }, "eth0"],
      ["addAddress", { address: "2001:db8:2::1/64", preferred_lft: 3600 }, "eth0"],
    ]);
    expect(r.every((x) => x.ok)).toBe(true);
    expect(findAddr(ns, "eth0", "2001:db8::100")).toMatchObject({
      family: "inet6",
      prefixlen: 128,
      nodad: true,
      deprecated: true,
      preferred_life_time: 0,
      valid_life_time: FOREVER,
    });
    const forever = findAddr(ns, "eth0", "2001:db8::101");
    expect(forever).toMatchObject({ nodad: true, preferred_life_time: FOREVER });
    expect(forever?.deprecated).toBeUndefined();
    expect(findAddr(ns, "eth0", "2001:db8:1::1")).toMatchObject({
      prefixlen: 64,
      nodad: true,
      noprefixroute: true,
      preferred_life_time: FOREVER,
    });
    const lft = findAddr(ns, "eth0", "2001:db8:2::1")?.preferred_life_time ?? -1;
    expect(lft).toBeGreaterThan(3590);
    expect(lft).toBeLessThanOrEqual(3600);
  });

  test('keepalived\'s -nodad (model key "-nodad") leaves DAD on; home, mngtmpaddr', () => {
    const a = {
      address: "2001:db8:3::1/64",
      "-nodad": true as const,
      home: true as const,
      mngtmpaddr: true as const,
    };
    expect(op(ns, "addAddress", a, "eth0")).toEqual({ changed: true });
    const got = findAddr(ns, "eth0", "2001:db8:3::1");
    expect(got).toMatchObject({ home: true, mngtmpaddr: true });
    expect(got?.nodad).toBeUndefined();
  });

  test("re-adding is success without a change; listAddresses and findAddresses agree", () => {
    const [again, list, found] = ops(ns, [
      ["addAddress", { address: "192.0.2.100/24", brd: "+", label: "eth0:vip" }, "eth0"],
      ["listAddresses", "eth0", 4],
      ["findAddresses", "eth0", [{ address: "192.0.2.100/24" }, { address: "192.0.2.101/24" }]],
    ]);
    expect(again).toEqual({ ok: true, value: { changed: false, reason: "present" } });
    const ours = (list as { value: { address: string; brd?: string; label?: string }[] }).value;
    const kernel = addrInfo(ns, "eth0").filter((a) => a.family === "inet");
    expect(ours.map((a) => a.address).sort()).toEqual(
      kernel.map((a) => `${a.local}/${a.prefixlen}`).sort(),
    );
    expect(ours.find((a) => a.address === "192.0.2.100/24")).toMatchObject({
      brd: "192.0.2.255",
      label: "eth0:vip",
    });
    expect(found).toEqual({
      ok: true,
      value: { present: [{ address: "192.0.2.100/24" }], absent: [{ address: "192.0.2.101/24" }] },
    });
  });

  test("the IPv6 listing carries flags and lifetimes", () => {
    const list = op(ns, "listAddresses", "eth0", 6) as {
      address: string;
      flagNames: string[];
      preferredLftS: number;
    }[];
    expect(list.find((a) => a.address === "2001:db8::100/128")).toMatchObject({
      preferredLftS: 0,
      flagNames: expect.arrayContaining(["nodad", "deprecated", "permanent"]),
    });
  });

  test("delete, then delete again (success, nothing to do)", () => {
    const r = ops(ns, [
      ["deleteAddress", { address: "192.0.2.100/24", label: "eth0:vip" }, "eth0"],
      ["deleteAddress", { address: "192.0.2.100/24" }, "eth0"],
      ["deleteAddress", { address: "2001:db8::100/128" }, "eth0"],
      ["deleteAddress", { address: "2001:db8::100/128" }, "eth0"],
      ["deleteAddress", { address: "192.0.2.5/32", peer: "192.0.2.6" }, "eth0"],
      ["deleteAddress", { address: "192.0.2.100/24" }, "gone0"],
    ]);
    expect(r.map((x) => x.ok && x.value)).toEqual([
      { changed: true },
      { changed: false, reason: "absent" },
      { changed: true },
      { changed: false, reason: "absent" },
      { changed: true },
      { changed: false, reason: "no-interface" },
    ]);
    for (const gone of ["192.0.2.100", "2001:db8::100", "192.0.2.5"])
      expect(findAddr(ns, "eth0", gone)).toBeUndefined();
    expect(findAddr(ns, "eth0", "198.51.100.10")).toBeDefined();
  });

  test("errors name the operation and the object", () => {
    const [noDev, v6peer] = ops(ns, [
      ["addAddress", { address: "192.0.2.1/24" }, "nope0"],
      ["addAddress", { address: "2001:db8::7/128", peer: "2001:db8::8" }, "eth0"],
    ]);
    expect(noDev).toEqual({
      ok: false,
      code: "E_INTERFACE",
      message: "add address 192.0.2.1/24 on nope0: no such interface",
    });
    // libnl 3.7 refuses IPv6 peers (rtnl_addr_set_peer): the message says where.
    expect(v6peer).toMatchObject({ ok: false, code: "E_INTERFACE" });
    expect((v6peer as { message: string }).message).toStartWith(
      "add address 2001:db8::7/128 on eth0 peer 2001:db8::8: ",
    );
  });

  test.skipIf(!which("setpriv"))("without CAP_NET_ADMIN: E_NOT_ROOT, reads still work", () => {
    const driver = `${REPO}/test/io/drivers/netlink-ops.ts`;
    const calls = [
      ["addAddress", { address: "192.0.2.1/24" }, "eth0"],
      ["linkInfo", "eth0"],
    ];
    const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
    const r = run(ns.exec([...nobody, process.execPath, driver, JSON.stringify(calls)]), {
      env: { HOME: "/tmp" },
    });
    const [add, info] = JSON.parse(r.stdout) as { ok: boolean; code?: string; message?: string }[];
    expect(add).toEqual({
      ok: false,
      code: "E_NOT_ROOT",
      message: "add address 192.0.2.1/24 on eth0: Operation not permitted (needs CAP_NET_ADMIN)",
    });
    expect(info).toMatchObject({ ok: true });
  });
});
