/**
 * Links through libnl in a namespace of our own (link info, the VMAC macvlan, up, delete),
 * checked against `ip -j -d link`; the link monitor's events and their latency; and the
 * notification decoder on hand-made bytes (no root needed).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeNotifications } from "../../src/io/link-events.ts";
import { vrrpMac } from "../../src/io/netlink.ts";
import { missing, REPO, run } from "../helpers/env.ts";
import { Netns } from "../helpers/netns.ts";
import { ipJson, op, ops } from "./drivers/netlink-client.ts";

type IpLink = Record<string, unknown> & {
  ifindex: number;
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  operstate: string;
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
  inet6_addr_gen_mode?: string;
};

/** An RTM_NEWLINK for ifindex 7 "eth7", flags UP|LOWER_UP|RUNNING, operstate up. */
function newlinkBytes(): Uint8Array {
  const b = new Uint8Array(16 + 16 + 12 + 8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, b.length, true);
  dv.setUint16(4, 16, true); // RTM_NEWLINK
  dv.setInt32(16 + 4, 7, true);
  dv.setUint32(16 + 8, 0x1 | 0x40 | 0x10000, true);
  dv.setUint32(16 + 12, 0x1, true);
  dv.setUint16(32, 9, true); // IFLA_IFNAME, "eth7\0" → len 9, padded to 12
  dv.setUint16(34, 3, true);
  b.set(new TextEncoder().encode("eth7\0"), 36);
  dv.setUint16(44, 5, true); // IFLA_OPERSTATE, u8 6 (up)
  dv.setUint16(46, 16, true);
  b[48] = 6;
  return b;
}

describe("notification decoder", () => {
  test("RTM_NEWLINK", () => {
    expect(decodeNotifications(newlinkBytes())).toEqual([
      {
        kind: "link",
        action: "new",
        ifindex: 7,
        ifname: "eth7",
        flags: 0x10041,
        change: 1,
        up: true,
        running: true,
        lowerUp: true,
        operstate: "up",
      },
    ]);
  });

  test("a truncated message yields nothing rather than throwing", () => {
    const b = newlinkBytes();
    expect(decodeNotifications(b.subarray(0, 20))).toEqual([]);
  });

  test("vrrpMac is RFC 5798 §7.3", () => {
    expect(vrrpMac(51, 4)).toBe("00:00:5e:00:01:33");
    expect(vrrpMac(255, 6)).toBe("00:00:5e:00:02:ff");
  });
});

const why = missing({ root: true, commands: ["ip"] });
if (why) process.stderr.write(`netlink-link: skipping namespace tests: ${why}\n`);

/** Why the macvlan test cannot run: the kernel has no macvlan driver, or we are not root. */
function macvlanMissing(): string | undefined {
  if (why) return why;
  const probe = new Netns("mvp").create().addInterface("eth0");
  try {
    const r = run([
      "ip",
      "-n",
      probe.name,
      "link",
      "add",
      "link",
      "eth0",
      "mv0",
      "type",
      "macvlan",
    ]);
    return r.code === 0 ? undefined : `kernel lacks macvlan (${r.stderr.trim()})`;
  } finally {
    probe.remove();
  }
}
const noMacvlan = macvlanMissing();
if (noMacvlan && !why) process.stderr.write(`netlink-link: skipping macvlan: ${noMacvlan}\n`);

describe.skipIf(why !== undefined)(`links${why ? ` (skipped: ${why})` : ""}`, () => {
  let ns: Netns;
  const link = (name: string) => ipJson<IpLink[]>(ns, "-d", "link", "show", name)[0];
  beforeAll(() => {
    ns = new Netns("nll").create().addInterface("eth0");
  });
  afterAll(() => ns?.remove());

  test("linkInfo matches ip link; a missing link is null", () => {
    const [info, none] = ops(ns, [
      ["linkInfo", "eth0"],
      ["linkInfo", "nope0"],
    ]);
    const k = link("eth0")!;
    expect(info).toEqual({
      ok: true,
      value: {
        ifindex: k.ifindex,
        name: "eth0",
        mac: k.address,
        up: true,
        running: false, // the veth peer is down: no carrier
        lowerUp: false,
        operstate: k.operstate.toLowerCase(),
        mtu: k.mtu,
        kind: "veth",
        parentIfindex: expect.any(Number),
        flags: expect.any(Number),
      },
    });
    expect(none).toEqual({ ok: true, value: null });
  });

  test.skipIf(noMacvlan !== undefined)(
    `VMAC: macvlan private with the VRRP MAC on a veth parent${noMacvlan ? ` (skipped: ${noMacvlan})` : ""}`,
    () => {
      const spec = { parent: "eth0", name: "vrrp.51", mac: vrrpMac(51, 4), mode: "private" };
      const res = ops(ns, [
        ["createMacvlan", spec],
        ["createMacvlan", spec],
        ["createMacvlan", { ...spec, mac: "00:00:5e:00:01:34" }],
        ["setLinkUp", "vrrp.51"],
        ["setLinkUp", "vrrp.51"],
        ["linkInfo", "vrrp.51"],
      ]);
      expect(res.slice(0, 2).map((x) => x.ok && x.value)).toEqual([
        { changed: true },
        { changed: false, reason: "present" },
      ]);
      expect(res[2]).toMatchObject({ ok: false, code: "E_INTERFACE" });
      expect((res[2] as { message: string }).message).toContain("already exists as a different");
      expect(res.slice(3, 5).map((x) => x.ok && x.value)).toEqual([
        { changed: true },
        { changed: false, reason: "already" },
      ]);
      const k = link("vrrp.51")!;
      expect(k).toMatchObject({
        ifname: "vrrp.51",
        link: "eth0",
        address: "00:00:5e:00:01:33",
        linkinfo: { info_kind: "macvlan", info_data: { mode: "private" } },
      });
      expect(k.flags).toContain("UP");
      expect(res[5]).toMatchObject({
        ok: true,
        value: { kind: "macvlan", macvlanMode: "private", up: true, mac: "00:00:5e:00:01:33" },
      });
    },
  );

  test.skipIf(noMacvlan !== undefined)("IPv6 VMAC without a kernel link-local", () => {
    const spec = { parent: "eth0", name: "vrrp6.51", mac: vrrpMac(51, 6), mode: "private" };
    expect(op(ns, "createMacvlan", { ...spec, ipv6AddrGenNone: true })).toEqual({ changed: true });
    expect(link("vrrp6.51")).toMatchObject({
      address: "00:00:5e:00:02:33",
      inet6_addr_gen_mode: "none",
    });
  });

  test.skipIf(noMacvlan !== undefined)("deleteLink: guarded by kind, idempotent", () => {
    const res = ops(ns, [
      ["deleteLink", "eth0", { kind: "macvlan" }],
      ["deleteLink", "vrrp.51", { kind: "macvlan" }],
      ["deleteLink", "vrrp.51", { kind: "macvlan" }],
      ["deleteLink", "vrrp6.51"],
    ]);
    expect(res[0]).toEqual({
      ok: false,
      code: "E_INTERFACE",
      message: "delete link eth0: it is veth, not macvlan; not deleting it",
    });
    expect(res.slice(1).map((x) => x.ok && x.value)).toEqual([
      { changed: true },
      { changed: false, reason: "absent" },
      { changed: true },
    ]);
    expect(
      ipJson<IpLink[]>(ns, "link")
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(["eth0", "eth0p", "lo"]);
  });

  test("link monitor: down, up and address events from `ip` changes", async () => {
    const driver = `${REPO}/test/io/drivers/link-monitor.ts`;
    const proc = Bun.spawn(ns.exec([process.execPath, driver, "watch"]), {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const lines = new LineReader(proc.stdout);
    try {
      await lines.next((o) => o.event === "ready");
      const eth0 = (up: boolean) => (o: Record<string, unknown>) =>
        o.event === "link" && o.ifname === "eth0" && o.up === up;
      ns.ip("link", "set", "eth0", "down");
      expect(await lines.next(eth0(false))).toMatchObject({ action: "new", operstate: "down" });
      ns.ip("link", "set", "eth0", "up");
      expect(await lines.next(eth0(true))).toMatchObject({ action: "new", up: true });
      ns.ip("addr", "add", "192.0.2.77/24", "dev", "eth0");
      const added = await lines.next((o) => o.event === "addr" && o.action === "new");
      expect(added).toMatchObject({ family: 4, address: "192.0.2.77/24", label: "eth0" });
      ns.ip("addr", "add", "2001:db8::77/64", "dev", "eth0", "nodad");
      const v6 = await lines.next((o) => o.event === "addr" && o.family === 6);
      expect(v6).toMatchObject({ action: "new", address: "2001:db8::77/64" });
      ns.ip("addr", "del", "192.0.2.77/24", "dev", "eth0");
      const deleted = await lines.next((o) => o.event === "addr" && o.action === "del");
      expect(deleted).toMatchObject({ family: 4, address: "192.0.2.77/24" });
    } finally {
      proc.stdin.end();
      await proc.exited;
    }
    expect(proc.exitCode).toBe(0);
  });

  test("link monitor latency: change → callback", () => {
    const driver = `${REPO}/test/io/drivers/link-monitor.ts`;
    const r = run(ns.exec([process.execPath, driver, "measure", "20"]));
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as Record<string, { medianMs: number; maxMs: number }>;
    process.stderr.write(`link-monitor latency (ms): ${JSON.stringify(m)}\n`);
    // Generous bounds: this proves events arrive promptly, the numbers go in the report.
    expect(m.fromCall!.medianMs).toBeLessThan(20);
    expect(m.fromIpSpawn!.medianMs).toBeLessThan(100);
  });
});

/** JSON lines from a child's stdout, awaited by predicate with a bound (never a sleep). */
class LineReader {
  private buf = "";
  private seen: Record<string, unknown>[] = [];
  private waiters: {
    pred: (o: Record<string, unknown>) => boolean;
    resolve: (o: Record<string, unknown>) => void;
  }[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    void this.pump(stream);
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      this.buf += dec.decode(chunk, { stream: true });
      let nl = this.buf.indexOf("\n");
      while (nl >= 0) {
        const o = JSON.parse(this.buf.slice(0, nl)) as Record<string, unknown>;
        this.buf = this.buf.slice(nl + 1);
        this.seen.push(o);
        const w = this.waiters.find((x) => x.pred(o));
        if (w) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(o);
        }
        nl = this.buf.indexOf("\n");
      }
    }
  }

  /** The first line (already seen or still to come) matching `pred`, within `ms`. */
  next(pred: (o: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>> {
    const i = this.seen.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.seen.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line within ${ms} ms`)), ms);
      this.waiters.push({
        pred,
        resolve: (o) => {
          clearTimeout(timer);
          this.seen.splice(this.seen.indexOf(o), 1);
          resolve(o);
        },
      });
    });
  }
}
